import type OpenAI from 'openai';
import { computeShopState, type ShopProfile } from '@lead-intake/shop-hours';
import { HIDDEN_TYPES, NotFoundError, type Page, type ThreadItem, type ThreadMetadata, type ThreadStore } from '@lead-intake/thread-store';
import { assistantInstructions } from './instructions';

/**
 * The ChatKit custom-server protocol (reference: chatkit-server-protocol.md): one `process()` entry
 * that routes on `type`, answers streaming requests as SSE events and the others as JSON, and
 * persists on `thread.item.done`. Every thread is scoped to the token's user.
 */

export const STREAMING_TYPES = new Set(['threads.create', 'threads.add_user_message', 'threads.retry_after_item', 'threads.add_client_tool_output', 'threads.add_structured_input', 'threads.custom_action']);
export const JSON_TYPES = new Set(['threads.get_by_id', 'threads.list', 'threads.update', 'threads.delete', 'items.list', 'items.feedback', 'attachments.create', 'attachments.delete', 'input.transcribe', 'threads.sync_custom_action']);
const SUPPORTED = new Set(['threads.create', 'threads.add_user_message', 'threads.retry_after_item', 'threads.get_by_id', 'threads.list', 'threads.update', 'threads.delete', 'items.list', 'items.feedback']);

export type ChatEvent = Record<string, unknown> & { type: string };

/** Where answers go: the Lambda handler adapts its response stream to this. */
export interface Sink {
  /** Starts (once) and writes one SSE frame. */
  event(e: ChatEvent): void;
  json(status: number, body: unknown): void;
  /** Aborted when the client goes away (the Stop button closes the stream). */
  signal: AbortSignal;
}

export interface ChatServerDeps {
  store: ThreadStore;
  openai: OpenAI;
  model: string;
  profile: ShopProfile;
  now?: () => Date;
  /** How many recent items the model sees. */
  historyItems?: number;
  /** The instance's cache of thread owners (one per server unless a test shares one). */
  knownThreads?: KnownThreads;
  onError?: (stage: string, error: unknown) => void;
}

export class ProtocolError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const iso = (d: Date) => d.toISOString();
const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, name: string, max = 256): string => {
  if (typeof v !== 'string' || !v || v.length > max) throw new ProtocolError(400, `params.${name} must be a non-empty string`);
  return v;
};

/** What the client sees of a thread: never the private metadata, never hidden items. */
export function threadResponse(t: ThreadMetadata, items: Page<ThreadItem> = { data: [], has_more: false }) {
  return {
    id: t.id,
    ...(t.title ? { title: t.title } : {}),
    created_at: t.created_at,
    status: t.status,
    ...(t.allowed_image_domains ? { allowed_image_domains: t.allowed_image_domains } : {}),
    metadata: {},
    items: visible(items),
  };
}

const visible = (p: Page<ThreadItem>): Page<ThreadItem> => ({ ...p, data: p.data.filter((i) => !HIDDEN_TYPES.has(i.type)) });

function pageParams(params: Record<string, any>, defaultOrder: 'asc' | 'desc') {
  const limit = params.limit === undefined || params.limit === null ? 20 : params.limit;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new ProtocolError(400, 'params.limit must be an integer from 1 to 100');
  const order = params.order ?? defaultOrder;
  if (order !== 'asc' && order !== 'desc') throw new ProtocolError(400, "params.order must be 'asc' or 'desc'");
  const after = params.after ?? undefined;
  if (after !== undefined && (typeof after !== 'string' || !after)) throw new ProtocolError(400, 'params.after must be a string');
  return { limit, order, after } as const;
}

/**
 * Threads this instance has seen to be a user's and active, newest last, bounded. A thread's owner
 * never changes, so a hit lets a turn write the user's message while its thread is still being
 * read (one DynamoDB round trip before the first event instead of two). The read still runs and
 * still decides: if it finds the thread gone or no longer active, the early write is undone.
 */
export class KnownThreads {
  private readonly owners = new Map<string, string>();
  constructor(private readonly max = 1000) {}

  isOwner(threadId: string, user: string): boolean {
    return this.owners.get(threadId) === user;
  }

  remember(threadId: string, user: string): void {
    this.owners.delete(threadId);
    this.owners.set(threadId, user);
    if (this.owners.size > this.max) this.owners.delete(this.owners.keys().next().value!);
  }

  forget(threadId: string): void {
    this.owners.delete(threadId);
  }
}

export class ChatKitServer {
  private readonly known: KnownThreads;

  constructor(private readonly deps: ChatServerDeps) {
    this.known = deps.knownThreads ?? new KnownThreads();
  }

  private now() {
    return (this.deps.now ?? (() => new Date()))();
  }

  /** Handles one request body for `user`. Never throws: every failure becomes an answer. */
  async process(body: unknown, user: string, sink: Sink): Promise<void> {
    const type = isObj(body) && typeof body.type === 'string' ? body.type : undefined;
    const params = isObj(body) && isObj(body.params) ? body.params : {};
    if (!type) return sink.json(400, { error: 'The request needs a string `type`.' });
    const streaming = STREAMING_TYPES.has(type);
    if (!streaming && !JSON_TYPES.has(type)) return sink.json(400, { error: `Unknown request type '${type.slice(0, 80)}'.` });
    if (!SUPPORTED.has(type)) {
      const message = `Request type '${type}' is not supported by this server.`;
      return streaming ? sink.event({ type: 'error', code: 'custom', message, allow_retry: false }) : sink.json(400, { error: message });
    }
    if (streaming) return this.stream(type, params, user, sink);
    try {
      sink.json(200, await this.nonStreaming(type, params, user));
    } catch (e) {
      if (e instanceof ProtocolError) return sink.json(e.status, { error: e.message });
      if (e instanceof NotFoundError) return sink.json(404, { error: e.message });
      this.deps.onError?.(type, e);
      sink.json(500, { error: 'Internal error.' });
    }
  }

  private async nonStreaming(type: string, p: Record<string, any>, user: string): Promise<unknown> {
    const { store } = this.deps;
    switch (type) {
      case 'threads.get_by_id': {
        const t = await store.loadThread(str(p.thread_id, 'thread_id'), user);
        return threadResponse(t, await store.loadThreadItems(t.id, { order: 'asc', limit: 20 }));
      }
      case 'threads.list': {
        const page = await store.loadThreads(user, pageParams(p, 'desc'));
        return { ...page, data: page.data.map((t) => threadResponse(t)) };
      }
      case 'threads.update': {
        const t = await store.loadThread(str(p.thread_id, 'thread_id'), user);
        t.title = str(p.title, 'title', 200);
        await store.saveThread(t, user);
        return threadResponse(t);
      }
      case 'threads.delete': {
        const threadId = str(p.thread_id, 'thread_id');
        this.known.forget(threadId);
        await store.deleteThread(threadId, user);
        return {};
      }
      case 'items.list': {
        const t = await store.loadThread(str(p.thread_id, 'thread_id'), user);
        return visible(await store.loadThreadItems(t.id, pageParams(p, 'desc')));
      }
      case 'items.feedback': {
        const t = await store.loadThread(str(p.thread_id, 'thread_id'), user);
        if (!Array.isArray(p.item_ids) || p.item_ids.some((i: unknown) => typeof i !== 'string')) throw new ProtocolError(400, 'params.item_ids must be a list of item ids');
        if (p.kind !== 'positive' && p.kind !== 'negative') throw new ProtocolError(400, "params.kind must be 'positive' or 'negative'");
        await store.setFeedback(t.id, p.item_ids, p.kind);
        return {};
      }
    }
    throw new ProtocolError(400, `Request type '${type}' is not supported by this server.`);
  }

  /** Streaming requests: any failure, even before the first event, is an SSE `error` event. */
  private async stream(type: string, p: Record<string, any>, user: string, sink: Sink): Promise<void> {
    const { store } = this.deps;
    try {
      let thread: ThreadMetadata;
      let userMessage: ThreadItem;
      let history: ThreadItem[];
      // The new user message is written while the model is already being asked (the write is
      // awaited before any event about it is sent): DynamoDB stays off the first token's path.
      let persisted: Promise<unknown> = Promise.resolve();
      if (type === 'threads.create') {
        const input = parseInput(p.input);
        thread = { id: store.generateThreadId(), created_at: iso(this.now()), status: { type: 'active' }, title: null, metadata: {} };
        userMessage = this.userMessage(thread.id, input);
        // A new thread is this user's by construction: its first message is written alongside it.
        persisted = store.addThreadItem(thread.id, userMessage);
        persisted.catch(() => undefined);
        try {
          await store.saveThread(thread, user);
        } catch (e) {
          // Without its thread the message is unreachable; do not leave it behind.
          await persisted.then(() => store.deleteThreadItem(thread.id, userMessage.id)).catch(() => undefined);
          throw e;
        }
        this.known.remember(thread.id, user);
        sink.event({ type: 'thread.created', thread: threadResponse(thread) });
        history = [userMessage];
      } else if (type === 'threads.add_user_message') {
        const input = parseInput(p.input);
        const threadId = str(p.thread_id, 'thread_id');
        userMessage = this.userMessage(threadId, input);
        // A thread this instance knows to be the user's: write the message while the thread and
        // its history are read. Otherwise the read proves ownership first.
        const early = this.known.isOwner(threadId, user);
        if (early) persisted = store.addThreadItem(threadId, userMessage);
        persisted.catch(() => undefined);
        let earlier: ThreadItem[];
        try {
          const loaded = await store.loadThreadWithRecentItems(threadId, user, this.deps.historyItems ?? 30);
          thread = loaded.thread;
          earlier = loaded.items.filter((i) => i.id !== userMessage.id);
          if (thread.status.type !== 'active') throw new ProtocolError(409, `The thread is ${thread.status.type}.`);
        } catch (e) {
          if (early) {
            this.known.forget(threadId);
            await persisted.then(() => store.deleteThreadItem(threadId, userMessage.id)).catch(() => undefined);
          }
          throw e;
        }
        this.known.remember(threadId, user);
        if (!early) persisted = store.addThreadItem(thread.id, userMessage);
        history = [...earlier, userMessage];
      } else {
        thread = await store.loadThread(str(p.thread_id, 'thread_id'), user);
        userMessage = await store.loadItem(thread.id, str(p.item_id, 'item_id'));
        if (userMessage.type !== 'user_message') throw new ProtocolError(400, 'params.item_id must be a user message');
        await this.deleteNewerThan(thread.id, userMessage.id);
        history = await this.recentItems(thread.id);
      }
      persisted.catch(() => undefined);
      const announce = async () => {
        await persisted;
        if (type !== 'threads.retry_after_item') sink.event({ type: 'thread.item.done', item: userMessage });
        sink.event({ type: 'stream_options', stream_options: { allow_cancel: true } });
      };
      await this.respond(thread, userMessage, user, sink, history, announce);
    } catch (e) {
      if (e instanceof ProtocolError || e instanceof NotFoundError) {
        sink.event({ type: 'error', code: 'custom', message: e.message, allow_retry: false });
        return;
      }
      this.deps.onError?.(type, e);
      sink.event({ type: 'error', code: 'stream.error', allow_retry: true });
    }
  }

  private userMessage(threadId: string, input: ParsedInput): ThreadItem {
    return {
      id: this.deps.store.generateItemId('message'),
      thread_id: threadId,
      created_at: iso(this.now()),
      type: 'user_message',
      content: input.content,
      attachments: [],
      ...(input.quoted_text ? { quoted_text: input.quoted_text } : {}),
      inference_options: input.inference_options,
    };
  }

  /** `retry_after_item`: every item newer than the user message goes (no removal events, as the reference). */
  private async deleteNewerThan(threadId: string, itemId: string): Promise<void> {
    let after: string | undefined;
    for (;;) {
      const page = await this.deps.store.loadThreadItems(threadId, { order: 'desc', limit: 50, after });
      for (const item of page.data) {
        if (item.id === itemId) return;
        await this.deps.store.deleteThreadItem(threadId, item.id);
      }
      if (!page.has_more) return;
      after = page.after;
    }
  }

  /** The most recent items, oldest first: what the model sees of the conversation. */
  private async recentItems(threadId: string): Promise<ThreadItem[]> {
    const page = await this.deps.store.loadThreadItems(threadId, { order: 'desc', limit: this.deps.historyItems ?? 30 });
    return [...page.data].reverse();
  }

  /** One assistant turn on the Responses API, mapped to ChatKit events (reference, section 4.2). */
  private async respond(thread: ThreadMetadata, userMessage: ThreadItem, user: string, sink: Sink, history: ThreadItem[], announce: () => Promise<void>): Promise<void> {
    const { store, openai, profile } = this.deps;
    const input = toModelInput(history.slice(-(this.deps.historyItems ?? 30)));
    const state = computeShopState(this.now(), profile); // fresh on every turn
    const assistantId = store.generateItemId('message');
    const base = { id: assistantId, thread_id: thread.id, type: 'assistant_message' };
    let text = '';
    let added = false;
    let done = false;
    const aborter = new AbortController();
    const onAbort = () => aborter.abort();
    sink.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const request = openai.responses.create(
        { model: this.deps.model, instructions: assistantInstructions(profile, state), input, stream: true, store: false },
        { signal: aborter.signal },
      );
      request.catch(() => undefined);
      try {
        await announce(); // the user message is stored before anything about it is sent
      } catch (e) {
        aborter.abort();
        throw e;
      }
      const stream = await request;
      for await (const ev of stream as AsyncIterable<any>) {
        if (sink.signal.aborted) break;
        if (ev.type === 'response.output_item.added' && ev.item?.type === 'message' && !added) {
          added = true;
          sink.event({ type: 'thread.item.added', item: { ...base, created_at: iso(this.now()), content: [] } });
        } else if (ev.type === 'response.content_part.added' && ev.part?.type === 'output_text') {
          sink.event({ type: 'thread.item.updated', item_id: assistantId, update: { type: 'assistant_message.content_part.added', content_index: 0, content: { annotations: [], text: '', type: 'output_text' } } });
        } else if (ev.type === 'response.output_text.delta') {
          text += ev.delta;
          sink.event({ type: 'thread.item.updated', item_id: assistantId, update: { type: 'assistant_message.content_part.text_delta', content_index: 0, delta: ev.delta } });
        } else if (ev.type === 'response.output_text.done') {
          text = ev.text ?? text;
          sink.event({ type: 'thread.item.updated', item_id: assistantId, update: { type: 'assistant_message.content_part.done', content_index: 0, content: { annotations: [], text, type: 'output_text' } } });
        } else if (ev.type === 'response.output_item.done' && ev.item?.type === 'message') {
          const item = { ...base, created_at: iso(this.now()), content: [{ annotations: [], text, type: 'output_text' }] };
          await store.addThreadItem(thread.id, item);
          done = true;
          sink.event({ type: 'thread.item.done', item });
        } else if (ev.type === 'response.failed' || ev.type === 'error') {
          throw new Error(`model stream failed: ${ev.response?.error?.code ?? ev.code ?? 'unknown'}`);
        }
      }
    } catch (e) {
      if (!sink.signal.aborted) throw e;
    } finally {
      sink.signal.removeEventListener('abort', onAbort);
    }
    if (sink.signal.aborted && !done) {
      // Stopped by the user: keep what was said, and tell the model it was cut off (as the reference).
      if (text) await store.addThreadItem(thread.id, { ...base, created_at: iso(this.now()), content: [{ annotations: [], text, type: 'output_text' }] });
      await store.addThreadItem(thread.id, { id: store.generateItemId('sdk_hidden_context'), thread_id: thread.id, created_at: iso(this.now()), type: 'sdk_hidden_context', content: 'The user cancelled the stream. Stop responding to the prior request.' });
      return;
    }
    if (!thread.title) {
      thread.title = titleFrom(userMessage);
      await store.saveThread(thread, user);
      sink.event({ type: 'thread.updated', thread: threadResponse(thread) });
    }
  }
}

interface ParsedInput {
  content: Array<{ type: string; text: string; [k: string]: unknown }>;
  quoted_text?: string;
  inference_options: Record<string, unknown>;
}

function parseInput(input: unknown): ParsedInput {
  if (!isObj(input) || !Array.isArray(input.content)) throw new ProtocolError(400, 'params.input.content must be a list');
  const content = input.content.filter((c: any) => isObj(c) && (c.type === 'input_text' || c.type === 'input_tag') && typeof c.text === 'string');
  const textLength = content.reduce((n: number, c: any) => n + c.text.length, 0);
  if (content.length === 0 || textLength === 0) throw new ProtocolError(400, 'params.input needs some text');
  if (textLength > 8000) throw new ProtocolError(400, 'params.input is longer than 8000 characters');
  if (Array.isArray(input.attachments) && input.attachments.length) throw new ProtocolError(400, 'Attachments are not supported by this server yet.');
  return {
    content,
    ...(typeof input.quoted_text === 'string' && input.quoted_text ? { quoted_text: input.quoted_text.slice(0, 4000) } : {}),
    inference_options: isObj(input.inference_options) ? input.inference_options : {},
  };
}

/** Stored items as Responses input (reference, section 4.1): hidden context as wrapped user text. */
export function toModelInput(items: ThreadItem[]): Array<{ role: 'user' | 'assistant'; content: string }> {
  const out: Array<{ role: 'user' | 'assistant'; content: string }> = [];
  items.forEach((item, i) => {
    if (item.type === 'user_message') {
      const text = (item.content ?? []).map((c: any) => (c.type === 'input_tag' ? `@${c.text}` : c.text)).join('');
      out.push({ role: 'user', content: text });
      if (item.quoted_text && i === items.length - 1) out.push({ role: 'user', content: `The user is referring to this in particular: ${item.quoted_text}` });
    } else if (item.type === 'assistant_message') {
      out.push({ role: 'assistant', content: (item.content ?? []).map((c: any) => c.text ?? '').join('') });
    } else if (HIDDEN_TYPES.has(item.type)) {
      out.push({ role: 'user', content: `<HiddenContext>${typeof item.content === 'string' ? item.content : JSON.stringify(item.content)}</HiddenContext>` });
    }
  });
  return out;
}

function titleFrom(message: ThreadItem): string {
  const text = (message.content ?? []).map((c: any) => c.text ?? '').join(' ').replace(/\s+/g, ' ').trim();
  return text.length <= 60 ? text : `${text.slice(0, 59).trimEnd()}…`;
}
