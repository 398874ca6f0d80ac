import { assistantMessageItem, outputText, userMessageItem, type Attachment, type ThreadItem } from '@lead-intake/chatkit-protocol';
import type { SeedItem, SeedThread } from '@lead-intake/openai-emulator';
import { DynamoThreadStore } from '@lead-intake/thread-store';
import { mintClientToken } from '@lead-intake/chat-auth';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';

/**
 * Self-hosted conversations for tests of the lead pipeline: written into the test stack's thread
 * table (DynamoDB Local) as the chat service writes them, with the emulator's seed shapes, and
 * the client token of each thread's owner (the lead endpoint takes the user from it).
 */
export const CHAT_THREADS_TABLE = 'chatkit-lead-intake-chat-local-threads';
const owners = new Map<string, string>();

function store(client: () => any): DynamoThreadStore {
  return new DynamoThreadStore({ tableName: CHAT_THREADS_TABLE, client: client(), retentionDays: 365 });
}

function toItem(s: DynamoThreadStore, threadId: string, seed: SeedItem, at: number): ThreadItem {
  const created_at = new Date(at).toISOString();
  const id = s.generateItemId('message');
  if (seed.role === 'assistant')
    return assistantMessageItem({ id, threadId, createdAt: created_at, content: [outputText(seed.text ?? '')] });
  const attachments: Attachment[] = (seed.attachments ?? []).map((a, n) => {
    const base = { id: `atc_${id.slice(4)}${n}`, name: a.name, mime_type: a.mime_type, thread_id: threadId };
    return a.preview_url && a.mime_type.startsWith('image/')
      ? { ...base, type: 'image', preview_url: a.preview_url }
      : { ...base, type: 'file' };
  });
  return userMessageItem({
    id,
    threadId,
    createdAt: created_at,
    content: [{ type: 'input_text', text: seed.text ?? '' }],
    attachments,
    quotedText: seed.quoted_text,
  });
}

export function conversations(dynamoClient: () => any) {
  return {
    /** Writes a self-hosted thread with these items; answers its id. */
    async seedThread(t: SeedThread & { pageUrl?: string }): Promise<string> {
      const s = store(dynamoClient);
      const id = t.id ?? s.generateThreadId();
      const user = t.user ?? `u-${id.slice(5, 15)}`;
      const start = Date.now() - t.items.length;
      await s.saveThread(
        {
          id,
          title: t.title ?? null,
          created_at: new Date(start).toISOString(),
          status: { type: 'active' },
          metadata: t.pageUrl ? { page_url: t.pageUrl } : {},
        },
        user,
      );
      for (const [n, item] of t.items.entries()) await s.addThreadItem(id, toItem(s, id, item, start + n));
      owners.set(id, user);
      return id;
    },
    /** A conversation that goes on: more items at the end of a seeded thread. */
    async appendItems(threadId: string, items: SeedItem[]): Promise<void> {
      const s = store(dynamoClient);
      for (const item of items) await s.addThreadItem(threadId, toItem(s, threadId, item, Date.now()));
    },
  };
}

/** The owner of a thread seeded here (or `fallback` for threads that were not). */
export function ownerOf(threadId: string, fallback = 'nobody'): string {
  return owners.get(threadId) ?? fallback;
}

/** `Authorization` for a lead trigger by the thread's owner (or by `user`), as the browser sends it. */
export function leadAuth(threadId: string, user = ownerOf(threadId)): Record<string, string> {
  return { authorization: `Bearer ${clientTokenFor(user)}` };
}

/** A client token minted with the local stack's secret, as the session service mints them. */
export function clientTokenFor(user: string, ttlSeconds = 600, visit: { locale?: string; pageUrl?: string } = {}): string {
  return mintClientToken(LOCAL_TOKEN_SECRET, user, ttlSeconds, visit).token;
}
