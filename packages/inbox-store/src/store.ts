import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand, TransactWriteCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll, documentClient } from '@lead-intake/dynamo';
import { searchKey, searchText } from './search';
import {
  NOTE_MAX,
  REASON_MAX,
  type HistoryEntry,
  type InboxDetail,
  type InboxLead,
  type LeadStatus,
  type NewInboxLead,
  type OutcomeChange,
  type RecordKind,
} from './record';

/**
 * The inbox table (`pk`, `sk`; the sparse index `list-index` on `list_pk`/`list_sk`; TTL `ttl`):
 *
 *   pk SHOP#<shop>  sk LEAD#<thread>               the lead: what the list shows, its status
 *   pk SHOP#<shop>  sk LEAD#<thread>#H#<at>#<rand>  one change of status or note (who, when)
 *
 * The shop's id is in every key, so one table can hold many shops; a detail page is one Query
 * (the lead and its history share a prefix). The list is the index, newest first per view
 * (`list_pk` SHOP#<shop>#lead or #filtered, `list_sk` the time and the thread).
 */
export const LIST_INDEX = 'list-index';

export class NotFoundInInbox extends Error {
  override name = 'NotFoundInInbox';
}

export interface ListQuery {
  view: RecordKind;
  status?: LeadStatus;
  urgent?: boolean;
  /** Epoch seconds, inclusive. */
  from?: number;
  to?: number;
  search?: string;
  /** From a previous page's `next`. */
  cursor?: string;
  limit?: number;
}

export interface ListPage {
  leads: InboxLead[];
  /** The next page's cursor, or null. */
  next: string | null;
}

const SK_LEAD = (threadId: string) => `LEAD#${threadId}`;
const PK_SHOP = (shopId: string) => `SHOP#${shopId}`;
const LIST_PK = (shopId: string, kind: RecordKind) => `SHOP#${shopId}#${kind}`;
const stamp = (at: number) => String(at).padStart(11, '0');
const msStamp = (clock: (() => number) | undefined) => String((clock ?? Date.now)()).padStart(13, '0');

export class InboxStore {
  private readonly doc: DynamoDBDocumentClient;
  constructor(private readonly opts: { tableName: string; client?: DynamoDBClient; clock?: () => number }) {
    this.doc = documentClient(opts.client);
  }

  private now(): number {
    return Math.floor((this.opts.clock ?? Date.now)() / 1000);
  }

  /**
   * The lead's record, written once: a retry, a second channel or a second attempt finds it and
   * changes nothing (`exists`). A filtered conversation's record is replaced by its lead (rescued,
   * or a later evaluation that found a customer); its history stays.
   */
  async recordLead(lead: NewInboxLead): Promise<'recorded' | 'exists'> {
    return this.put({ ...lead, kind: 'lead' }, 'attribute_not_exists(pk) OR kind = :filtered');
  }

  /** A conversation the triage held back, once (never over a lead). */
  async recordFiltered(lead: NewInboxLead): Promise<'recorded' | 'exists'> {
    return this.put({ ...lead, kind: 'filtered' }, 'attribute_not_exists(pk)');
  }

  private async put(l: NewInboxLead, condition: string): Promise<'recorded' | 'exists'> {
    const item = {
      pk: PK_SHOP(l.shopId),
      sk: SK_LEAD(l.threadId),
      list_pk: LIST_PK(l.shopId, l.kind),
      list_sk: `${stamp(l.at)}#${l.threadId}`,
      shop_id: l.shopId,
      thread_id: l.threadId,
      kind: l.kind,
      at: l.at,
      name: l.name,
      phones: l.phones,
      emails: l.emails,
      vehicle: l.vehicle,
      need: l.need,
      urgent: l.urgent,
      after_hours: l.afterHours,
      follow_up_of: l.followUpOf,
      request: l.request,
      lead_kind: l.leadKind,
      page_url: l.pageUrl,
      trigger: l.trigger,
      summary: l.summary,
      flags: l.flags,
      status: 'new',
      search: searchText(l),
      updated_at: this.now(),
      ttl: l.expiresAt,
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.opts.tableName,
          Item: item,
          ConditionExpression: condition,
          ...(condition.includes(':filtered') ? { ExpressionAttributeValues: { ':filtered': 'filtered' } } : {}),
        }),
      );
      return 'recorded';
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return 'exists';
      throw e;
    }
  }

  /** One page of a view, newest first, with the filters applied (a filter reads on until the page is full or the view ends). */
  async list(shopId: string, q: ListQuery): Promise<ListPage> {
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 200);
    const names: Record<string, string> = { '#lp': 'list_pk' };
    const values: Record<string, unknown> = { ':lp': LIST_PK(shopId, q.view) };
    let keyCond = '#lp = :lp';
    if (q.from !== undefined || q.to !== undefined) {
      names['#ls'] = 'list_sk';
      values[':from'] = stamp(q.from ?? 0);
      values[':to'] = `${stamp(q.to ?? 99_999_999_999)}#~`;
      keyCond += ' AND #ls BETWEEN :from AND :to';
    }
    const filters: string[] = [];
    if (q.status) {
      names['#st'] = 'status';
      values[':st'] = q.status;
      filters.push('#st = :st');
    }
    if (q.urgent !== undefined) {
      values[':urg'] = q.urgent;
      filters.push('urgent = :urg');
    }
    const key = q.search ? searchKey(q.search) : null;
    if (key) {
      names['#se'] = 'search';
      values[':se'] = key;
      filters.push('contains(#se, :se)');
    }
    const input: QueryCommandInput = {
      TableName: this.opts.tableName,
      IndexName: LIST_INDEX,
      KeyConditionExpression: keyCond,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
      ScanIndexForward: false,
    };
    const leads: InboxLead[] = [];
    let start = decodeCursor(q.cursor);
    // A filtered view reads pages until it has a page of matches; bounded so one request stays cheap.
    for (let reads = 0; reads < 20; reads++) {
      const out = await this.doc.send(new QueryCommand({ ...input, Limit: limit + 1 - leads.length, ExclusiveStartKey: start }));
      for (const item of out.Items ?? []) leads.push(fromItem(item));
      start = out.LastEvaluatedKey;
      if (!start || leads.length > limit) break;
    }
    if (leads.length > limit) {
      const last = leads[limit - 1]!;
      return {
        leads: leads.slice(0, limit),
        next: encodeCursor({ pk: PK_SHOP(shopId), sk: SK_LEAD(last.threadId), list_pk: LIST_PK(shopId, q.view), list_sk: listSk(last) }),
      };
    }
    return { leads, next: start ? encodeCursor(start) : null };
  }

  /** Every lead of a view in a period, newest first (the numbers, the CSV). */
  async all(shopId: string, q: Omit<ListQuery, 'cursor' | 'limit'>, max = 10_000): Promise<InboxLead[]> {
    const out: InboxLead[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.list(shopId, { ...q, cursor, limit: 200 });
      out.push(...page.leads);
      cursor = page.next ?? undefined;
    } while (cursor && out.length < max);
    return out.slice(0, max);
  }

  /** A lead and its history, or null (another shop's, or none). */
  async get(shopId: string, threadId: string): Promise<InboxDetail | null> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.opts.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
          ExpressionAttributeValues: { ':pk': PK_SHOP(shopId), ':sk': SK_LEAD(threadId) },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    // `LEAD#<thread>` is a prefix of another thread's id too: keep this thread's own rows.
    const own = items.filter((i) => i.sk === SK_LEAD(threadId) || String(i.sk).startsWith(`${SK_LEAD(threadId)}#H#`));
    const head = own.find((i) => i.sk === SK_LEAD(threadId));
    if (!head) return null;
    // In key order: the order the changes were made.
    const history = own.filter((i) => i !== head).map((i) => i.entry as HistoryEntry);
    return { lead: fromItem(head), history };
  }

  /**
   * The owner's change (an outcome, a note), recorded with who and when in one transaction with
   * its history entry: the first `Contacted` time is kept (the time to callback). NotFoundInInbox
   * for a lead this shop does not have.
   */
  async change(shopId: string, threadId: string, c: OutcomeChange, by: string): Promise<void> {
    const at = this.now();
    const sets = ['updated_at = :at'];
    const values: Record<string, unknown> = { ':at': at, ':lead': 'lead' };
    const names: Record<string, string> = {};
    const entry: HistoryEntry = { at, by };
    if (c.status) {
      names['#st'] = 'status';
      values[':st'] = c.status;
      sets.push('#st = :st');
      entry.status = c.status;
      if (c.status === 'contacted') sets.push('first_contacted_at = if_not_exists(first_contacted_at, :at)');
      if (c.status === 'booked') {
        values[':bv'] = c.bookedValue ?? null;
        sets.push('booked_value = :bv');
        entry.bookedValue = c.bookedValue ?? null;
      }
      if (c.status === 'lost') {
        values[':lr'] = c.lostReason?.slice(0, REASON_MAX) ?? null;
        sets.push('lost_reason = :lr');
        entry.lostReason = (values[':lr'] as string | null) ?? null;
      }
    }
    if (c.note !== undefined) {
      values[':note'] = c.note?.slice(0, NOTE_MAX) ?? null;
      sets.push('note = :note');
      entry.note = (values[':note'] as string | null) ?? null;
    }
    await this.transact(shopId, threadId, sets, names, values, entry, 'attribute_exists(pk) AND kind = :lead');
  }

  /** "This is a customer": the filtered conversation becomes a lead of the list (its alert is the lead service's to send). */
  async rescue(shopId: string, threadId: string, by: string): Promise<void> {
    const at = this.now();
    await this.transact(
      shopId,
      threadId,
      ['updated_at = :at', 'rescued_at = if_not_exists(rescued_at, :at)'],
      {},
      { ':at': at, ':filtered': 'filtered' },
      { at, by, event: 'rescued' },
      'attribute_exists(pk) AND kind = :filtered',
    );
  }

  private async transact(
    shopId: string,
    threadId: string,
    sets: string[],
    names: Record<string, string>,
    values: Record<string, unknown>,
    entry: HistoryEntry,
    condition: string,
  ): Promise<void> {
    const pk = PK_SHOP(shopId);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.opts.tableName,
                Key: { pk, sk: SK_LEAD(threadId) },
                UpdateExpression: `SET ${sets.join(', ')}`,
                ConditionExpression: condition,
                ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
                ExpressionAttributeValues: values,
              },
            },
            {
              Put: {
                TableName: this.opts.tableName,
                Item: {
                  pk,
                  // Milliseconds in the key: the history reads back in the order it was made.
                  sk: `${SK_LEAD(threadId)}#H#${msStamp(this.opts.clock)}#${randomBytes(4).toString('hex')}`,
                  entry,
                  // The history goes with its lead (retention follows the conversation's).
                  ttl: entry.at + 400 * 86400,
                },
              },
            },
          ],
        }),
      );
    } catch (e) {
      if ((e as Error).name === 'TransactionCanceledException') throw new NotFoundInInbox(threadId);
      throw e;
    }
  }

  /** Deletes these conversations' records and their history (a deletion request: `npm run lead -- forget`). */
  async forget(shopId: string, threadIds: string[]): Promise<number> {
    let removed = 0;
    for (const threadId of threadIds) {
      const detail = await this.doc.send(
        new QueryCommand({
          TableName: this.opts.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
          ExpressionAttributeValues: { ':pk': PK_SHOP(shopId), ':sk': SK_LEAD(threadId) },
          ProjectionExpression: 'pk, sk',
          ConsistentRead: true,
        }),
      );
      const keys = (detail.Items ?? []).filter((i) => i.sk === SK_LEAD(threadId) || String(i.sk).startsWith(`${SK_LEAD(threadId)}#H#`));
      // Every row, or BatchIncompleteError (never a count of rows that are still there): forget runs again.
      await batchWriteAll(
        this.doc,
        this.opts.tableName,
        keys.map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } })),
      );
      removed += keys.length;
    }
    return removed;
  }
}

const listSk = (l: InboxLead) => `${stamp(l.at)}#${l.threadId}`;
const encodeCursor = (k: Record<string, unknown>) => Buffer.from(JSON.stringify(k)).toString('base64url');
function decodeCursor(c: string | undefined): Record<string, unknown> | undefined {
  if (!c) return undefined;
  try {
    const k = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (k && typeof k === 'object' && ['pk', 'sk', 'list_pk', 'list_sk'].every((f) => typeof k[f] === 'string')) return k;
  } catch {
    // an unreadable cursor starts from the top
  }
  return undefined;
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const num = (v: unknown) => (typeof v === 'number' ? v : null);
const strs = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function fromItem(i: Record<string, unknown>): InboxLead {
  return {
    shopId: String(i.shop_id),
    threadId: String(i.thread_id),
    kind: i.kind === 'filtered' ? 'filtered' : 'lead',
    at: Number(i.at),
    name: str(i.name),
    phones: strs(i.phones),
    emails: strs(i.emails),
    vehicle: str(i.vehicle),
    need: str(i.need),
    urgent: i.urgent === true,
    afterHours: i.after_hours === true,
    followUpOf: str(i.follow_up_of),
    request: str(i.request),
    leadKind: str(i.lead_kind),
    pageUrl: str(i.page_url),
    trigger: str(i.trigger) ?? 'auto',
    summary: str(i.summary),
    flags: str(i.flags),
    expiresAt: Number(i.ttl ?? 0),
    status: (str(i.status) ?? 'new') as LeadStatus,
    firstContactedAt: num(i.first_contacted_at),
    bookedValue: num(i.booked_value),
    lostReason: str(i.lost_reason),
    note: str(i.note),
    rescuedAt: num(i.rescued_at),
    updatedAt: Number(i.updated_at ?? 0),
  };
}
