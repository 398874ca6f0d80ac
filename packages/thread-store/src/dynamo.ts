import { type DynamoDBClient, ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, isHidden, NotFoundError, type Page, type ThreadItem, type ThreadMetadata } from '@lead-intake/chatkit-protocol';
import { batchWriteAll, documentClient } from '@lead-intake/dynamo';
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
import {
  attachmentKey,
  BY_USER_INDEX,
  ITEM_MAX,
  ITEM_PREFIX,
  itemKey,
  itemSk,
  META,
  threadKey,
  threadData,
  threadPk,
  userPk,
  userSk,
} from './keys';

export interface DynamoThreadStoreOptions {
  tableName: string;
  client?: DynamoDBClient;
  /** Conversations are personal data: every row expires this long after the thread's last activity (DynamoDB TTL on `ttl`). 0: never. */
  retentionDays?: number;
  now?: () => number;
}

type Row = Record<string, any>;

/**
 * A deleted thread leaves its META row as a tombstone (no data, not listed) for this long: every
 * write of a turn requires a live thread, so a turn still streaming when the thread is deleted
 * writes nothing, and nothing brings the thread back. Longer than any turn by far.
 */
const TOMBSTONE_SECONDS = 86_400;
const LIVE = 'attribute_exists(pk) AND attribute_not_exists(deleted_at)';
/** A live thread's row (a tombstone is no thread). */
const live = (row: Row | undefined): Row | undefined => (row && row.deleted_at === undefined ? row : undefined);

/** The ChatKit store on one DynamoDB table (keys.ts has the layout). */
export class DynamoThreadStore implements ChatStore {
  readonly tableName: string;
  private readonly doc: DynamoDBDocumentClient;
  private readonly retentionSeconds: number;
  private readonly now: () => number;
  /**
   * Threads whose owner this store has seen proven (a thread's user never changes): an item write
   * carries it (`user` on the item's row), checked in the same transaction against the thread's
   * row, so the thread table's stream tells the lead scheduler whose thread it is without a read.
   */
  private readonly owners = new Map<string, string>();

  constructor(opts: DynamoThreadStoreOptions) {
    this.tableName = opts.tableName;
    this.doc = documentClient(opts.client);
    this.retentionSeconds = Math.round((opts.retentionDays ?? 0) * 86400);
    this.now = opts.now ?? Date.now;
  }

  private knowOwner(threadId: string, user: string): void {
    if (this.owners.get(threadId) === user) return;
    this.owners.set(threadId, user);
    if (this.owners.size > 10_000) this.owners.delete(this.owners.keys().next().value!);
  }

  private ttl(): { ttl?: number } {
    return this.retentionSeconds > 0 ? { ttl: Math.floor(this.now() / 1000) + this.retentionSeconds } : {};
  }

  generateThreadId(): string {
    return timeSortableId('cthr');
  }

  generateItemId(kind: string): string {
    return timeSortableId(KIND_PREFIX[kind] ?? 'itm');
  }

  async threadOwner(threadId: string): Promise<string | null> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: threadKey(threadId),
        ProjectionExpression: '#u, deleted_at',
        ExpressionAttributeNames: { '#u': 'user' },
        ConsistentRead: true,
      }),
    );
    const user = (live(out.Item)?.user as string | undefined) ?? null;
    if (user) this.knowOwner(threadId, user);
    return user;
  }

  async threadWithItems(threadId: string): Promise<{ thread: ThreadMetadata; user: string; items: ThreadItem[] } | null> {
    // The whole partition, oldest first: every item, then META (it sorts after every item key).
    // One read where the thread's row and its items were two requests.
    const rows = await this.partition(threadId);
    const row = live(rows.find((r) => r.sk === META));
    if (!row) return null;
    if (typeof row.user === 'string') this.knowOwner(threadId, row.user);
    const items = rows.filter((r) => typeof r.sk === 'string' && r.sk.startsWith(ITEM_PREFIX)).map((r) => JSON.parse(r.data) as ThreadItem);
    return { thread: JSON.parse(row.data) as ThreadMetadata, user: row.user as string, items };
  }

  private async metaRow(threadId: string, user: string): Promise<Row> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: threadKey(threadId), ConsistentRead: true }));
    const row = live(out.Item);
    if (!row || row.user !== user) throw new NotFoundError(`thread ${threadId.slice(0, 80)}`);
    this.knowOwner(threadId, user);
    return row;
  }

  async loadThread(threadId: string, user: string): Promise<ThreadMetadata> {
    return JSON.parse((await this.metaRow(threadId, user)).data) as ThreadMetadata;
  }

  async loadThreadWithRecentItems(threadId: string, user: string, limit: number): Promise<LoadedThread> {
    // Newest first over the whole partition: META sorts after every item, so it comes back first.
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': threadPk(threadId) },
        ScanIndexForward: false,
        Limit: limit + 1,
        ConsistentRead: true,
      }),
    );
    const [meta, ...rest] = out.Items ?? [];
    if (!meta || meta.sk !== META || meta.user !== user || meta.deleted_at !== undefined)
      throw new NotFoundError(`thread ${threadId.slice(0, 80)}`);
    this.knowOwner(threadId, user);
    const items = rest.filter((r) => typeof r.sk === 'string' && r.sk.startsWith(ITEM_PREFIX)).map((r) => JSON.parse(r.data) as ThreadItem);
    return {
      thread: JSON.parse(meta.data) as ThreadMetadata,
      items: items.reverse(),
      ...(typeof meta.ttl === 'number' ? { expiresAt: meta.ttl } : {}),
    };
  }

  async saveThread(thread: ThreadMetadata, user: string, extra: Record<string, unknown> = {}): Promise<void> {
    const data = threadData(thread);
    const { id } = data;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...threadKey(id), gsi1pk: userPk(user), gsi1sk: userSk(data), user, data: JSON.stringify(data), ...this.ttl(), ...extra },
          // A thread id belongs to one user for ever, and a deleted thread stays deleted.
          ConditionExpression: 'attribute_not_exists(pk) OR (#u = :u AND attribute_not_exists(deleted_at))',
          ExpressionAttributeNames: { '#u': 'user' },
          ExpressionAttributeValues: { ':u': user },
        }),
      );
      this.knowOwner(id, user);
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new NotFoundError(`thread ${id.slice(0, 80)}`);
      throw e;
    }
  }

  async createThread(thread: ThreadMetadata, user: string, first: ThreadItem): Promise<void> {
    const data = threadData(thread);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...threadKey(data.id),
                  gsi1pk: userPk(user),
                  gsi1sk: userSk(data),
                  user,
                  data: JSON.stringify(data),
                  ...this.ttl(),
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: { TableName: this.tableName, Item: this.itemRow(data.id, first, user), ConditionExpression: 'attribute_not_exists(pk)' },
            },
          ],
        }),
      );
      this.knowOwner(data.id, user);
    } catch (e) {
      if (e instanceof TransactionCanceledException && e.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed'))
        throw new ConflictError(`Thread ${data.id.slice(0, 80)} exists already.`);
      throw e;
    }
  }

  /** When a hosted thread was fully imported (the export's resume marker), or null. */
  async importedAt(threadId: string): Promise<string | null> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: threadKey(threadId), ProjectionExpression: 'imported_at', ConsistentRead: true }),
    );
    return (out.Item?.imported_at as string | undefined) ?? null;
  }

  async loadThreads(user: string, opts: ThreadPageOptions = {}): Promise<Page<ThreadMetadata>> {
    const limit = opts.limit ?? DEFAULT_PAGE;
    let start: Row | undefined;
    if (opts.after !== undefined) {
      // The cursor is a thread id: its position on the index is its creation time.
      const cursor = await this.metaRow(opts.after, user);
      start = { ...threadKey(opts.after), gsi1pk: userPk(user), gsi1sk: cursor.gsi1sk };
    }
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: BY_USER_INDEX,
        KeyConditionExpression: 'gsi1pk = :u',
        ExpressionAttributeValues: { ':u': userPk(user) },
        ScanIndexForward: (opts.order ?? 'desc') === 'asc',
        Limit: limit + 1,
        ExclusiveStartKey: start,
      }),
    );
    return toPage(
      (out.Items ?? []).map((i) => JSON.parse(i.data) as ThreadMetadata),
      limit,
    );
  }

  async loadThreadItems(threadId: string, opts: ItemPageOptions = {}): Promise<Page<ThreadItem>> {
    const limit = opts.limit ?? DEFAULT_PAGE;
    const asc = (opts.order ?? 'desc') === 'asc';
    const cursorSk = opts.after !== undefined ? itemSk(opts.after) : undefined;
    // With a cursor, the range starts at the cursor itself (inclusive) so that one Query both
    // proves the cursor exists and continues after it.
    const [from, to] = cursorSk ? (asc ? [cursorSk, ITEM_MAX] : [ITEM_PREFIX, cursorSk]) : [ITEM_PREFIX, ITEM_MAX];
    const query: QueryCommandInput = {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': threadPk(threadId), ':from': from, ':to': to },
      ScanIndexForward: asc,
      ConsistentRead: true,
    };
    const rows: ThreadItem[] = [];
    let first = true;
    let start: Row | undefined;
    // Hidden items are skipped here, so a page is filled with visible items (more than one Query
    // only when hidden items fall inside it, which is rare: one per cancelled turn).
    do {
      const out = await this.doc.send(new QueryCommand({ ...query, Limit: limit + 2, ExclusiveStartKey: start }));
      let batch = out.Items ?? [];
      if (first && cursorSk) {
        if (batch[0]?.sk !== cursorSk) throw new NotFoundError(`item ${opts.after!.slice(0, 80)}`);
        batch = batch.slice(1);
      }
      first = false;
      for (const r of batch) {
        const item = JSON.parse(r.data) as ThreadItem;
        if (opts.includeHidden || !isHidden(item)) rows.push(item);
      }
      start = out.LastEvaluatedKey;
    } while (start && rows.length <= limit);
    return toPage(rows, limit);
  }

  async allItems(threadId: string): Promise<ThreadItem[]> {
    return (await this.partition(threadId, { items: true })).map((r) => JSON.parse(r.data) as ThreadItem);
  }

  /**
   * A thread's rows, oldest first, read to the end one 1 MB page after another: all of them (META
   * last, legacy item keys too), only its items, or every row's key alone.
   */
  private async partition(threadId: string, opts: { items?: boolean; keysOnly?: boolean } = {}): Promise<Row[]> {
    const rows: Row[] = [];
    let start: Row | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: opts.items ? 'pk = :pk AND sk BETWEEN :from AND :to' : 'pk = :pk',
          ExpressionAttributeValues: { ':pk': threadPk(threadId), ...(opts.items ? { ':from': ITEM_PREFIX, ':to': ITEM_MAX } : {}) },
          ProjectionExpression: opts.keysOnly ? 'pk, sk' : undefined,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      rows.push(...((out.Items ?? []) as Row[]));
      start = out.LastEvaluatedKey;
    } while (start);
    return rows;
  }

  /** An item's row; `user`: the thread's owner, only where the same write proves it (the stream's reader trusts it). */
  private itemRow(threadId: string, item: ThreadItem, user?: string): Row {
    return { ...itemKey(threadId, item.id), data: JSON.stringify(item), ...(user ? { user } : {}), ...this.ttl() };
  }

  async addThreadItem(threadId: string, item: ThreadItem): Promise<void> {
    await this.writeItem(threadId, item, true);
  }

  async saveItem(threadId: string, item: ThreadItem): Promise<void> {
    await this.writeItem(threadId, item, false);
  }

  /**
   * An item is written only while its thread lives (one transaction: the thread's row checked, the
   * item put), so a turn that outlives a `threads.delete` writes nothing. Two writes of the same
   * thread at once may conflict on the checked row: retried briefly. The owner the store knows goes
   * on the item's row, checked by the same condition (the row never says more than the thread does).
   */
  private async writeItem(threadId: string, item: ThreadItem, insert: boolean): Promise<void> {
    const user = this.owners.get(threadId);
    const put = {
      TableName: this.tableName,
      Item: this.itemRow(threadId, item, user),
      ...(insert ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
    };
    const check = user
      ? {
          ConditionExpression: `${LIVE} AND #u = :u`,
          ExpressionAttributeNames: { '#u': 'user' },
          ExpressionAttributeValues: { ':u': user },
        }
      : { ConditionExpression: LIVE };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [{ ConditionCheck: { TableName: this.tableName, Key: threadKey(threadId), ...check } }, { Put: put }],
          }),
        );
        return;
      } catch (e) {
        if (!(e instanceof TransactionCanceledException)) throw e;
        const [thread, row] = e.CancellationReasons ?? [];
        if (thread?.Code === 'ConditionalCheckFailed') throw new NotFoundError(`thread ${threadId.slice(0, 80)}`);
        if (row?.Code === 'ConditionalCheckFailed') throw new ConflictError(`Item ${item.id.slice(0, 80)} exists already.`);
        if (attempt >= 4 || ![thread?.Code, row?.Code].includes('TransactionConflict')) throw e;
        await new Promise((r) => setTimeout(r, 20 * 2 ** attempt + Math.random() * 20));
      }
    }
  }

  async loadItem(threadId: string, itemId: string): Promise<ThreadItem> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: itemKey(threadId, itemId), ConsistentRead: true }));
    if (!out.Item) throw new NotFoundError(`item ${itemId.slice(0, 80)}`);
    return JSON.parse(out.Item.data) as ThreadItem;
  }

  async deleteThreadItem(threadId: string, itemId: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: itemKey(threadId, itemId) }));
  }

  async setFeedback(threadId: string, itemIds: string[], kind: 'positive' | 'negative'): Promise<void> {
    const keys = [...new Set(itemIds)].flatMap((id) => {
      try {
        return [itemKey(threadId, id)];
      } catch {
        return []; // not an id this store can hold: not an item of the thread
      }
    });
    // Kept beside the item, never shown to the model. Parallel in small groups: a request holds
    // at most MAX_FEEDBACK_ITEMS ids (the parser's bound).
    for (let i = 0; i < keys.length; i += 10) {
      await Promise.all(
        keys.slice(i, i + 10).map((Key) =>
          this.doc
            .send(
              new UpdateCommand({
                TableName: this.tableName,
                Key,
                UpdateExpression: 'SET feedback = :k',
                ConditionExpression: 'attribute_exists(pk)',
                ExpressionAttributeValues: { ':k': kind },
              }),
            )
            .catch((e) => {
              if (!(e instanceof ConditionalCheckFailedException)) throw e;
            }),
        ),
      );
    }
  }

  /** Every row of a thread (META included), legacy item keys too. */
  private async partitionKeys(threadId: string): Promise<Array<{ pk: string; sk: string }>> {
    return (await this.partition(threadId, { keysOnly: true })) as Array<{ pk: string; sk: string }>;
  }

  async deleteThread(threadId: string, user: string): Promise<void> {
    // The tombstone first: from this write on the thread is neither read, listed nor written (a
    // turn still streaming writes nothing); then its items go. A delete cut short is finished by
    // the next one (which still answers not found: the thread is gone for its user).
    let again = false;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: threadKey(threadId),
          UpdateExpression: 'SET deleted_at = :now, #ttl = :ttl REMOVE gsi1pk, gsi1sk, #d',
          ConditionExpression: '#u = :u AND attribute_not_exists(deleted_at)',
          ExpressionAttributeNames: { '#u': 'user', '#d': 'data', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':u': user, ':now': this.now(), ':ttl': Math.floor(this.now() / 1000) + TOMBSTONE_SECONDS },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      const old = (e as { Item?: Record<string, { S?: string }> }).Item;
      if (!old || old.user?.S !== user || !old.deleted_at) throw new NotFoundError(`thread ${threadId.slice(0, 80)}`);
      again = true;
    }
    const keys = (await this.partitionKeys(threadId)).filter((k) => k.sk !== META);
    // Left unprocessed past every attempt: BatchIncompleteError, and a delete again finishes it (the tombstone stays).
    await batchWriteAll(
      this.doc,
      this.tableName,
      keys.map((Key) => ({ DeleteRequest: { Key } })),
    );
    if (again) throw new NotFoundError(`thread ${threadId.slice(0, 80)}`);
  }

  async refreshRetention(threadId: string): Promise<void> {
    const { ttl } = this.ttl();
    if (ttl === undefined) return;
    const keys = await this.partitionKeys(threadId);
    for (let i = 0; i < keys.length; i += 10) {
      await Promise.all(
        keys.slice(i, i + 10).map((Key) =>
          this.doc
            .send(
              new UpdateCommand({
                TableName: this.tableName,
                Key,
                UpdateExpression: 'SET #t = :t',
                // Deleted meanwhile: a tombstone keeps its own expiry.
                ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted_at)',
                ExpressionAttributeNames: { '#t': 'ttl' },
                ExpressionAttributeValues: { ':t': ttl },
              }),
            )
            .catch((e) => {
              if (!(e instanceof ConditionalCheckFailedException)) throw e; // deleted meanwhile
            }),
        ),
      );
    }
  }

  async saveAttachment(a: StoredAttachment, user: string): Promise<void> {
    const { id } = a.attachment;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...attachmentKey(id),
            user,
            data: JSON.stringify(a.attachment),
            size: a.size,
            thread_id: a.threadId ?? undefined,
            // Never sent in a message: gone with its object (the bucket deletes those after a day).
            ...(a.threadId ? this.ttl() : { ttl: Math.floor(this.now() / 1000) + 2 * 86400 }),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #u = :u',
          ExpressionAttributeNames: { '#u': 'user' },
          ExpressionAttributeValues: { ':u': user },
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new NotFoundError(`attachment ${id.slice(0, 80)}`);
      throw e;
    }
  }

  async loadAttachment(attachmentId: string, user: string): Promise<StoredAttachment> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: attachmentKey(attachmentId), ConsistentRead: true }));
    if (!out.Item || out.Item.user !== user) throw new NotFoundError(`attachment ${attachmentId.slice(0, 80)}`);
    return { attachment: JSON.parse(out.Item.data), size: out.Item.size as number, threadId: (out.Item.thread_id as string) ?? null };
  }

  async claimAttachment(a: StoredAttachment & { threadId: string }, user: string): Promise<void> {
    const { id } = a.attachment;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: attachmentKey(id),
          UpdateExpression: 'SET #d = :d, #s = :s, thread_id = :t, #ttl = :ttl',
          ConditionExpression: '#u = :u AND (attribute_not_exists(thread_id) OR thread_id = :t)',
          ExpressionAttributeNames: { '#u': 'user', '#d': 'data', '#s': 'size', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':u': user,
            ':t': a.threadId,
            ':d': JSON.stringify(a.attachment),
            ':s': a.size,
            // Kept as long as the conversation is (or, without a retention, for good).
            ':ttl': this.ttl().ttl ?? null,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw attachmentRefusal(id, user, e);
      throw e;
    }
  }

  async deleteAttachment(attachmentId: string, user: string, opts: { unsentOnly?: boolean } = {}): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: attachmentKey(attachmentId),
          ConditionExpression: opts.unsentOnly ? '#u = :u AND attribute_not_exists(thread_id)' : '#u = :u',
          ExpressionAttributeNames: { '#u': 'user' },
          ExpressionAttributeValues: { ':u': user },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw attachmentRefusal(attachmentId, user, e);
      throw e;
    }
  }
}

/** Why a conditional attachment write was refused, from the record it found: none or another's (404), sent (409). */
function attachmentRefusal(id: string, user: string, e: ConditionalCheckFailedException): Error {
  const item = (e as { Item?: Record<string, { S?: string }> }).Item;
  if (!item || item.user?.S !== user) return new NotFoundError(`attachment ${id.slice(0, 80)}`);
  return new ConflictError(`Attachment ${id.slice(0, 80)} was sent in a message and stays with the conversation.`);
}
