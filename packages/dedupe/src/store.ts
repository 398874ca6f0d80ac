import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DUE_INDEX, DUE_SHARD, type LedgerRecord } from './record';

/**
 * Storage mechanics only: one conditional DynamoDB write per transition, no business rules.
 * Every method is one round trip; a lost condition returns the item as it was (ALL_OLD), so a
 * lost race never needs a second read.
 */

export class LedgerUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`ledger unavailable: ${(cause as Error)?.name ?? 'Error'}`, { cause });
    this.name = 'LedgerUnavailableError';
  }
}

export type WriteResult = { ok: true; old: LedgerRecord | undefined } | { ok: false; current: LedgerRecord | undefined };

export interface StoreOptions {
  tableName: string;
  client?: DynamoDBClient;
}

export class LedgerStore {
  readonly tableName: string;
  readonly doc: DynamoDBDocumentClient;
  /** DynamoDB requests sent (retries included), for tests and diagnostics. */
  roundTrips = 0;

  constructor(opts: StoreOptions) {
    this.tableName = opts.tableName;
    const client = opts.client ?? new DynamoDBClient({ maxAttempts: 3 });
    client.middlewareStack.add(
      (next) => async (args) => {
        this.roundTrips += 1;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'countLedgerRoundTrips', priority: 'low' },
    );
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(threadId: string): Promise<LedgerRecord | undefined> {
    try {
      return (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { thread_id: threadId }, ConsistentRead: true }))).Item as LedgerRecord | undefined;
    } catch (e) {
      throw new LedgerUnavailableError(e);
    }
  }

  /** A conditional update; `ok: false` when the condition failed, with the current item. */
  async update(
    threadId: string,
    u: { set?: Record<string, unknown>; setIfMissing?: Record<string, unknown>; remove?: string[]; add?: Record<string, number>; condition: string; values?: Record<string, unknown> },
  ): Promise<WriteResult> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ...(u.values ?? {}) };
    const name = (k: string) => {
      names[`#${k}`] = k;
      return `#${k}`;
    };
    const clauses: string[] = [];
    const set = Object.entries(u.set ?? {}).filter(([, v]) => v !== undefined);
    const setIfMissing = Object.entries(u.setIfMissing ?? {});
    const sets = [
      ...set.map(([k, v]) => ((values[`:set_${k}`] = v), `${name(k)} = :set_${k}`)),
      ...setIfMissing.map(([k, v]) => ((values[`:ifm_${k}`] = v), `${name(k)} = if_not_exists(${name(k)}, :ifm_${k})`)),
    ];
    if (sets.length) clauses.push(`SET ${sets.join(', ')}`);
    const add = Object.entries(u.add ?? {});
    if (add.length) clauses.push(`ADD ${add.map(([k, v]) => (values[`:add_${k}`] = v, `${name(k)} :add_${k}`)).join(', ')}`);
    if (u.remove?.length) clauses.push(`REMOVE ${u.remove.map(name).join(', ')}`);
    // Names used in the condition are written #name there too.
    for (const m of u.condition.matchAll(/#([A-Za-z_]+)/g)) names[`#${m[1]}`] = m[1]!;
    const input: UpdateCommandInput = {
      TableName: this.tableName,
      Key: { thread_id: threadId },
      UpdateExpression: clauses.join(' '),
      ConditionExpression: u.condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    };
    try {
      const out = await this.doc.send(new UpdateCommand(input));
      return { ok: true, old: out.Attributes as LedgerRecord | undefined };
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as Error)?.name === 'ConditionalCheckFailedException') {
        const item = (e as ConditionalCheckFailedException).Item;
        return { ok: false, current: item ? unmarshallItem(item) : undefined };
      }
      throw new LedgerUnavailableError(e);
    }
  }

  /** Records due for the sweeper (sparse index), oldest first; no table scan. */
  async due(now: number, limit: number): Promise<Array<Pick<LedgerRecord, 'thread_id' | 'due_at'>>> {
    try {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: DUE_INDEX,
          KeyConditionExpression: 'due_shard = :s AND due_at <= :now',
          ExpressionAttributeValues: { ':s': DUE_SHARD, ':now': now },
          Limit: limit,
        }),
      );
      return (out.Items ?? []) as Array<Pick<LedgerRecord, 'thread_id' | 'due_at'>>;
    } catch (e) {
      throw new LedgerUnavailableError(e);
    }
  }

  /**
   * Operations only (`npm run lead -- forget`): drops the summary kept for a thread (it holds the
   * customer's details), keeping the record's status so a sent lead stays sent.
   */
  async forgetSummary(threadId: string): Promise<boolean> {
    try {
      await this.doc.send(new UpdateCommand({ TableName: this.tableName, Key: { thread_id: threadId }, UpdateExpression: 'REMOVE summary, eval_state', ConditionExpression: 'attribute_exists(thread_id)' }));
      return true;
    } catch (e) {
      if ((e as Error)?.name === 'ConditionalCheckFailedException') return false;
      throw new LedgerUnavailableError(e);
    }
  }

  /** Operations only (`npm run lead -- resend`): deletes a record unconditionally-but-guarded. */
  async delete(threadId: string, condition: string, values: Record<string, unknown>): Promise<WriteResult> {
    try {
      const out = await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { thread_id: threadId }, ConditionExpression: condition, ExpressionAttributeNames: { '#status': 'status' }, ExpressionAttributeValues: values, ReturnValues: 'ALL_OLD', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
      return { ok: true, old: out.Attributes as LedgerRecord | undefined };
    } catch (e) {
      if ((e as Error)?.name === 'ConditionalCheckFailedException') {
        const item = (e as ConditionalCheckFailedException).Item;
        return { ok: false, current: item ? unmarshallItem(item) : undefined };
      }
      throw new LedgerUnavailableError(e);
    }
  }
}

/** A failed condition carries the raw (marshalled) item. */
function unmarshallItem(item: Record<string, any>): LedgerRecord {
  return unmarshall(item) as LedgerRecord;
}
