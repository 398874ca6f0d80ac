import type OpenAI from 'openai';
import { convertHostedItem, type ThreadItem } from '@lead-intake/chatkit-protocol';
import { ThreadNotFoundError } from './errors';
import { assembleTranscript, type Transcript } from './normalize';

/** Where a thread's conversation is read from: the hosted ChatKit API, or our own store. */
export interface TranscriptSource {
  readonly name: string;
  /** Throws `ThreadNotFoundError` for an unknown thread; other failures propagate. */
  fetch(threadId: string, opts: { assistantName: string; signal?: AbortSignal }): Promise<Transcript>;
}

export { ThreadNotFoundError } from './errors';

/** Reads a hosted thread: `threads.retrieve` plus every page of `threads.listItems` in ascending order. */
export class HostedChatKitSource implements TranscriptSource {
  readonly name = 'hosted';
  constructor(
    private readonly client: OpenAI,
    private readonly pageSize = 100,
  ) {}

  async fetch(threadId: string, opts: { assistantName: string; signal?: AbortSignal }): Promise<Transcript> {
    const reqOpts = opts.signal ? { signal: opts.signal } : undefined;
    try {
      const [thread, items] = await Promise.all([
        this.client.beta.chatkit.threads.retrieve(threadId, reqOpts),
        (async () => {
          // Converted once, here: the rest of the pipeline reads the protocol's items only.
          const converted: ThreadItem[] = [];
          const dropped: Record<string, number> = {};
          let itemCount = 0;
          let lastItemId: string | null = null;
          for await (const item of this.client.beta.chatkit.threads.listItems(threadId, { order: 'asc', limit: this.pageSize }, reqOpts)) {
            const one = convertHostedItem(item as unknown as Record<string, unknown>, threadId, itemCount++);
            lastItemId = item.id;
            if (one) converted.push(one);
            else {
              const type = String(item.type).replace(/^chatkit\./, '');
              dropped[type] = (dropped[type] ?? 0) + 1;
            }
          }
          return { converted, read: { itemCount, lastItemId, dropped } };
        })(),
      ]);
      // Hosted threads do not keep the page (it was a workflow state variable): the request's pageUrl is used.
      return assembleTranscript(
        { threadId, title: thread.title, createdAt: thread.created_at, user: thread.user },
        items.converted,
        opts.assistantName,
        items.read,
      );
    } catch (e) {
      // The SDK's 404 (its NotFoundError), read from the status: a value import of the SDK here would
      // load it in every function that reads a transcript type (the chat's cold start among them).
      if ((e as { status?: unknown } | null)?.status === 404) throw new ThreadNotFoundError(threadId);
      throw e;
    }
  }
}

/** Reads from `first`; a thread it does not know is read from `second` (e.g. self-hosted, then hosted). */
export class FallbackTranscriptSource implements TranscriptSource {
  readonly name: string;
  constructor(
    private readonly first: TranscriptSource,
    private readonly second: TranscriptSource,
  ) {
    this.name = `${first.name}+${second.name}`;
  }

  async fetch(threadId: string, opts: { assistantName: string; signal?: AbortSignal }): Promise<Transcript> {
    try {
      return await this.first.fetch(threadId, opts);
    } catch (e) {
      if (e instanceof ThreadNotFoundError) return this.second.fetch(threadId, opts);
      throw e;
    }
  }
}
