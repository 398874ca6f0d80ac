import { assembleTranscript, ThreadNotFoundError, type Transcript, type TranscriptSource } from '@lead-intake/transcript';
import type { ChatStore } from './contract';

/** Reads self-hosted conversations for the lead pipeline (the hosted API is the other source). */
export class StoreTranscriptSource implements TranscriptSource {
  readonly name = 'self-hosted';
  constructor(private readonly store: ChatStore) {}

  async fetch(threadId: string, opts: { assistantName: string }): Promise<Transcript> {
    // The thread and its items in one read.
    const found = await this.store.threadWithItems(threadId);
    if (!found) throw new ThreadNotFoundError(threadId);
    const { thread, user, items } = found;
    return assembleTranscript(
      { threadId, title: thread.title, createdAt: thread.created_at, user, pageUrl: thread.metadata?.page_url },
      items,
      opts.assistantName,
    );
  }
}
