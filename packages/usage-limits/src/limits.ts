import { type DynamoDBClient, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '@lead-intake/dynamo';

/** One counter: at most `limit` takes per fixed window of `windowSeconds` (UTC-aligned). */
export interface Counter {
  /** The counter's name, e.g. `turn#<user>`; never a raw IP or contact (hash those). */
  key: string;
  limit: number;
  windowSeconds: number;
  /**
   * A shorter window counted on the same row (`windowSeconds` must be a multiple of its own), e.g.
   * a network's turns per hour beside its turns per day: both bounds in one conditional write.
   */
  within?: { limit: number; windowSeconds: number };
}

export type TakeResult =
  | { ok: true; /** each counter's count in its window after this take */ counts: number[] }
  | {
      ok: false;
      /** the index of the first counter that was full */ refused: number;
      /** seconds until that counter's window ends */ retryAfterSeconds: number;
    };

/**
 * Usage counters in one DynamoDB table (`pk` string key, TTL on `ttl`): one row per counter and
 * window (a shorter window `within` it as an attribute of that row, `w<start>`), incremented
 * with a conditional UpdateItem, so a limit holds across every Lambda
 * instance. `take` asks every counter at once (one round trip) and is all-or-nothing: when one
 * counter is full, the others are given back, so a refused request does not spend another
 * counter's budget (a rate-limited user does not eat the stage's daily model budget).
 */
export class UsageLimits {
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly opts: { tableName: string; client?: DynamoDBClient; now?: () => number }) {
    this.doc = documentClient(opts.client);
  }

  private window(c: Counter): { pk: string; endsAt: number; within?: { attr: string; endsAt: number } } {
    if (c.within && (c.within.windowSeconds <= 0 || c.windowSeconds % c.within.windowSeconds !== 0)) {
      // Otherwise a shorter window would straddle two rows and count from nothing on the second.
      throw new RangeError(`counter ${c.key.split('#')[0]}: windowSeconds must be a multiple of within.windowSeconds`);
    }
    const now = Math.floor((this.opts.now ?? Date.now)() / 1000);
    const start = now - (now % c.windowSeconds);
    const inner = c.within ? now - (now % c.within.windowSeconds) : 0;
    return {
      pk: `${c.key}#${start}`,
      endsAt: start + c.windowSeconds,
      ...(c.within ? { within: { attr: `w${inner}`, endsAt: inner + c.within.windowSeconds } } : {}),
    };
  }

  async take(counters: Counter[]): Promise<TakeResult> {
    const windows = counters.map((c) => this.window(c));
    const outcomes = await Promise.allSettled(
      counters.map((c, i) => {
        const w = windows[i]!;
        return this.doc.send(
          new UpdateCommand({
            TableName: this.opts.tableName,
            Key: { pk: w.pk },
            UpdateExpression: `ADD #n :one${w.within ? ', #w :one' : ''} SET #t = if_not_exists(#t, :ttl)`,
            ConditionExpression: `(attribute_not_exists(#n) OR #n < :limit)${w.within ? ` AND ${WITHIN_ROOM}` : ''}`,
            ExpressionAttributeNames: { '#n': 'n', '#t': 'ttl', ...(w.within ? { '#w': w.within.attr } : {}) },
            // Rows outlive their window by a day, then DynamoDB removes them.
            ExpressionAttributeValues: {
              ':one': 1,
              ':limit': c.limit,
              ':ttl': w.endsAt + 86400,
              ...(c.within ? { ':within': c.within.limit } : {}),
            },
            ReturnValues: 'UPDATED_NEW',
            // On a refusal, which of the row's two bounds was full.
            ...(w.within ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
          }),
        );
      }),
    );
    const full = outcomes.findIndex((o) => o.status === 'rejected' && o.reason instanceof ConditionalCheckFailedException);
    const failed = outcomes.find((o) => o.status === 'rejected' && !(o.reason instanceof ConditionalCheckFailedException));
    if (full >= 0 || failed) {
      // Give back what was taken: nothing is spent by a request that does not go ahead.
      await Promise.all(outcomes.map((o, i) => (o.status === 'fulfilled' ? this.giveBack(windows[i]!) : undefined)));
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const now = Math.floor((this.opts.now ?? Date.now)() / 1000);
      const w = windows[full]!;
      const old = ((outcomes[full] as PromiseRejectedResult).reason as ConditionalCheckFailedException).Item;
      // The shorter window's end when it is the one that was full (the row's own count was not).
      const endsAt = w.within && count(old?.n) < counters[full]!.limit ? w.within.endsAt : w.endsAt;
      return { ok: false, refused: full, retryAfterSeconds: Math.max(1, endsAt - now) };
    }
    return { ok: true, counts: outcomes.map((o) => Number((o as PromiseFulfilledResult<any>).value.Attributes?.n ?? 0)) };
  }

  /** Gives one back to a counter (a take for a request that did not go ahead after all). */
  async refund(counter: Counter): Promise<void> {
    await this.giveBack(this.window(counter));
  }

  private async giveBack(w: ReturnType<UsageLimits['window']>): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.opts.tableName,
          Key: { pk: w.pk },
          UpdateExpression: `ADD #n :minus${w.within ? ', #w :minus' : ''}`,
          ConditionExpression: `attribute_exists(#n)${w.within ? ' AND attribute_exists(#w)' : ''}`,
          ExpressionAttributeNames: { '#n': 'n', ...(w.within ? { '#w': w.within.attr } : {}) },
          ExpressionAttributeValues: { ':minus': -1 },
        }),
      )
      .catch(() => undefined); // best effort: at worst one take too many counted in this window
  }
}

/** The shorter window's bound, beside the row's own. */
const WITHIN_ROOM = '(attribute_not_exists(#w) OR #w < :within)';

/** A number attribute as the exception carries it (raw `{ N }`) or as the document client reads it. */
const count = (v: unknown): number => Number((v as { N?: string } | undefined)?.N ?? v ?? 0);
