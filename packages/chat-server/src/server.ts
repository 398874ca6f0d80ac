import { HttpError } from '@lead-intake/errors';
import {
  ConflictError,
  InvalidRequestError,
  isHidden,
  isStreaming,
  NotFoundError,
  NotSupportedError,
  parseRequest,
  ProtocolError,
  DEFAULT_PAGE_SIZE,
  type AssistantMessageItem,
  type Attachment,
  type ChatKitRequest,
  type JsonRequest,
  type Page,
  type StreamingRequest,
  type ThreadItem,
  type ThreadMetadata,
  type ThreadResponse,
  type ThreadStreamEvent,
  type UserMessageInput,
  type UserMessageItem,
} from '@lead-intake/chatkit-protocol';
import type { ChatStore } from '@lead-intake/thread-store';
import { KnownThreads } from './known-threads';
import type { Responder } from './turn';

/**
 * The ChatKit custom-server protocol (docs/chatkit-protocol.md): `process()` parses and routes one
 * request and answers either JSON or a stream of events. Everything that can refuse a request
 * (validation, the thread's owner, the turn gate) runs before a stream starts, so refusals are
 * HTTP statuses as with the official server; once streaming, failures are `error` events. Items
 * are persisted in one place (`pump`), on `thread.item.done`.
 */

export type ChatAnswer = { kind: 'json'; status: number; body: unknown } | { kind: 'stream'; events: AsyncIterable<ThreadStreamEvent> };

export interface RequestContext {
  /** From the client token: the only thing that scopes threads. */
  user: string;
  /** Aborted when the client goes away (the Stop button closes the stream). */
  signal: AbortSignal;
  locale?: string;
  pageUrl?: string;
}

/** Admits or refuses a model turn before the model is called (rate limits, the daily model-call ceiling). */
export interface TurnGate {
  admit(user: string): Promise<GateVerdict>;
  /** Gives back an admission whose turn did not happen after all (its thread was not found). */
  refund(user: string): Promise<void>;
}
export type GateVerdict = { ok: true } | { ok: false; reason: string; message: string };

export interface ChatServerDeps {
  store: ChatStore;
  responder: Responder;
  gate?: TurnGate;
  /** How many recent items the model sees. */
  historyItems?: number;
  /** The store's retention (days): a thread that is written to has its retention restarted, at most daily. */
  retentionDays?: number;
  /** The instance's cache of thread owners (one per server unless a test shares one). */
  knownThreads?: KnownThreads;
  now?: () => Date;
  /** An unexpected failure (never a refusal): the stage and the error, for logs and metrics. */
  onError?: (stage: string, error: unknown) => void;
  /** A turn was refused by the gate. */
  onRefused?: (reason: string) => void;
  /** A model turn ended: `outcome` is done, cancelled or failed. */
  onTurn?: (outcome: 'done' | 'cancelled' | 'failed') => void;
}

const CANCELLED_NOTE = 'The user cancelled the stream. Stop responding to the prior request.';

/** What the client sees of a thread: never the private metadata, never hidden items. */
export function threadResponse(t: ThreadMetadata, items: Page<ThreadItem> = { data: [], has_more: false }): ThreadResponse {
  return {
    id: t.id,
    ...(typeof t.title === 'string' ? { title: t.title } : {}),
    created_at: t.created_at,
    status: t.status,
    ...(t.allowed_image_domains ? { allowed_image_domains: t.allowed_image_domains } : {}),
    metadata: {},
    items: { ...items, data: items.data.filter((i) => !isHidden(i)) },
  };
}

export class ChatKitServer {
  private readonly known: KnownThreads;

  constructor(private readonly deps: ChatServerDeps) {
    this.known = deps.knownThreads ?? new KnownThreads();
  }

  private now(): Date {
    return (this.deps.now ?? (() => new Date()))();
  }

  private get historyItems(): number {
    return this.deps.historyItems ?? 30;
  }

  /** Handles one request body. Never throws: every failure is an answer. */
  async process(body: unknown, ctx: RequestContext): Promise<ChatAnswer> {
    let req: ChatKitRequest | undefined;
    try {
      req = parseRequest(body);
      if (isStreaming(req)) return { kind: 'stream', events: await this.prepareStream(req, ctx) };
      return { kind: 'json', status: 200, body: await this.json(req, ctx) };
    } catch (e) {
      if (e instanceof TurnRefused) return { kind: 'stream', events: once(refusal(e)) };
      if (e instanceof ProtocolError) return { kind: 'json', status: e.statusCode, body: { error: e.message, code: e.code } };
      this.deps.onError?.(req?.type ?? 'parse', e);
      return { kind: 'json', status: 500, body: { error: 'Internal error.', code: 'internal_error' } };
    }
  }

  private async json(req: JsonRequest, ctx: RequestContext): Promise<unknown> {
    const { store } = this.deps;
    const { user } = ctx;
    switch (req.type) {
      case 'threads.get_by_id': {
        const [thread, items] = await Promise.all([
          store.loadThread(req.params.thread_id, user),
          store.loadThreadItems(req.params.thread_id, { order: 'asc', limit: DEFAULT_PAGE_SIZE }),
        ]);
        return threadResponse(thread, items);
      }
      case 'threads.list': {
        const page = await store.loadThreads(user, req.params);
        return { ...page, data: page.data.map((t) => threadResponse(t)) };
      }
      case 'threads.update': {
        const thread = await store.loadThread(req.params.thread_id, user);
        thread.title = req.params.title;
        await store.saveThread(thread, user);
        return threadResponse(thread);
      }
      case 'threads.delete':
        this.known.forget(req.params.thread_id);
        await store.deleteThread(req.params.thread_id, user);
        return {};
      case 'items.list': {
        // The owner check and the page are read together; the page is only answered for the owner.
        const { thread_id, ...page } = req.params;
        const [, items] = await Promise.all([store.loadThread(thread_id, user), store.loadThreadItems(thread_id, page)]);
        return items;
      }
      case 'items.feedback':
        await store.loadThread(req.params.thread_id, user);
        await store.setFeedback(req.params.thread_id, req.params.item_ids, req.params.kind);
        return {};
      case 'threads.sync_custom_action':
        await store.loadThread(req.params.thread_id, user);
        throw new NotSupportedError('This server has no widget actions.');
      case 'attachments.create':
      case 'attachments.delete':
        throw new NotSupportedError('Attachments are not supported by this server yet.');
      case 'input.transcribe':
        throw new NotSupportedError('Dictation is not supported by this server.');
    }
  }

  /** Everything that can refuse the request runs here, before the stream starts. */
  private async prepareStream(req: StreamingRequest, ctx: RequestContext): Promise<AsyncIterable<ThreadStreamEvent>> {
    const { store } = this.deps;
    const { user } = ctx;
    switch (req.type) {
      case 'threads.create': {
        const now = this.now().toISOString();
        const thread: ThreadMetadata = {
          id: store.generateThreadId(),
          created_at: now,
          status: { type: 'active' },
          title: null,
          metadata: this.visit(ctx),
        };
        const message = this.userMessage(thread.id, req.params.input, await this.attachments(req.params.input.attachments, ctx.user));
        return this.newThreadTurn(thread, message, ctx);
      }
      case 'threads.add_user_message':
        return this.addMessageTurn(req.params.thread_id, req.params.input, ctx);
      case 'threads.retry_after_item': {
        const [thread, item] = await Promise.all([
          store.loadThread(req.params.thread_id, user),
          store.loadItem(req.params.thread_id, req.params.item_id),
        ]);
        if (item.type !== 'user_message') throw new InvalidRequestError(`Item ${item.id} is not a user message.`);
        this.assertWritable(thread);
        // A retry deletes the later items: decided before anything is deleted.
        await this.admit(user);
        return this.retryTurn(thread, item, ctx);
      }
      case 'threads.custom_action': {
        const thread = await store.loadThread(req.params.thread_id, user);
        const sender = req.params.item_id ? await store.loadItem(thread.id, req.params.item_id) : null;
        // As the official server: a sender that is not a widget is a stream error; without an
        // action handler, any action is one after the stream options.
        if (sender && sender.type !== 'widget') return once({ type: 'error', code: 'stream.error', allow_retry: false });
        return once(
          { type: 'stream_options', stream_options: { allow_cancel: true } },
          { type: 'error', code: 'stream.error', allow_retry: true },
        );
      }
      case 'threads.add_client_tool_output': {
        await store.loadThread(req.params.thread_id, user);
        throw new InvalidRequestError('The thread has no pending client tool call.');
      }
      case 'threads.add_structured_input': {
        await store.loadThread(req.params.thread_id, user);
        const item = await store.loadItem(req.params.thread_id, req.params.item_id);
        throw new InvalidRequestError(`Item ${item.id} is not a pending structured input.`);
      }
    }
  }

  private visit(ctx: RequestContext): ThreadMetadata['metadata'] {
    return { ...(ctx.pageUrl ? { page_url: ctx.pageUrl } : {}), ...(ctx.locale ? { locale: ctx.locale } : {}) };
  }

  /** The gate's decision, started now and awaited later: it runs beside the turn's reads and writes. */
  private admit(user: string): Promise<void> {
    if (!this.deps.gate) return Promise.resolve();
    const decided = this.deps.gate.admit(user).then((verdict) => {
      if (!verdict.ok) {
        this.deps.onRefused?.(verdict.reason);
        throw new TurnRefused(verdict.message);
      }
    });
    decided.catch(() => undefined); // observed by the turn
    return decided;
  }

  /** A turn that will not happen gives its admission back (best effort; never fails the answer). */
  private async unadmit(gate: Promise<void>, user: string): Promise<void> {
    if (!this.deps.gate) return;
    const admitted = await gate.then(
      () => true,
      () => false,
    );
    if (admitted) await this.deps.gate.refund(user).catch((e) => this.deps.onError?.('refund', e));
  }

  private assertWritable(thread: ThreadMetadata): void {
    if (thread.status.type !== 'active') throw new ConflictError(`The thread is ${thread.status.type}.`);
  }

  /** The attachments a message names, each the user's own (until attachments are served, none exist). */
  private async attachments(ids: string[], _user: string): Promise<Attachment[]> {
    if (ids.length) throw new NotFoundError(`attachment ${ids[0]!.slice(0, 80)}`);
    return [];
  }

  private userMessage(threadId: string, input: UserMessageInput, attachments: Attachment[]): UserMessageItem {
    return {
      id: this.deps.store.generateItemId('message'),
      thread_id: threadId,
      created_at: this.now().toISOString(),
      type: 'user_message',
      content: input.content,
      attachments: attachments.map((a) => ({ ...a, thread_id: threadId })),
      ...(input.quoted_text ? { quoted_text: input.quoted_text } : {}),
      inference_options: input.inference_options,
    };
  }

  private async newThreadTurn(
    thread: ThreadMetadata,
    message: UserMessageItem,
    ctx: RequestContext,
  ): Promise<AsyncIterable<ThreadStreamEvent>> {
    const { store } = this.deps;
    const self = this;
    const gate = this.admit(ctx.user);
    return (async function* () {
      // A new thread is this user's by construction: its first message is written alongside it,
      // while the gate decides.
      const written = store.addThreadItem(thread.id, message);
      written.catch(() => undefined);
      const saved = store.saveThread(thread, ctx.user);
      saved.catch(() => undefined);
      const undo = async () => {
        // Without its thread the message is unreachable, and a refused turn leaves nothing.
        await written.then(() => store.deleteThreadItem(thread.id, message.id)).catch(() => undefined);
        await saved.then(() => store.deleteThread(thread.id, ctx.user)).catch(() => undefined);
      };
      try {
        await saved;
        await gate;
      } catch (e) {
        await undo();
        if (!(e instanceof TurnRefused)) await self.unadmit(gate, ctx.user);
        yield e instanceof TurnRefused ? refusal(e) : self.failure('threads.create', e);
        return;
      }
      self.known.remember(thread.id, ctx.user);
      yield { type: 'thread.created', thread: threadResponse(thread) } as ThreadStreamEvent;
      yield* self.turn(thread, [message], message, written, ctx, { expiresAt: undefined }, null); // admitted above
    })();
  }

  private async addMessageTurn(threadId: string, input: UserMessageInput, ctx: RequestContext): Promise<AsyncIterable<ThreadStreamEvent>> {
    const { store } = this.deps;
    const message = this.userMessage(threadId, input, await this.attachments(input.attachments, ctx.user));
    // On a thread this instance knows to be the user's, the message is written while the thread
    // and its history are read (and the gate asked); otherwise the read proves ownership first.
    const early = this.known.isOwner(threadId, ctx.user);
    let written: Promise<unknown> | undefined = early ? store.addThreadItem(threadId, message) : undefined;
    written?.catch(() => undefined);
    let loaded;
    try {
      loaded = await store.loadThreadWithRecentItems(threadId, ctx.user, this.historyItems);
      this.assertWritable(loaded.thread);
    } catch (e) {
      if (early) {
        this.known.forget(threadId);
        await written!.then(() => store.deleteThreadItem(threadId, message.id)).catch(() => undefined);
      }
      throw e;
    }
    this.known.remember(threadId, ctx.user);
    written ??= store.addThreadItem(threadId, message);
    written.catch(() => undefined);
    const { thread } = loaded;
    const before = JSON.stringify(thread.metadata);
    // The customer's page and locale follow the latest visit (saved with the thread after the turn).
    thread.metadata = { ...thread.metadata, ...this.visit(ctx) };
    const history = [...loaded.items.filter((i) => i.id !== message.id), message];
    // The gate is asked once the message is stored: on the first event's path it would only
    // contend with the read and the write (DynamoDB Local serializes writes); a refusal then takes
    // the message back.
    return this.turn(thread, history, message, written, ctx, { expiresAt: loaded.expiresAt, metadataChanged: before }, () =>
      this.admit(ctx.user),
    );
  }

  private async retryTurn(
    thread: ThreadMetadata,
    message: UserMessageItem,
    ctx: RequestContext,
  ): Promise<AsyncIterable<ThreadStreamEvent>> {
    const { store } = this.deps;
    // Everything newer than the message goes (hidden notes too); no removal events, as the official server.
    for (;;) {
      const page = await store.loadThreadItems(thread.id, { order: 'asc', after: message.id, limit: 100, includeHidden: true });
      await Promise.all(page.data.map((i) => store.deleteThreadItem(thread.id, i.id)));
      if (!page.has_more) break;
    }
    const history = (
      await store.loadThreadItems(thread.id, { order: 'desc', limit: this.historyItems, includeHidden: true })
    ).data.reverse();
    return this.turn(thread, history, message, null, ctx, { expiresAt: undefined }, null);
  }

  /**
   * One model turn: `thread.item.done` for the user message once it is stored (not for a retry),
   * then the stream options and the answer. A turn not yet admitted (`admit`) asks the gate once
   * its message is stored and announced; if the gate refuses, the message is removed again
   * (`thread.item.removed`) and the refusal follows. The model is asked after the message's event
   * has gone out: preparing the request (the shop state, the input) takes about a millisecond of
   * CPU, which must not delay the first event.
   */
  private async *turn(
    thread: ThreadMetadata,
    history: ThreadItem[],
    message: UserMessageItem,
    written: Promise<unknown> | null,
    ctx: RequestContext,
    state: { expiresAt?: number; metadataChanged?: string },
    admit: (() => Promise<void>) | null,
  ): AsyncGenerator<ThreadStreamEvent> {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const start = () =>
        this.deps.responder.start({
          thread,
          history: history.slice(-this.historyItems),
          locale: ctx.locale,
          pageUrl: ctx.pageUrl,
          signal: stop.signal,
        });
      if (written) {
        try {
          await written; // the user message is stored before anything about it is sent
        } catch (e) {
          stop.abort();
          yield this.failure('write user message', e);
          return;
        }
        yield { type: 'thread.item.done', item: message };
      }
      const answer = (admit ? admit() : Promise.resolve()).then(start);
      let events: AsyncIterable<ThreadStreamEvent>;
      try {
        events = await answer;
      } catch (e) {
        if (!(e instanceof TurnRefused)) throw e;
        await this.deps.store.deleteThreadItem(thread.id, message.id).catch((err) => this.deps.onError?.('remove refused message', err));
        yield { type: 'thread.item.removed', item_id: message.id };
        yield refusal(e);
        return;
      }
      yield* this.pump(thread, events, ctx, stop.signal, message);
      await this.afterTurn(thread, ctx.user, state);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Forwards the responder's events and persists them (chatkit/server.py `_process_events`):
   * `done` is stored, `replaced` upserted, `removed` deleted; hidden items are stored but never
   * sent. A stream the client closed keeps the partial answer and a hidden note for the model.
   */
  private async *pump(
    thread: ThreadMetadata,
    events: AsyncIterable<ThreadStreamEvent>,
    ctx: RequestContext,
    signal: AbortSignal,
    message: UserMessageItem,
  ): AsyncGenerator<ThreadStreamEvent> {
    const { store } = this.deps;
    yield { type: 'stream_options', stream_options: { allow_cancel: true } };
    const pending = new Map<string, AssistantMessageItem>();
    try {
      for await (const ev of events) {
        if (signal.aborted) break;
        if (ev.type === 'thread.item.added' && ev.item.type === 'assistant_message') pending.set(ev.item.id, structuredClone(ev.item));
        else if (ev.type === 'thread.item.updated') applyUpdate(pending.get(ev.item_id), ev.update);
        else if (ev.type === 'thread.item.done') {
          await store.addThreadItem(thread.id, ev.item);
          pending.delete(ev.item.id);
          if (isHidden(ev.item)) continue;
        } else if (ev.type === 'thread.item.replaced') await store.saveItem(thread.id, ev.item);
        else if (ev.type === 'thread.item.removed') await store.deleteThreadItem(thread.id, ev.item_id);
        yield ev;
      }
    } catch (e) {
      if (!signal.aborted) {
        this.deps.onTurn?.('failed');
        yield this.failure('respond', e);
        return;
      }
    }
    if (signal.aborted) {
      await this.cancelled(thread, [...pending.values()]).catch((e) => this.deps.onError?.('cancel', e));
      this.deps.onTurn?.('cancelled');
      return;
    }
    this.deps.onTurn?.('done');
    if (thread.title === null || thread.title === undefined) {
      thread.title = titleFrom(message);
      try {
        await store.saveThread(thread, ctx.user);
      } catch (e) {
        yield this.failure('title', e);
        return;
      }
      yield { type: 'thread.updated', thread: threadResponse(thread) };
    }
  }

  /** The Stop button: keep what was said, and tell the model it was cut off (as the official server). */
  private async cancelled(thread: ThreadMetadata, pending: AssistantMessageItem[]): Promise<void> {
    const { store } = this.deps;
    for (const item of pending) if (item.content.some((c) => c.text.trim())) await store.addThreadItem(thread.id, item);
    await store.addThreadItem(thread.id, {
      id: store.generateItemId('sdk_hidden_context'),
      thread_id: thread.id,
      created_at: this.now().toISOString(),
      type: 'sdk_hidden_context',
      content: CANCELLED_NOTE,
    });
  }

  /** After the last event: save a changed visit, restart the retention at most daily. Never fails the turn. */
  private async afterTurn(thread: ThreadMetadata, user: string, state: { expiresAt?: number; metadataChanged?: string }): Promise<void> {
    const { store, retentionDays } = this.deps;
    try {
      if (state.metadataChanged !== undefined && state.metadataChanged !== JSON.stringify(thread.metadata))
        await store.saveThread(thread, user);
      const nowSec = Math.floor(this.now().getTime() / 1000);
      if (retentionDays && state.expiresAt !== undefined && state.expiresAt < nowSec + retentionDays * 86400 - 86400)
        await store.refreshRetention(thread.id);
    } catch (e) {
      this.deps.onError?.('after turn', e);
    }
  }

  private failure(stage: string, e: unknown): ThreadStreamEvent {
    if (e instanceof ProtocolError) return { type: 'error', code: 'custom', message: e.message, allow_retry: false };
    this.deps.onError?.(stage, e);
    return { type: 'error', code: 'stream.error', allow_retry: true };
  }
}

/** The gate refused the turn: answered as a stream with one `error` event (the client shows the message). */
export class TurnRefused extends HttpError {
  constructor(readonly userMessage: string) {
    super(429, userMessage, 'turn_refused', {}, { expose: true });
  }
}

const refusal = (e: TurnRefused): ThreadStreamEvent => ({ type: 'error', code: 'custom', message: e.userMessage, allow_retry: true });

async function* once(...events: ThreadStreamEvent[]): AsyncGenerator<ThreadStreamEvent> {
  yield* events;
}

function applyUpdate(
  item: AssistantMessageItem | undefined,
  update: Extract<ThreadStreamEvent, { type: 'thread.item.updated' }>['update'],
): void {
  if (!item) return;
  while (item.content.length <= update.content_index) item.content.push({ type: 'output_text', text: '', annotations: [] });
  if (update.type === 'assistant_message.content_part.text_delta') item.content[update.content_index]!.text += update.delta;
  else if (update.type === 'assistant_message.content_part.added' || update.type === 'assistant_message.content_part.done')
    item.content[update.content_index] = structuredClone(update.content);
}

function titleFrom(message: UserMessageItem): string {
  const text = message.content
    .map((c) => c.text)
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!text)
    return (
      message.attachments
        .map((a) => a.name)
        .join(', ')
        .slice(0, 60) || 'New conversation'
    );
  return text.length <= 60 ? text : `${text.slice(0, 59).trimEnd()}…`;
}
