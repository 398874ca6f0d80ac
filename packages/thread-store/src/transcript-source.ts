import { assembleTranscript, ThreadNotFoundError, type Transcript, type TranscriptSource } from '@lead-intake/transcript';
import type { ChatStore } from './contract';

/** Reads self-hosted conversations for the lead pipeline (the hosted API is the other source). */
export class StoreTranscriptSource implements TranscriptSource {
  readonly name = 'self-hosted';
  constructor(private readonly store: ChatStore) {}

  async fetch(threadId: string, opts: { assistantName: string }): Promise<Transcript> {
    const owner = await this.store.threadOwner(threadId);
    if (!owner) throw new ThreadNotFoundError(threadId);
    const [meta, items] = await Promise.all([this.store.loadThread(threadId, owner), this.store.allItems(threadId)]);
    return assembleTranscript({ threadId, title: meta.title, createdAt: meta.created_at, user: owner, pageUrl: meta.metadata?.page_url }, items, opts.assistantName);
  }
}
