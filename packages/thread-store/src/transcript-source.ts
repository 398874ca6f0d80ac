import { normalizeItems, toSeconds, ThreadNotFoundError, type Transcript, type TranscriptSource } from '@lead-intake/transcript';
import type { ThreadStore } from './store';
import type { ThreadMetadata } from './types';

/** Reads self-hosted conversations for the lead pipeline (the hosted API is the other source). */
export class StoreTranscriptSource implements TranscriptSource {
  readonly name = 'self-hosted';
  constructor(private readonly store: ThreadStore) {}

  async fetch(threadId: string, opts: { assistantName: string }): Promise<Transcript> {
    const owner = await this.store.threadOwner(threadId);
    if (!owner) throw new ThreadNotFoundError(threadId);
    const meta: ThreadMetadata = await this.store.loadThread(threadId, owner);
    const items = await this.store.allItems(threadId);
    const { lines, skipped } = normalizeItems(items, opts.assistantName);
    return {
      threadId,
      title: meta.title ?? null,
      createdAt: toSeconds(meta.created_at) || null,
      user: owner,
      lines,
      lastItemId: items.length ? items[items.length - 1]!.id : null,
      itemCount: items.length,
      skipped,
    };
  }
}
