import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ITEM_PREFIX, timeSortableId } from './ids';
import { NotFoundError, type Order, type Page, type ThreadItem, type ThreadMetadata } from './types';

/**
 * One DynamoDB table:
 *   thread:  pk = THREAD#<threadId>, sk = META,          gsi1pk = USER#<user>, gsi1sk = <threadId>
 *   item:    pk = THREAD#<threadId>, sk = ITEM#<itemId>
 * Ids are time-sortable, so a thread's items come back in creation order from one Query, a user's
 * threads from one Query on the `by-user` index, and a cursor (`after`, an id) is its own sort key.
 * Every thread-scoped call names the user: another user's thread is "not found".
 * `META` must stay the greatest sort key in a thread's partition: a turn reads it and the newest
 * items in one newest-first Query (`loadThreadWithRecentItems`).
 */

export interface ThreadStoreOptions {
  tableName: string;
  client?: DynamoDBClient;
}

const threadKey = (id: string) => ({ pk: `THREAD#${id}`, sk: 'META' });
const itemKey = (threadId: string, itemId: string) => ({ pk: `THREAD#${threadId}`, sk: `ITEM#${itemId}` });

export const BY_USER_INDEX = 'by-user';
const DEFAULT_PAGE = 20;

export class ThreadStore {
  readonly tableName: string;
  private readonly doc: DynamoDBDocumentClient;

  constructor(opts: ThreadStoreOptions) {
    this.tableName = opts.tableName;
    this.doc = DynamoDBDocumentClient.from(opts.client ?? new DynamoDBClient({ maxAttempts: 3 }), { marshallOptions: { removeUndefinedValues: true } });
  }

  generateThreadId(): string {
    return timeSortableId('cthr');
  }

  generateItemId(type: keyof typeof ITEM_PREFIX | string): string {
    return timeSortableId(ITEM_PREFIX[type] ?? 'itm');
  }

  /** The thread's owner, for checks that must not reveal whether another user's thread exists. */
  async threadOwner(threadId: string): Promise<string | null> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: threadKey(threadId), ProjectionExpression: '#u', ExpressionAttributeNames: { '#u': 'user' }, ConsistentRead: true }));
    return (out.Item?.user as string | undefined) ?? null;
  }

  async loadThread(threadId: string, user: string): Promise<ThreadMetadata> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: threadKey(threadId), ConsistentRead: true }));
    if (!out.Item || out.Item.user !== user) throw new NotFoundError(`thread ${threadId}`);
    return JSON.parse(out.Item.data) as ThreadMetadata;
  }

  /** Upserts the metadata only (never an `items` page a caller may have attached). */
  async saveThread(thread: ThreadMetadata, user: string, extra: Record<string, unknown> = {}): Promise<void> {
    const { id, title, created_at, status, allowed_image_domains, metadata } = thread;
    const data: ThreadMetadata = { id, title: title ?? null, created_at, status, allowed_image_domains: allowed_image_domains ?? null, metadata: metadata ?? {} };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...threadKey(id), gsi1pk: `USER#${user}`, gsi1sk: id, user, data: JSON.stringify(data), ...extra },
          // A thread id belongs to one user for ever.
          ConditionExpression: 'attribute_not_exists(pk) OR #u = :u',
          ExpressionAttributeNames: { '#u': 'user' },
          ExpressionAttributeValues: { ':u': user },
        }),
      );
    } catch (e) {
      if ((e as Error).name === 'ConditionalCheckFailedException') throw new NotFoundError(`thread ${id}`);
      throw e;
    }
  }

  /** When a hosted thread was fully imported (the export's resume marker), or null. */
  async importedAt(threadId: string): Promise<string | null> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: threadKey(threadId), ProjectionExpression: 'imported_at', ConsistentRead: true }));
    return (out.Item?.imported_at as string | undefined) ?? null;
  }

  /** A user's threads, newest first by default; `after` is the last thread id of the previous page. */
  async loadThreads(user: string, opts: { limit?: number; after?: string; order?: Order } = {}): Promise<Page<ThreadMetadata>> {
    const limit = opts.limit ?? DEFAULT_PAGE;
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_USER_INDEX,
        KeyConditionExpression: 'gsi1pk = :u',
        ExpressionAttributeValues: { ':u': `USER#${user}` },
        ScanIndexForward: (opts.order ?? 'desc') === 'asc',
        Limit: limit + 1,
        ExclusiveStartKey: opts.after ? { ...threadKey(opts.after), gsi1pk: `USER#${user}`, gsi1sk: opts.after } : undefined,
      }),
    );
    return page((out.Items ?? []).map((i) => JSON.parse(i.data) as ThreadMetadata), limit);
  }

  /** A thread's items in creation order (either way); `after` is exclusive. Hidden items included. */
  async loadThreadItems(threadId: string, opts: { limit?: number; after?: string; order?: Order } = {}): Promise<Page<ThreadItem>> {
    const limit = opts.limit ?? DEFAULT_PAGE;
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :item)',
        ExpressionAttributeValues: { ':pk': `THREAD#${threadId}`, ':item': 'ITEM#' },
        ScanIndexForward: (opts.order ?? 'desc') === 'asc',
        Limit: limit + 1,
        ExclusiveStartKey: opts.after ? itemKey(threadId, opts.after) : undefined,
        ConsistentRead: true,
      }),
    );
    return page((out.Items ?? []).map((i) => JSON.parse(i.data) as ThreadItem), limit);
  }

  /**
   * The thread (checked against the user) and its `limit` most recent items, oldest first, in one
   * Query: `META` sorts after every `ITEM#`, so newest-first it comes back first. This is the chat
   * turn's read, one round trip instead of a Get and a Query.
   */
  async loadThreadWithRecentItems(threadId: string, user: string, limit: number): Promise<{ thread: ThreadMetadata; items: ThreadItem[] }> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `THREAD#${threadId}` },
        ScanIndexForward: false,
        Limit: limit + 1,
        ConsistentRead: true,
      }),
    );
    const [meta, ...rest] = out.Items ?? [];
    if (!meta || meta.sk !== 'META' || meta.user !== user) throw new NotFoundError(`thread ${threadId}`);
    const items = rest.filter((i) => typeof i.sk === 'string' && i.sk.startsWith('ITEM#')).map((i) => JSON.parse(i.data) as ThreadItem);
    return { thread: JSON.parse(meta.data) as ThreadMetadata, items: items.reverse() };
  }

  /** Every item of a thread, oldest first (for transcripts and exports). */
  async allItems(threadId: string): Promise<ThreadItem[]> {
    const all: ThreadItem[] = [];
    let after: string | undefined;
    do {
      const p = await this.loadThreadItems(threadId, { order: 'asc', limit: 100, after });
      all.push(...p.data);
      after = p.has_more ? p.after : undefined;
    } while (after);
    return all;
  }

  async addThreadItem(threadId: string, item: ThreadItem): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...itemKey(threadId, item.id), data: JSON.stringify(item) }, ConditionExpression: 'attribute_not_exists(pk)' }));
  }

  /** Upsert by id. */
  async saveItem(threadId: string, item: ThreadItem): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...itemKey(threadId, item.id), data: JSON.stringify(item) } }));
  }

  async loadItem(threadId: string, itemId: string): Promise<ThreadItem> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: itemKey(threadId, itemId), ConsistentRead: true }));
    if (!out.Item) throw new NotFoundError(`item ${itemId}`);
    return JSON.parse(out.Item.data) as ThreadItem;
  }

  async deleteThreadItem(threadId: string, itemId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: itemKey(threadId, itemId) }));
  }

  /** Records feedback on items of the thread (kept beside the item, never shown to the model). */
  async setFeedback(threadId: string, itemIds: string[], kind: string): Promise<void> {
    for (const id of itemIds) {
      await this.doc
        .send(new UpdateCommand({ TableName: this.tableName, Key: itemKey(threadId, id), UpdateExpression: 'SET feedback = :k', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':k': kind } }))
        .catch((e) => {
          if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
        });
    }
  }

  /** Deletes the thread and all its items. */
  async deleteThread(threadId: string, user: string): Promise<void> {
    await this.loadThread(threadId, user);
    const keys: Array<{ pk: string; sk: string }> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `THREAD#${threadId}` }, ProjectionExpression: 'pk, sk', ExclusiveStartKey: start }));
      keys.push(...((out.Items ?? []) as Array<{ pk: string; sk: string }>));
      start = out.LastEvaluatedKey;
    } while (start);
    for (let i = 0; i < keys.length; i += 25) {
      let pending: any[] = keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 0; pending.length && attempt < 5; attempt++) {
        const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = out.UnprocessedItems?.[this.tableName] ?? [];
        if (pending.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
      if (pending.length) throw new Error('could not delete every item of the thread');
    }
  }
}

/** The reference's pagination: fetch limit+1; `after` only when there is more. */
function page<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const has_more = rows.length > limit;
  const data = rows.slice(0, limit);
  return has_more ? { data, has_more, after: data[data.length - 1]!.id } : { data, has_more };
}
