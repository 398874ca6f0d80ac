import { DynamoDBClient, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/** One counter: at most `limit` takes per fixed window of `windowSeconds` (UTC-aligned). */
export interface Counter {
  /** The counter's name, e.g. `turn#<user>`; never a raw IP or contact (hash those). */
  key: string;
  limit: number;
  windowSeconds: number;
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
 * window, incremented with a conditional UpdateItem, so a limit holds across every Lambda
 * instance. `take` asks every counter at once (one round trip) and is all-or-nothing: when one
 * counter is full, the others are given back, so a refused request does not spend another
 * counter's budget (a rate-limited user does not eat the stage's daily model budget).
 */
export class UsageLimits {
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly opts: { tableName: string; client?: DynamoDBClient; now?: () => number }) {
    this.doc = DynamoDBDocumentClient.from(opts.client ?? new DynamoDBClient({ maxAttempts: 3 }));
  }

  private window(c: Counter): { pk: string; endsAt: number } {
    const now = Math.floor((this.opts.now ?? Date.now)() / 1000);
    const start = now - (now % c.windowSeconds);
    return { pk: `${c.key}#${start}`, endsAt: start + c.windowSeconds };
  }

  async take(counters: Counter[]): Promise<TakeResult> {
    const windows = counters.map((c) => this.window(c));
    const outcomes = await Promise.allSettled(
      counters.map((c, i) =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.opts.tableName,
            Key: { pk: windows[i]!.pk },
            UpdateExpression: 'ADD #n :one SET #t = if_not_exists(#t, :ttl)',
            ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
            ExpressionAttributeNames: { '#n': 'n', '#t': 'ttl' },
            // Rows outlive their window by a day, then DynamoDB removes them.
            ExpressionAttributeValues: { ':one': 1, ':limit': c.limit, ':ttl': windows[i]!.endsAt + 86400 },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      ),
    );
    const full = outcomes.findIndex((o) => o.status === 'rejected' && o.reason instanceof ConditionalCheckFailedException);
    const failed = outcomes.find((o) => o.status === 'rejected' && !(o.reason instanceof ConditionalCheckFailedException));
    if (full >= 0 || failed) {
      // Give back what was taken: nothing is spent by a request that does not go ahead.
      await Promise.all(outcomes.map((o, i) => (o.status === 'fulfilled' ? this.giveBack(windows[i]!.pk) : undefined)));
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const now = Math.floor((this.opts.now ?? Date.now)() / 1000);
      return { ok: false, refused: full, retryAfterSeconds: Math.max(1, windows[full]!.endsAt - now) };
    }
    return { ok: true, counts: outcomes.map((o) => Number((o as PromiseFulfilledResult<any>).value.Attributes?.n ?? 0)) };
  }

  /** Gives one back to a counter (a take for a request that did not go ahead after all). */
  async refund(counter: Counter): Promise<void> {
    await this.giveBack(this.window(counter).pk);
  }

  private async giveBack(pk: string): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.opts.tableName,
          Key: { pk },
          UpdateExpression: 'ADD #n :minus',
          ConditionExpression: 'attribute_exists(#n)',
          ExpressionAttributeNames: { '#n': 'n' },
          ExpressionAttributeValues: { ':minus': -1 },
        }),
      )
      .catch(() => undefined); // best effort: at worst one take too many counted in this window
  }
}
