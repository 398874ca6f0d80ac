import {
  ConflictError,
  InvalidRequestError,
  NotFoundError,
  NotSupportedError,
  type CustomActionParams,
  userMessageItem,
  type Attachment,
  type StreamingRequest,
  type ThreadItem,
  type ThreadMetadata,
  type ThreadStreamEvent,
  type UserMessageInput,
  type UserMessageItem,
} from '@lead-intake/chatkit-protocol';
import { failureEvent, nowOf, refusal, threadResponse, TurnRefused, type ChatServerDeps, type RequestContext } from './context';
import { derivedItemId } from '@lead-intake/thread-store';
import type { Attachments } from './attachments';
import { answerStructuredInput } from './intake/structured';
import type { KnownThreads } from './known-threads';
import { fixedAnswer, persistAnswer, titled, titleFrom } from './persist';

/** An action decided and recorded: the events it streams, the item it saves, the acknowledgement it calls for (null: none). */
interface ActionPlan {
  thread: ThreadMetadata;
  events: ThreadStreamEvent[];
  save: ThreadItem;
  acknowledge: string | null;
}

/**
 * Work started now and awaited later (the gate beside the reads, a write beside the history): it
 * is marked observed so that a failure before the await is never an unhandled rejection.
 */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** One model turn, as planned by the request that starts it. */
interface TurnPlan {
  thread: ThreadMetadata;
  /** What the model sees (the message last). */
  history: ThreadItem[];
  message: UserMessageItem;
  /** The user message's write, awaited before its `done` event; null: stored already (a retry). */
  written: Promise<unknown> | null;
  /** The thread's retention, and its visit before this turn (to save a changed one after it). */
  state: { expiresAt?: number; metadataChanged?: string };
  /** The gate, asked (or awaited) once the message is announced; null: admitted already. */
  admit: (() => Promise<void>) | null;
  /**
   * The model is asked beside the gate, not after it (a thread this instance knows, a gate that
   * expects to admit): a refusal then cancels the request before anything of it is shown, stored or counted.
   */
  speculate?: boolean;
  /** A new thread's first turn (its title was written with the thread: announced after the answer). */
  newThread?: boolean;
}

/**
 * The streamed requests: a model turn on a new thread, on a new message, or after a retry (and
 * the streamed requests this server refuses). Everything that can refuse the request runs in
 * `start`, before the stream starts; then the turn: the user message stored and announced, the
 * gate, the responder's answer through `persistAnswer` (./persist.ts), the visit saved.
 */
export class Turns {
  constructor(
    private readonly deps: ChatServerDeps,
    private readonly known: KnownThreads,
    private readonly files: Attachments,
  ) {}

  private get historyItems(): number {
    return this.deps.historyItems ?? 30;
  }

  /** Everything that can refuse the request runs here, before the stream starts. */
  async start(req: StreamingRequest, ctx: RequestContext): Promise<AsyncIterable<ThreadStreamEvent>> {
    const { store } = this.deps;
    const { user } = ctx;
    switch (req.type) {
      case 'threads.create': {
        const now = nowOf(this.deps).toISOString();
        const thread: ThreadMetadata = {
          id: store.generateThreadId(),
          created_at: now,
          status: { type: 'active' },
          title: null,
          metadata: this.visit(ctx),
        };
        // A new thread is the user's by construction: its attachments are checked before anything is
        // written, and attached only once the turn is admitted (a refused turn never burns them).
        const files = await this.files.resolve(req.params.input.attachments, ctx.user, thread.id);
        const message = this.userMessage(thread.id, req.params.input, []);
        return this.newThreadTurn(thread, message, files, ctx);
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
        // A retry deletes the later items: decided before anything is deleted. (Refused, the
        // message is already stored: nothing is kept or answered anew.)
        await this.admit(ctx).catch((e) => {
          throw e instanceof TurnRefused ? new TurnRefused(e.userMessage) : e;
        });
        return this.retryTurn(thread, item, ctx);
      }
      case 'threads.custom_action':
        return this.actionTurn(await this.action(req.params, ctx), ctx);
      case 'threads.add_client_tool_output': {
        await store.loadThread(req.params.thread_id, user);
        throw new InvalidRequestError('The thread has no pending client tool call.');
      }
      case 'threads.add_structured_input': {
        const thread = await store.loadThread(req.params.thread_id, user);
        this.assertWritable(thread);
        const item = await store.loadItem(req.params.thread_id, req.params.item_id);
        const answered = answerStructuredInput(item, req.params.input);
        // Answered once: the first answer's receipt (an id derived from the item) is the guard a second one conflicts on.
        await store
          .addThreadItem(thread.id, {
            id: derivedItemId('shcx', item.id, 'answer'),
            thread_id: thread.id,
            created_at: nowOf(this.deps).toISOString(),
            type: 'sdk_hidden_context',
            content: 'The customer answered the question above.',
          })
          .catch((e) => {
            throw e instanceof ConflictError ? new InvalidRequestError(`Item ${item.id} is not a pending structured input.`) : e;
          });
        return this.actionTurn(
          { thread, events: [{ type: 'thread.item.replaced', item: answered }], save: answered, acknowledge: null },
          ctx,
        );
      }
    }
  }

  /**
   * A widget action, decided and recorded before the stream starts (so refusals are statuses): the
   * sender is read as the caller's (404 otherwise), its offer and payload checked (400), a request
   * recorded once (a second submit of the same form finds its record and changes nothing).
   */
  async action(params: CustomActionParams, ctx: RequestContext): Promise<ActionPlan> {
    const { store, profile } = this.deps;
    if (!profile) throw new NotSupportedError('This server has no widget actions.');
    const thread = await store.loadThread(params.thread_id, ctx.user);
    const sender = params.item_id ? await store.loadItem(thread.id, params.item_id) : null;
    // Loaded on the first action: the form's phone rule brings libphonenumber's metadata, which a
    // chat turn (the cold first answer) never needs.
    const { decideAction, outcomeEvents } = await import('./intake/actions');
    const outcome = decideAction(params, sender, {
      thread,
      profile,
      now: nowOf(this.deps),
      recordId: (id, what, ordinal) => derivedItemId('hcx', id, what, ordinal),
    });
    if (outcome.kind === 'replace') return { thread, events: outcomeEvents(outcome), save: outcome.item, acknowledge: null };
    try {
      await store.addThreadItem(thread.id, outcome.record);
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      // Recorded already (a double click, a retried request): the widget's new state, nothing more.
      return { thread, events: outcomeEvents(outcome), save: outcome.item, acknowledge: null };
    }
    this.deps.onAction?.(params.action.type);
    return { thread, events: outcomeEvents(outcome), save: outcome.item, acknowledge: outcome.acknowledge };
  }

  /**
   * An action's stream: the widget's new state (stored), then, for a recorded request, the
   * assistant's acknowledgement: the model's answer when the gate admits it (the rate limits and
   * the day's model calls apply as to messages), else the fixed text. The request stands either way.
   */
  private async actionTurn(plan: ActionPlan, ctx: RequestContext): Promise<AsyncIterable<ThreadStreamEvent>> {
    const self = this;
    const { store } = this.deps;
    const gate = plan.acknowledge ? this.admit(ctx) : null;
    return (async function* () {
      yield { type: 'stream_options', stream_options: { allow_cancel: true } } as ThreadStreamEvent;
      try {
        await store.saveItem(plan.thread.id, plan.save);
      } catch (e) {
        if (gate) await self.unadmit(gate, ctx);
        yield failureEvent(self.deps, 'action', e);
        return;
      }
      yield* plan.events;
      if (!gate || !plan.acknowledge) {
        // An answered (or skipped) question: the model goes on, as the official server's respond() after a submission.
        if (plan.save.type === 'structured_input') yield* self.answerTurn(plan.thread, ctx);
        return;
      }
      const admitted = await gate.then(
        () => true,
        () => false,
      );
      if (!admitted) {
        try {
          yield* fixedAnswer(self.deps, plan.thread.id, plan.acknowledge);
        } catch (e) {
          yield failureEvent(self.deps, 'acknowledge', e);
        }
        return;
      }
      yield* self.modelTurn(plan.thread, ctx, false);
    })();
  }

  /** After an answered question: the model continues the conversation (the gate as for a message). */
  private async *answerTurn(thread: ThreadMetadata, ctx: RequestContext): AsyncGenerator<ThreadStreamEvent> {
    try {
      await this.admit(ctx);
    } catch (e) {
      if (e instanceof TurnRefused && !e.keep) yield refusal(e);
      else if (e instanceof TurnRefused) yield* fixedAnswer(this.deps, thread.id, e.userMessage);
      else yield failureEvent(this.deps, 'gate', e);
      return;
    }
    yield* this.modelTurn(thread, ctx, true);
  }

  /** A model turn with no new user message (after an action): the recent items, hidden ones included, are its input. */
  private async *modelTurn(thread: ThreadMetadata, ctx: RequestContext, tools: boolean): AsyncGenerator<ThreadStreamEvent> {
    const { store } = this.deps;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    if (ctx.signal.aborted) stop.abort();
    try {
      const history = (
        await store.loadThreadItems(thread.id, { order: 'desc', limit: this.historyItems, includeHidden: true })
      ).data.reverse();
      const events = this.deps.responder.start({ thread, history, locale: ctx.locale, pageUrl: ctx.pageUrl, signal: stop.signal, tools });
      // The stream options went out first; persistAnswer sends them again only at its own start.
      let first = true;
      for await (const ev of persistAnswer(this.deps, thread, events, ctx, stop.signal, null)) {
        if (first && ev.type === 'stream_options') {
          first = false;
          continue;
        }
        first = false;
        yield ev;
      }
    } catch (e) {
      yield failureEvent(this.deps, 'action turn', e);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  private visit(ctx: RequestContext): ThreadMetadata['metadata'] {
    return { ...(ctx.pageUrl ? { page_url: ctx.pageUrl } : {}), ...(ctx.locale ? { locale: ctx.locale } : {}) };
  }

  /** The gate's decision, started now and awaited later: it runs beside the turn's reads and writes. */
  private admit(ctx: RequestContext): Promise<void> {
    if (!this.deps.gate) return Promise.resolve();
    return later(
      this.deps.gate.admit(ctx.user, ctx.network).then((verdict) => {
        if (!verdict.ok) {
          this.deps.onRefused?.(verdict.reason);
          throw new TurnRefused(verdict.message, verdict.keep === true);
        }
      }),
    );
  }

  /** A turn that will not happen gives its admission back (best effort; never fails the answer). */
  private async unadmit(gate: Promise<void>, ctx: RequestContext): Promise<void> {
    if (!this.deps.gate) return;
    const admitted = await gate.then(
      () => true,
      () => false,
    );
    if (admitted) await this.deps.gate.refund(ctx.user, ctx.network).catch((e) => this.deps.onError?.('refund', e));
  }

  private assertWritable(thread: ThreadMetadata): void {
    if (thread.status.type !== 'active') throw new ConflictError(`The thread is ${thread.status.type}.`);
  }

  private userMessage(threadId: string, input: UserMessageInput, attachments: Attachment[]): UserMessageItem {
    return userMessageItem({
      id: this.deps.store.generateItemId('message'),
      threadId,
      createdAt: nowOf(this.deps).toISOString(),
      content: input.content,
      attachments,
      quotedText: input.quoted_text,
      inferenceOptions: input.inference_options,
    });
  }

  private async newThreadTurn(
    thread: ThreadMetadata,
    message: UserMessageItem,
    files: Awaited<ReturnType<Attachments['resolve']>>,
    ctx: RequestContext,
  ): Promise<AsyncIterable<ThreadStreamEvent>> {
    const { store } = this.deps;
    const self = this;
    const gate = this.admit(ctx);
    return (async function* () {
      // A new thread is this user's by construction: it is written with its first message while
      // the gate decides; with photos, once the gate has let the turn through (or kept it).
      if (files.length) {
        const refused = await gate.then(
          () => null,
          (e) => e,
        );
        if (refused && !(refused instanceof TurnRefused && refused.keep)) {
          yield refused instanceof TurnRefused ? refusal(refused) : failureEvent(self.deps, 'threads.create', refused);
          return;
        }
        try {
          message.attachments = await self.files.attach(files, ctx.user, thread.id);
        } catch (e) {
          // Sent by another message meanwhile (409) or deleted (404): said in the stream, nothing written.
          if (!(refused instanceof TurnRefused)) await self.unadmit(gate, ctx);
          yield failureEvent(self.deps, 'attach', e);
          return;
        }
      }
      // The thread, its title (its first message) and that message in one write (both or neither).
      thread.title = titleFrom(message);
      const written = later(store.createThread(thread, ctx.user, message));
      const saved = written;
      // A refused turn leaves nothing (the delete takes the message with the thread).
      const undo = () =>
        saved.then(
          () => store.deleteThread(thread.id, ctx.user).catch((e) => self.deps.onError?.('undo new thread', e)),
          () => undefined, // never written
        );
      let kept: TurnRefused | null = null;
      try {
        await saved;
        await gate;
      } catch (e) {
        if (e instanceof TurnRefused && e.keep) kept = e;
        else {
          await undo();
          if (!(e instanceof TurnRefused)) await self.unadmit(gate, ctx);
          yield e instanceof TurnRefused ? refusal(e) : failureEvent(self.deps, 'threads.create', e);
          return;
        }
      }
      self.known.remember(thread.id, ctx.user);
      // Announced untitled, its title with `thread.updated` once answered: the official server's sequence.
      yield { type: 'thread.created', thread: threadResponse({ ...thread, title: null }) } as ThreadStreamEvent;
      // Admitted above (or kept: the turn then answers with the refusal's fixed text).
      yield* self.turn(
        {
          thread,
          history: [message],
          message,
          written,
          state: { expiresAt: undefined },
          admit: kept ? () => Promise.reject(kept) : null,
          newThread: true,
        },
        ctx,
      );
    })();
  }

  private async addMessageTurn(threadId: string, input: UserMessageInput, ctx: RequestContext): Promise<AsyncIterable<ThreadStreamEvent>> {
    const { store } = this.deps;
    // Attachments are checked before anything is written, and attached once the thread is proven the user's.
    const files = await this.files.resolve(input.attachments, ctx.user, threadId);
    const message = this.userMessage(threadId, input, []);
    // On a thread this instance knows to be the user's, the message is written while the thread
    // and its history are read (and the gate asked); otherwise the read proves ownership first.
    const early = this.known.isOwner(threadId, ctx.user) && !files.length;
    let written: Promise<unknown> | undefined = early ? later(store.addThreadItem(threadId, message)) : undefined;
    // With photos the gate decides first: a turn turned away never burns them (they stay the user's to send or delete).
    const gate = files.length ? this.admit(ctx) : undefined;
    let loaded;
    try {
      loaded = await store.loadThreadWithRecentItems(threadId, ctx.user, this.historyItems);
      this.assertWritable(loaded.thread);
    } catch (e) {
      if (early) {
        this.known.forget(threadId);
        await written!.then(
          () => store.deleteThreadItem(threadId, message.id).catch((err) => this.deps.onError?.('undo early write', err)),
          () => undefined, // never written (the thread is gone)
        );
      }
      if (gate) await this.unadmit(gate, ctx);
      throw e;
    }
    this.known.remember(threadId, ctx.user);
    if (gate) {
      const refused = await gate.then(
        () => null,
        (e) => e,
      );
      if (refused && !(refused instanceof TurnRefused && refused.keep)) throw refused;
    }
    if (files.length) message.attachments = await this.files.attach(files, ctx.user, threadId);
    written ??= later(store.addThreadItem(threadId, message));
    const { thread } = loaded;
    const before = JSON.stringify(thread.metadata);
    // The customer's page and locale follow the latest visit (saved with the thread after the turn).
    thread.metadata = { ...thread.metadata, ...this.visit(ctx) };
    const history = [...loaded.items.filter((i) => i.id !== message.id), message];
    // The gate is asked once the message is stored: on the first event's path it would only
    // contend with the read and the write (DynamoDB Local serializes writes); a refusal then takes
    // the message back.
    return this.turn(
      {
        thread,
        history,
        message,
        written,
        state: { expiresAt: loaded.expiresAt, metadataChanged: before },
        admit: () => gate ?? this.admit(ctx),
        speculate: early && !gate && this.deps.gate?.expects?.(ctx.user, ctx.network) === true,
      },
      ctx,
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
    return this.turn({ thread, history, message, written: null, state: { expiresAt: undefined }, admit: null }, ctx);
  }

  /**
   * One model turn: `thread.item.done` for the user message once it is stored (not for a retry),
   * then the stream options and the answer. A turn not yet admitted (`admit`) asks the gate once
   * its message is stored and announced; if the gate refuses, the message is removed again
   * (`thread.item.removed`) and the refusal follows. The model is asked after the message's event
   * has gone out (preparing the request, the shop state and the input, takes about a millisecond
   * of CPU, which must not delay the first event), beside the gate when `speculate`.
   */
  private async *turn(plan: TurnPlan, ctx: RequestContext): AsyncGenerator<ThreadStreamEvent> {
    const { thread, history, message, written, state, admit } = plan;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    // A Stop that came before the turn began (the first moments of a request) counts too: an
    // already aborted signal fires no event.
    if (ctx.signal.aborted) stop.abort();
    try {
      // The message's photos and files reach the model as short-lived URLs (signed locally: no round trip).
      const fileUrls = later(this.files.modelUrls(message.attachments));
      const start = async () =>
        this.deps.responder.start({
          thread,
          history: history.slice(-this.historyItems),
          locale: ctx.locale,
          pageUrl: ctx.pageUrl,
          signal: stop.signal,
          fileUrls: await fileUrls,
        });
      if (written) {
        try {
          await written; // the user message is stored before anything about it is sent
        } catch (e) {
          stop.abort();
          yield failureEvent(this.deps, 'write user message', e);
          return;
        }
        yield { type: 'thread.item.done', item: await this.files.present(message) };
      }
      const gate = admit ? later(admit()) : null;
      // Asked beside the gate when it is expected to admit: its round trip then overlaps the
      // model's, instead of preceding it. The day's budget is counted by the gate alone, once.
      const early = gate && plan.speculate ? later(start()) : null;
      let events: AsyncIterable<ThreadStreamEvent>;
      try {
        await gate;
        events = await (early ?? start());
      } catch (e) {
        if (early) stop.abort(); // refused, or the gate failed: the model's request is cancelled unread
        if (!(e instanceof TurnRefused)) throw e;
        if (e.keep) {
          // Refused for the model's sake: what the customer wrote stays, and they are told so.
          try {
            yield* fixedAnswer(this.deps, thread.id, e.userMessage);
          } catch (err) {
            yield failureEvent(this.deps, 'fixed answer', err);
            return;
          }
          yield* titled(this.deps, thread, message, ctx, plan.newThread);
          await this.afterTurn(thread, ctx.user, state);
          return;
        }
        await this.deps.store.deleteThreadItem(thread.id, message.id).catch((err) => this.deps.onError?.('remove refused message', err));
        yield { type: 'thread.item.removed', item_id: message.id };
        yield refusal(e);
        return;
      }
      yield* persistAnswer(this.deps, thread, events, ctx, stop.signal, message, plan.newThread);
      await this.afterTurn(thread, ctx.user, state);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  /** After the last event: save a changed visit, restart the retention at most daily. Never fails the turn. */
  private async afterTurn(thread: ThreadMetadata, user: string, state: { expiresAt?: number; metadataChanged?: string }): Promise<void> {
    const { store, retentionDays } = this.deps;
    try {
      if (state.metadataChanged !== undefined && state.metadataChanged !== JSON.stringify(thread.metadata))
        await store.saveThread(thread, user);
      const nowSec = Math.floor(nowOf(this.deps).getTime() / 1000);
      if (retentionDays && state.expiresAt !== undefined && state.expiresAt < nowSec + retentionDays * 86400 - 86400)
        await store.refreshRetention(thread.id);
    } catch (e) {
      if (!(e instanceof NotFoundError)) this.deps.onError?.('after turn', e); // deleted meanwhile: nothing to keep
    }
  }
}
