import { assembleTranscript, ThreadNotFoundError, type Transcript, type TranscriptSource } from '@lead-intake/transcript';
import type { ChatStore } from './contract';

/** Reads self-hosted conversations for the lead pipeline (the hosted API is the other source). */
export class StoreTranscriptSource implements TranscriptSource {
  readonly name = 'self-hosted';
  constructor(private readonly store: ChatStore) {}

  async fetch(threadId: string, opts: { assistantName: string }): Promise<Transcript> {
    // The thread and its items are read together: one round trip (items of a thread that turns out
    // not to exist are discarded).
    const [found, items] = await Promise.all([this.store.threadWithOwner(threadId), this.store.allItems(threadId)]);
    if (!found) throw new ThreadNotFoundError(threadId);
    const { thread, user } = found;
    return assembleTranscript(
      { threadId, title: thread.title, createdAt: thread.created_at, user, pageUrl: thread.metadata?.page_url },
      items,
      opts.assistantName,
    );
  }
}
