import {
  isStreaming,
  NotSupportedError,
  parseRequest,
  ProtocolError,
  DEFAULT_PAGE_SIZE,
  type ChatKitRequest,
  type JsonRequest,
} from '@lead-intake/chatkit-protocol';
import { once, refusal, threadResponse, TurnRefused, type ChatAnswer, type ChatServerDeps, type RequestContext } from './context';
import { Attachments } from './attachments';
import { KnownThreads } from './known-threads';
import { Turns } from './turn';

/**
 * The ChatKit custom-server protocol (docs/chatkit-protocol.md): `process()` parses and routes one
 * request and answers either JSON (the queries and edits below) or a stream of events (a model
 * turn: ./turn.ts, persisted in one place: ./persist.ts). Everything that can refuse a request
 * (validation, the thread's owner, the turn gate) runs before a stream starts, so refusals are
 * HTTP statuses as with the official server; once streaming, failures are `error` events.
 */
export class ChatKitServer {
  private readonly known: KnownThreads;
  private readonly turns: Turns;
  private readonly files: Attachments;

  constructor(private readonly deps: ChatServerDeps) {
    this.known = deps.knownThreads ?? new KnownThreads();
    this.files = new Attachments(deps.store, deps.attachments);
    this.turns = new Turns(deps, this.known, this.files);
  }

  /** Handles one request body. Never throws: every failure is an answer. */
  async process(body: unknown, ctx: RequestContext): Promise<ChatAnswer> {
    let req: ChatKitRequest | undefined;
    try {
      req = parseRequest(body);
      if (isStreaming(req)) return { kind: 'stream', events: await this.turns.start(req, ctx) };
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
        return threadResponse(thread, { ...items, data: await Promise.all(items.data.map((i) => this.files.present(i))) });
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
        return { ...items, data: await Promise.all(items.data.map((i) => this.files.present(i))) };
      }
      case 'items.feedback':
        await store.loadThread(req.params.thread_id, user);
        await store.setFeedback(req.params.thread_id, req.params.item_ids, req.params.kind);
        return {};
      case 'threads.sync_custom_action': {
        // The same decision and record as a streamed action; the answer is the widget's new state (no acknowledgement).
        const plan = await this.turns.action(req.params, ctx);
        await store.saveItem(plan.thread.id, plan.save);
        return { updated_item: plan.save };
      }
      case 'attachments.create':
        return this.files.create(req.params, user);
      case 'attachments.delete':
        await this.files.delete(req.params.attachment_id, user);
        return {};
      case 'input.transcribe':
        throw new NotSupportedError('Dictation is not supported by this server.');
    }
  }
}
