import { type DynamoDBClient, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '@lead-intake/dynamo';

/**
 * A stage-wide daily budget (model calls per UTC day) shared by every instance, without a
 * DynamoDB write on every call: an instance reserves a block of calls from the day's counter at
 * once and spends it locally. The counter therefore counts reserved calls; at most one block per
 * warm instance can go unspent when the ceiling is reached (the price of one write per block
 * instead of one per call). When less than a block is left, the rest is reserved, so the whole
 * ceiling is usable.
 */
export class DailyBudget {
  private readonly doc: DynamoDBDocumentClient;
  private day = -1;
  private left = 0;
  /** The day's counter as of this instance's last reservation. */
  private reserved = 0;

  constructor(
    private readonly opts: { tableName: string; key: string; ceiling: number; block: number; client?: DynamoDBClient; now?: () => number },
  ) {
    this.doc = documentClient(opts.client);
  }

  private today(): number {
    return Math.floor((this.opts.now ?? Date.now)() / 86_400_000);
  }

  /** Takes one call: `used` is the day's reserved count (for the budget metric), or false when spent. */
  async take(): Promise<{ ok: true; used: number } | { ok: false }> {
    const day = this.today();
    if (day !== this.day) {
      this.day = day;
      this.left = 0;
    }
    if (this.left > 0) {
      this.left--;
      return { ok: true, used: this.reserved };
    }
    const got = await this.reserve(day, Math.min(this.opts.block, this.opts.ceiling));
    if (got === 0) return { ok: false };
    // Added, not set: calls given back (or reserved by another take) while this one waited are kept.
    this.left += got - 1;
    return { ok: true, used: this.reserved };
  }

  /** Whether the next `take` is answered from this instance's block (no round trip, never refused). */
  hasBlock(): boolean {
    return this.day === this.today() && this.left > 0;
  }

  /** Gives back a call taken for a turn that did not go ahead (kept locally, for the next turn). */
  giveBack(): void {
    if (this.today() === this.day) this.left++;
  }

  private async reserve(day: number, want: number): Promise<number> {
    const pk = `${this.opts.key}#${day * 86400}`;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.opts.tableName,
          Key: { pk },
          UpdateExpression: 'ADD #n :want SET #t = if_not_exists(#t, :ttl)',
          ConditionExpression: 'attribute_not_exists(#n) OR #n <= :room',
          ExpressionAttributeNames: { '#n': 'n', '#t': 'ttl' },
          ExpressionAttributeValues: { ':want': want, ':room': this.opts.ceiling - want, ':ttl': (day + 2) * 86400 },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      this.reserved = Number(out.Attributes?.n ?? want);
      return want;
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      // Not a whole block left: reserve what is, if anything.
      const n = Number((e as { Item?: Record<string, { N?: string }> }).Item?.n?.N ?? this.opts.ceiling);
      const rest = this.opts.ceiling - n;
      if (rest <= 0 || want === 1) {
        this.reserved = Math.max(n, this.reserved);
        return 0;
      }
      return this.reserve(day, Math.min(rest, want - 1));
    }
  }
}
