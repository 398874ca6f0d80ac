import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { documentClient, dynamoClient } from '@lead-intake/dynamo';
import { DUE_INDEX, DUE_SHARD, IDLE_INDEX, IDLE_SHARD, type Delivered, type LedgerRecord } from './record';
import {
  claimMutation,
  contactMutation,
  deliveredMutation,
  errorMutation,
  forgetMutation,
  ownerMutation,
  pendingMutation,
  releaseMutation,
  reopenMutation,
  RESENDABLE,
  scheduleMutation,
  sentMutation,
  type Claim,
  type ClaimMode,
  type LeaseRef,
  type Mutation,
  type Schedule,
} from './state';
import { LedgerUnavailableError, type LedgerStore, type WriteResult } from './store';

export interface StoreOptions {
  tableName: string;
  client?: DynamoDBClient;
}

/** An expression with its values (names are written `#name` and declared from the text). */
interface Condition {
  expr: string;
  values?: Record<string, unknown>;
}

// Each transition's rule (./state.ts) as a DynamoDB condition; the contract tests hold them equal.
const TAKEABLE = '(#status = :sending AND lock_expires_at <= :now) OR (#status = :error AND cooldown_until <= :now)';
const CLAIM: Record<ClaimMode, (c: Claim) => Condition> = {
  new: () => ({ expr: 'attribute_not_exists(thread_id)' }),
  sweeper: (c) => ({ expr: TAKEABLE, values: { ':sending': 'sending', ':error': 'error', ':now': c.now } }),
  idle: (c) => ({
    expr: `idle_at <= :now AND (#status = :idle OR ${TAKEABLE})`,
    values: { ':idle': 'idle', ':sending': 'sending', ':error': 'error', ':now': c.now },
  }),
  owner: (c) => ({
    expr: `owner_hash = :owner AND (#status = :idle OR ${TAKEABLE})`,
    values: { ':owner': c.owner, ':idle': 'idle', ':sending': 'sending', ':error': 'error', ':now': c.now },
  }),
  trigger: (c) => ({
    expr: `attribute_not_exists(thread_id) OR #status = :idle OR ${TAKEABLE}`,
    values: { ':idle': 'idle', ':sending': 'sending', ':error': 'error', ':now': c.now },
  }),
};
const HOLDS = (leaseId: string): Condition => ({ expr: 'lease_id = :lease', values: { ':lease': leaseId } });

/**
 * The ledger on DynamoDB: every transition is one conditional UpdateItem (ALL_OLD on success and
 * on a lost condition), so each costs one round trip and a lost race is answered without a read.
 */
export class DynamoLedgerStore implements LedgerStore {
  readonly tableName: string;
  readonly doc: DynamoDBDocumentClient;
  roundTrips = 0;

  constructor(opts: StoreOptions) {
    this.tableName = opts.tableName;
    this.doc = documentClient(opts.client ?? dynamoClient());
    // Its own copy of the client's middleware, with the counter (each attempt, retries included):
    // the client may be shared, and the other stores' requests are not the ledger's round trips.
    this.doc.middlewareStack = this.doc.middlewareStack.clone();
    this.doc.middlewareStack.add(
      (next) => async (args) => {
        this.roundTrips += 1;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'countLedgerRoundTrips', priority: 'low' },
    );
  }

  async get(threadId: string): Promise<LedgerRecord | undefined> {
    try {
      return (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { thread_id: threadId }, ConsistentRead: true })))
        .Item as LedgerRecord | undefined;
    } catch (e) {
      throw new LedgerUnavailableError(e);
    }
  }

  claim(threadId: string, c: Claim) {
    return this.update(threadId, claimMutation(c), CLAIM[c.mode](c));
  }

  async notePending(threadId: string, holder: 'sending' | 'error', reason: string, now: number) {
    const rule =
      holder === 'sending'
        ? { expr: '#status = :sending AND lock_expires_at > :now', values: { ':sending': 'sending', ':now': now } }
        : { expr: '#status = :error AND cooldown_until > :now', values: { ':error': 'error', ':now': now } };
    return (await this.update(threadId, pendingMutation(reason, now), rule)).ok;
  }

  async noteContact(threadId: string, owner: string) {
    return (
      await this.update(threadId, contactMutation, {
        expr: 'attribute_exists(thread_id) AND NOT #status IN (:sent, :failed) AND owner_hash = :owner AND NOT may_have_contact = :yes',
        values: { ':sent': 'sent', ':failed': 'failed', ':owner': owner, ':yes': true },
      })
    ).ok;
  }

  async noteOwner(threadId: string, owner: string) {
    return (await this.update(threadId, ownerMutation(owner), { expr: 'attribute_exists(thread_id) AND attribute_not_exists(owner_hash)' }))
      .ok;
  }

  async finishSent(
    lease: LeaseRef,
    messageId: string,
    now: number,
    ttl: number,
    delivered?: Record<string, Delivered>,
    requests?: string[],
  ) {
    return (await this.update(lease.threadId, sentMutation(messageId, now, ttl, delivered, requests), HOLDS(lease.leaseId))).ok;
  }

  async markDelivered(lease: LeaseRef, key: string, d: Delivered, now: number) {
    return (await this.update(lease.threadId, deliveredMutation(key, d, now), HOLDS(lease.leaseId))).ok;
  }

  reopen(threadId: string, keys: string[], now: number, ttl: number) {
    const values = Object.fromEntries(RESENDABLE.map((s) => [`:${s}`, s]));
    return this.update(threadId, reopenMutation(keys, now, ttl), { expr: `#status IN (${Object.keys(values).join(', ')})`, values });
  }

  async finishError(lease: { threadId: string; leaseId: string }, e: Parameters<LedgerStore['finishError']>[1]) {
    return (await this.update(lease.threadId, errorMutation(e), HOLDS(lease.leaseId))).ok;
  }

  releaseIdle(...[lease, seen, served, cache, now, ttl, leadKind]: Parameters<LedgerStore['releaseIdle']>) {
    return this.update(lease.threadId, releaseMutation(cache, served, now, ttl, leadKind), {
      expr: 'lease_id = :lease AND (attribute_not_exists(pending_seq) OR pending_seq = :seen)',
      values: { ':lease': lease.leaseId, ':seen': seen },
    });
  }

  schedule(threadId: string, s: Schedule) {
    return this.update(threadId, scheduleMutation(s), {
      expr:
        'attribute_not_exists(thread_id) OR (NOT #status IN (:sent, :failed) AND ' +
        '(attribute_not_exists(owner_hash) OR owner_hash = :owner) AND (attribute_not_exists(activity_at) OR activity_at < :act))',
      values: { ':sent': 'sent', ':failed': 'failed', ':owner': s.owner, ':act': s.activityAt },
    });
  }

  due(now: number, limit: number) {
    return this.queryIndex<'due_at'>(DUE_INDEX, 'due_shard', DUE_SHARD, 'due_at', now, limit);
  }

  idleDue(now: number, limit: number) {
    return this.queryIndex<'idle_at'>(IDLE_INDEX, 'idle_shard', IDLE_SHARD, 'idle_at', now, limit);
  }

  /** The oldest `limit` entries of a sparse index whose time has come. */
  private async queryIndex<K extends 'due_at' | 'idle_at'>(
    index: string,
    shardKey: string,
    shard: string,
    timeKey: K,
    now: number,
    limit: number,
  ): Promise<Array<Pick<LedgerRecord, 'thread_id' | K>>> {
    try {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index,
          KeyConditionExpression: `${shardKey} = :s AND ${timeKey} <= :now`,
          ExpressionAttributeValues: { ':s': shard, ':now': now },
          Limit: limit,
        }),
      );
      return (out.Items ?? []) as Array<Pick<LedgerRecord, 'thread_id' | K>>;
    } catch (e) {
      throw new LedgerUnavailableError(e);
    }
  }

  async forgetSummary(threadId: string) {
    return (await this.update(threadId, forgetMutation, { expr: 'attribute_exists(thread_id)' })).ok;
  }

  /** One conditional UpdateItem: the mutation as an update expression, under `rule`. */
  private async update(threadId: string, m: Mutation, rule: Condition): Promise<WriteResult> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ...(rule.values ?? {}) };
    const name = (k: string) => ((names[`#${k}`] = k), `#${k}`);
    const clauses: string[] = [];
    const sets = [
      ...Object.entries(m.set)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ((values[`:set_${k}`] = v), `${name(k)} = :set_${k}`)),
      ...Object.entries(m.setIfMissing ?? {}).map(
        ([k, v]) => ((values[`:ifm_${k}`] = v), `${name(k)} = if_not_exists(${name(k)}, :ifm_${k})`),
      ),
    ];
    if (sets.length) clauses.push(`SET ${sets.join(', ')}`);
    const add = Object.entries(m.add ?? {});
    if (add.length) clauses.push(`ADD ${add.map(([k, v]) => ((values[`:add_${k}`] = v), `${name(k)} :add_${k}`)).join(', ')}`);
    if (m.remove?.length) clauses.push(`REMOVE ${m.remove.map(name).join(', ')}`);
    for (const n of rule.expr.matchAll(/#([A-Za-z_]+)/g)) names[`#${n[1]}`] = n[1]!;
    const input: UpdateCommandInput = {
      TableName: this.tableName,
      Key: { thread_id: threadId },
      UpdateExpression: clauses.join(' '),
      ConditionExpression: rule.expr,
      ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
      ExpressionAttributeValues: Object.keys(values).length ? values : undefined,
      ReturnValues: 'ALL_OLD',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    };
    try {
      const out = await this.doc.send(new UpdateCommand(input));
      return { ok: true, old: out.Attributes as LedgerRecord | undefined };
    } catch (e) {
      return lostCondition(e);
    }
  }
}

/** A failed condition answers the record as it is (raw, marshalled); anything else is an outage. */
function lostCondition(e: unknown): WriteResult {
  if (e instanceof ConditionalCheckFailedException) {
    const item = (e as ConditionalCheckFailedException).Item;
    return { ok: false, current: item ? (unmarshall(item) as LedgerRecord) : undefined };
  }
  throw new LedgerUnavailableError(e);
}
