import { ConflictError, isHidden, NotFoundError, type Page, type ThreadItem, type ThreadMetadata } from '@lead-intake/chatkit-protocol';
import {
  DEFAULT_PAGE,
  toPage,
  type ChatStore,
  type ItemPageOptions,
  type LoadedThread,
  type StoredAttachment,
  type ThreadPageOptions,
} from './contract';
import { ITEM_PREFIX as KIND_PREFIX, timeSortableId } from './ids';
import { itemSk, threadData, userSk } from './keys';

interface ThreadRow {
  owner: string;
  meta: ThreadMetadata;
  /** A tombstone: deleted, and never written again (as the DynamoDB store's). */
  deleted?: boolean;
  expiresAt?: number;
  /** sort key -> item (and its feedback). */
  items: Map<string, { item: ThreadItem; feedback?: string }>;
}

const clone = <T>(v: T): T => structuredClone(v);

/**
 * The same contract as the DynamoDB store, in memory, ordered by the same keys (keys.ts): for
 * tests of the protocol and the chat turn that need no DynamoDB. Not for production.
 */
export class MemoryThreadStore implements ChatStore {
  private readonly threads = new Map<string, ThreadRow>();
  private readonly attachments = new Map<string, { user: string; stored: StoredAttachment }>();

  constructor(private readonly opts: { retentionDays?: number; now?: () => number } = {}) {}

  private expiry(): number | undefined {
    const days = this.opts.retentionDays ?? 0;
    return days > 0 ? Math.floor((this.opts.now ?? Date.now)() / 1000) + Math.round(days * 86400) : undefined;
  }

  /** A live thread (a tombstone is none). */
  private live(threadId: string): ThreadRow | undefined {
    const t = this.threads.get(threadId);
    return t && !t.deleted ? t : undefined;
  }

  private row(threadId: string, user: string): ThreadRow {
    const t = this.live(threadId);
    if (!t || t.owner !== user) throw new NotFoundError(`thread ${threadId.slice(0, 80)}`);
    return t;
  }

  /** A thread's item rows in key order; a deleted thread has none. */
  private sorted(threadId: string): ThreadItem[] {
    const t = this.live(threadId);
    if (!t) return [];
    return [...t.items.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v.item);
  }

  generateThreadId(): string {
    return timeSortableId('cthr');
  }

  generateItemId(kind: string): string {
    return timeSortableId(KIND_PREFIX[kind] ?? 'itm');
  }

  async threadOwner(threadId: string): Promise<string | null> {
    return this.live(threadId)?.owner || null;
  }

  async threadWithItems(threadId: string): Promise<{ thread: ThreadMetadata; user: string; items: ThreadItem[] } | null> {
    const t = this.live(threadId);
    return t?.owner ? { thread: clone(t.meta), user: t.owner, items: clone(this.sorted(threadId)) } : null;
  }

  async loadThread(threadId: string, user: string): Promise<ThreadMetadata> {
    return clone(this.row(threadId, user).meta);
  }

  async loadThreadWithRecentItems(threadId: string, user: string, limit: number): Promise<LoadedThread> {
    const t = this.row(threadId, user);
    return {
      thread: clone(t.meta),
      items: clone(this.sorted(threadId).slice(-limit)),
      ...(t.expiresAt !== undefined ? { expiresAt: t.expiresAt } : {}),
    };
  }

  async saveThread(thread: ThreadMetadata, user: string): Promise<void> {
    const existing = this.threads.get(thread.id);
    if (existing && (existing.deleted || existing.owner !== user)) throw new NotFoundError(`thread ${thread.id.slice(0, 80)}`);
    const meta = clone(threadData(thread));
    if (existing) {
      existing.meta = meta;
      existing.expiresAt = this.expiry();
    } else this.threads.set(meta.id, { owner: user, meta, expiresAt: this.expiry(), items: new Map() });
  }

  async createThread(thread: ThreadMetadata, user: string, first: ThreadItem): Promise<void> {
    if (this.threads.has(thread.id)) throw new ConflictError(`Thread ${thread.id.slice(0, 80)} exists already.`);
    const meta = clone(threadData(thread));
    this.threads.set(meta.id, {
      owner: user,
      meta,
      expiresAt: this.expiry(),
      items: new Map([[itemSk(first.id), { item: clone(first) }]]),
    });
  }

  async loadThreads(user: string, opts: ThreadPageOptions = {}): Promise<Page<ThreadMetadata>> {
    const limit = opts.limit ?? DEFAULT_PAGE;
    const mine = [...this.threads.values()].filter((t) => t.owner === user && !t.deleted).map((t) => t.meta);
    mine.sort((a, b) => (userSk(a) < userSk(b) ? -1 : 1));
    if ((opts.order ?? 'desc') === 'desc') mine.reverse();
    let start = 0;
    if (opts.after !== undefined) {
      this.row(opts.after, user);
      start = mine.findIndex((t) => t.id === opts.after) + 1;
    }
    return toPage(clone(mine.slice(start, start + limit + 1)), limit);
  }

  async loadThreadItems(threadId: string, opts: ItemPageOptions = {}): Promise<Page<ThreadItem>> {
    const limit = opts.limit ?? DEFAULT_PAGE;
    let all = this.sorted(threadId);
    if ((opts.order ?? 'desc') === 'desc') all = all.reverse();
    let start = 0;
    if (opts.after !== undefined) {
      const sk = itemSk(opts.after);
      const at = all.findIndex((i) => itemSk(i.id) === sk);
      if (at < 0) throw new NotFoundError(`item ${opts.after.slice(0, 80)}`);
      start = at + 1;
    }
    const rows = all.slice(start).filter((i) => opts.includeHidden || !isHidden(i));
    return toPage(clone(rows.slice(0, limit + 1)), limit);
  }

  async allItems(threadId: string): Promise<ThreadItem[]> {
    return clone(this.sorted(threadId));
  }

  /** A live thread's items: items are written only while their thread lives. */
  private items(threadId: string): Map<string, { item: ThreadItem; feedback?: string }> {
    const t = this.live(threadId);
    if (!t) throw new NotFoundError(`thread ${threadId.slice(0, 80)}`);
    return t.items;
  }

  async addThreadItem(threadId: string, item: ThreadItem): Promise<void> {
    const sk = itemSk(item.id);
    const items = this.items(threadId);
    if (items.has(sk)) throw new ConflictError(`Item ${item.id.slice(0, 80)} exists already.`);
    items.set(sk, { item: clone(item) });
  }

  async saveItem(threadId: string, item: ThreadItem): Promise<void> {
    const items = this.items(threadId);
    const sk = itemSk(item.id);
    items.set(sk, { ...items.get(sk), item: clone(item) });
  }

  async loadItem(threadId: string, itemId: string): Promise<ThreadItem> {
    const found = this.live(threadId)?.items.get(itemSk(itemId));
    if (!found) throw new NotFoundError(`item ${itemId.slice(0, 80)}`);
    return clone(found.item);
  }

  async deleteThreadItem(threadId: string, itemId: string): Promise<void> {
    this.threads.get(threadId)?.items.delete(itemSk(itemId));
  }

  async setFeedback(threadId: string, itemIds: string[], kind: 'positive' | 'negative'): Promise<void> {
    const items = this.threads.get(threadId)?.items;
    for (const id of itemIds) {
      let sk: string;
      try {
        sk = itemSk(id);
      } catch {
        continue;
      }
      const row = items?.get(sk);
      if (row) row.feedback = kind;
    }
  }

  /** The feedback recorded on an item (for tests). */
  feedbackOf(threadId: string, itemId: string): string | undefined {
    return this.threads.get(threadId)?.items.get(itemSk(itemId))?.feedback;
  }

  async deleteThread(threadId: string, user: string): Promise<void> {
    const t = this.row(threadId, user);
    // A tombstone stays (the DynamoDB store's expires after a day): nothing writes the thread again.
    t.deleted = true;
    t.items.clear();
    t.meta = undefined as unknown as ThreadMetadata;
  }

  async refreshRetention(threadId: string): Promise<void> {
    const t = this.live(threadId);
    if (t && t.owner) t.expiresAt = this.expiry();
  }

  async saveAttachment(a: StoredAttachment, user: string): Promise<void> {
    const cur = this.attachments.get(a.attachment.id);
    if (cur && cur.user !== user) throw new NotFoundError(`attachment ${a.attachment.id.slice(0, 80)}`);
    this.attachments.set(a.attachment.id, { user, stored: clone(a) });
  }

  async loadAttachment(attachmentId: string, user: string): Promise<StoredAttachment> {
    const cur = this.attachments.get(attachmentId);
    if (!cur || cur.user !== user) throw new NotFoundError(`attachment ${attachmentId.slice(0, 80)}`);
    return clone(cur.stored);
  }

  async claimAttachment(a: StoredAttachment & { threadId: string }, user: string): Promise<void> {
    // Read and written in one step (no await between them), as DynamoDB's conditional write is one.
    const cur = this.attachments.get(a.attachment.id);
    if (!cur || cur.user !== user) throw new NotFoundError(`attachment ${a.attachment.id.slice(0, 80)}`);
    if (cur.stored.threadId && cur.stored.threadId !== a.threadId)
      throw new ConflictError(`Attachment ${a.attachment.id.slice(0, 80)} was sent in a message and stays with the conversation.`);
    this.attachments.set(a.attachment.id, { user, stored: clone(a) });
  }

  async deleteAttachment(attachmentId: string, user: string, opts: { unsentOnly?: boolean } = {}): Promise<void> {
    const cur = this.attachments.get(attachmentId);
    if (!cur || cur.user !== user) throw new NotFoundError(`attachment ${attachmentId.slice(0, 80)}`);
    if (opts.unsentOnly && cur.stored.threadId)
      throw new ConflictError(`Attachment ${attachmentId.slice(0, 80)} was sent in a message and stays with the conversation.`);
    this.attachments.delete(attachmentId);
  }
}
