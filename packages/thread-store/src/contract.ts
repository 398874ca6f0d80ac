import type { Attachment, Order, Page, ThreadItem, ThreadMetadata } from '@lead-intake/chatkit-protocol';

export interface ItemPageOptions {
  limit?: number;
  /** Exclusive: the id of the last item of the previous page. An id not in the thread is a NotFoundError. */
  after?: string;
  order?: Order;
  /** Hidden items (model-only notes) are left out of pages unless asked for. */
  includeHidden?: boolean;
}

export interface ThreadPageOptions {
  limit?: number;
  /** Exclusive: the id of the last thread of the previous page; not one of the user's threads: NotFoundError. */
  after?: string;
  order?: Order;
}

export interface LoadedThread {
  thread: ThreadMetadata;
  /** The most recent items, oldest first, hidden ones included (the model sees them). */
  items: ThreadItem[];
  /** Unix seconds at which the thread expires (its retention), if it has one. */
  expiresAt?: number;
}

/**
 * An attachment as this server keeps it (the official Store's `save_attachment`): the object the
 * client sees, without its URLs (they are issued fresh when read), its declared size, and the
 * thread of the message that sent it (null until then).
 */
export interface StoredAttachment {
  attachment: Attachment;
  size: number;
  threadId: string | null;
}

/**
 * The ChatKit Store as this server uses it (the official `Store`, chatkit/store.py, scoped to a
 * user). Two implementations keep the same contract, checked by the same tests
 * (contract.test.ts): DynamoDB (`DynamoThreadStore`) and memory (`MemoryThreadStore`).
 * Rules: items are ordered by creation whatever their type; pages follow the official pagination
 * (exclusive `after`, `has_more`, `after` only with `has_more`) over visible items, so a hidden
 * item never shows in a page nor becomes a cursor; a thread exists only for its user.
 */
export interface ChatStore {
  generateThreadId(): string;
  /** `kind`: message, tool_call, workflow, task, attachment, sdk_hidden_context. */
  generateItemId(kind: string): string;
  /** The owner of a thread, or null: for checks that must not tell whether another user's thread exists. */
  threadOwner(threadId: string): Promise<string | null>;
  /**
   * A thread, its owner (whoever that is) and every item, oldest first, hidden ones included: the
   * lead pipeline's read, one query of the thread's partition. Null: no such thread (or deleted).
   */
  threadWithItems(threadId: string): Promise<{ thread: ThreadMetadata; user: string; items: ThreadItem[] } | null>;
  loadThread(threadId: string, user: string): Promise<ThreadMetadata>;
  /** The thread and its `limit` most recent items in one read (the chat turn's read). */
  loadThreadWithRecentItems(threadId: string, user: string, limit: number): Promise<LoadedThread>;
  /**
   * Upserts the metadata only; a thread id belongs to one user for ever (another user: NotFoundError),
   * and a deleted thread stays deleted (NotFoundError).
   */
  saveThread(thread: ThreadMetadata, user: string): Promise<void>;
  /** A new thread with its first item, both or neither (an id that exists, or existed: ConflictError). */
  createThread(thread: ThreadMetadata, user: string, first: ThreadItem): Promise<void>;
  loadThreads(user: string, opts?: ThreadPageOptions): Promise<Page<ThreadMetadata>>;
  loadThreadItems(threadId: string, opts?: ItemPageOptions): Promise<Page<ThreadItem>>;
  /** Every item, oldest first, hidden ones included (transcripts, exports). */
  allItems(threadId: string): Promise<ThreadItem[]>;
  /**
   * Inserts; an item id that exists already is a ConflictError. Items are written only while their
   * thread lives: none (never created, or deleted, even while a turn streams) is a NotFoundError.
   */
  addThreadItem(threadId: string, item: ThreadItem): Promise<void>;
  /** Upserts by id, under the same rule. */
  saveItem(threadId: string, item: ThreadItem): Promise<void>;
  loadItem(threadId: string, itemId: string): Promise<ThreadItem>;
  deleteThreadItem(threadId: string, itemId: string): Promise<void>;
  /** Feedback on items of the thread; ids that are not items of it are ignored. */
  setFeedback(threadId: string, itemIds: string[], kind: 'positive' | 'negative'): Promise<void>;
  /**
   * Deletes the thread and every item of it. Deletion wins: from the first write of it the thread
   * is gone for every read and write (a turn still streaming writes nothing more).
   */
  deleteThread(threadId: string, user: string): Promise<void>;
  /** Restarts the thread's retention (every row of it) from now. */
  refreshRetention(threadId: string): Promise<void>;
  /** Upserts an attachment of `user` (an id that is another user's: NotFoundError). */
  saveAttachment(a: StoredAttachment, user: string): Promise<void>;
  /** The user's attachment; anyone else's, or none: NotFoundError. */
  loadAttachment(attachmentId: string, user: string): Promise<StoredAttachment>;
  /**
   * Claims the user's attachment for the thread of the message that sends it (one conditional
   * write: two messages racing for it, one wins): gone or another's, NotFoundError; already sent
   * in another thread, ConflictError. Claiming it again for the same thread is fine (a retry).
   */
  claimAttachment(a: StoredAttachment & { threadId: string }, user: string): Promise<void>;
  /**
   * Deletes the user's attachment record (anyone else's, or none: NotFoundError). With
   * `unsentOnly`, one already claimed by a message is refused (ConflictError), in the same write.
   */
  deleteAttachment(attachmentId: string, user: string, opts?: { unsentOnly?: boolean }): Promise<void>;
}

/** The official pagination over rows already in order: `limit` rows, `after` only when there are more. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const has_more = rows.length > limit;
  const data = rows.slice(0, limit);
  return has_more ? { data, has_more, after: data[data.length - 1]!.id } : { data, has_more };
}

export const DEFAULT_PAGE = 20;
