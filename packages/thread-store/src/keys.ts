import { NotFoundError, type ThreadMetadata } from '@lead-intake/chatkit-protocol';

/**
 * The thread table's keys (one DynamoDB table; docs/backend.md, "Thread store"):
 *   thread:  pk = THREAD#<threadId>, sk = META,                   gsi1pk = USER#<user>, gsi1sk = <created_at>#<threadId>
 *   item:    pk = THREAD#<threadId>, sk = ITM#<order key>#<prefix>
 *   attachment: pk = ATTACH#<attachmentId>, sk = META           (user, data, size, thread_id)
 * An item id is `<prefix>_<order key>` (ids.ts): the order key starts with the creation time, so
 * a thread's items sort by creation whatever their type, and an id (a page cursor) maps to its
 * sort key without a lookup. `META` sorts after every item key, so the newest-first Query a turn
 * makes returns the thread first. Rows written before 2026-11-27 used `ITEM#<id>`, which sorted by
 * type prefix first; `migrateThreadKeys` (migrate.ts) rewrites them.
 */
export const META = 'META';
export const ITEM_PREFIX = 'ITM#';
export const LEGACY_ITEM_PREFIX = 'ITEM#';
/** Greater than every item key (used as the upper bound of a range). */
export const ITEM_MAX = 'ITM#~';
export const BY_USER_INDEX = 'by-user';

const ITEM_ID = /^([a-z]{1,8})_([0-9a-z]{13}[0-9a-f]{8})$/;

export const threadPk = (threadId: string) => `THREAD#${threadId}`;
export const threadKey = (threadId: string) => ({ pk: threadPk(threadId), sk: META });
/** An attachment's record: its own partition (it exists before any thread holds it). */
export const attachmentKey = (attachmentId: string) => ({ pk: `ATTACH#${attachmentId}`, sk: META });
export const userPk = (user: string) => `USER#${user}`;
export const userSk = (thread: { id: string; created_at: string }) => `${canonicalTime(thread.created_at)}#${thread.id}`;

/** Whether an id has the time-sortable shape this store orders by. */
export const isItemId = (id: string): boolean => ITEM_ID.test(id);

/** The sort key of an item id; an id of any other shape cannot exist here, so it is not found. */
export function itemSk(itemId: string): string {
  const m = ITEM_ID.exec(itemId);
  if (!m) throw new NotFoundError(`item ${itemId.slice(0, 80)}`);
  return `${ITEM_PREFIX}${m[2]}#${m[1]}`;
}

export const itemKey = (threadId: string, itemId: string) => ({ pk: threadPk(threadId), sk: itemSk(itemId) });

/** ISO-8601 in one spelling (`YYYY-MM-DDTHH:mm:ss.sssZ`), so that strings sort as times. */
export function canonicalTime(iso: string): string {
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString();
}

/** A thread's metadata as stored: the fields the protocol has, times in one spelling. */
export function threadData(thread: ThreadMetadata): ThreadMetadata {
  const { id, title, created_at, status, allowed_image_domains, metadata } = thread;
  return {
    id,
    title: title ?? null,
    created_at: canonicalTime(created_at),
    status,
    allowed_image_domains: allowed_image_domains ?? null,
    metadata: metadata ?? {},
  };
}
