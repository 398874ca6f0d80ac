import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { createHash } from 'node:crypto';
import type { InvokeOutcome } from './function-url';
import type { StreamSource } from './service-config';

/**
 * A DynamoDB stream event source mapping, run locally as Lambda runs it: the table's stream is
 * polled (DynamoDB Local serves the same DynamoDB Streams API), records are filtered with the
 * mapping's filter patterns, batched (batchSize, batchWindow) in shard order, and handed to the
 * same handler the deploy runs. With a ParallelizationFactor above 1 a shard's records are split
 * by partition key into that many lanes, each delivering its own batches, one at a time, while the
 * others go on (a key's records stay in order; a slow batch holds only its lane). A failed batch is
 * retried (from the first reported item failure with ReportBatchItemFailures; else whole), with a
 * growing pause, until it succeeds, runs out of attempts or grows too old; then its description
 * goes to the on-failure queue, as Lambda's does. Each batch's log line gives its iterator age (the
 * time its newest record waited, from when the poller read it: Lambda's IteratorAge metric).
 */

export interface StreamPollerOptions {
  name: string;
  tableName: string;
  source: StreamSource;
  dynamo: () => { client: DynamoDBClient; streams: DynamoDBStreamsClient };
  invoke: (event: unknown) => Promise<InvokeOutcome>;
  /** Sends the on-failure record to the mapping's destination queue (if it has one). */
  onFailure?: (body: string) => void;
  region: string;
  pollMs?: number;
  log?: (line: string) => void;
}

/** One of a shard's concurrent batch lanes (ParallelizationFactor): a partition key always uses the same lane. */
interface Lane {
  index: number;
  /** Read but not yet delivered (filtered out records are dropped at read time). */
  pending: StreamRecord[];
  /** When the oldest pending record was read (the batching window; stream times are rounded to the minute). */
  pendingSince: number;
  attempts: number;
  retryAt: number;
  /** The batch being handed to the function (one at a time per lane, as Lambda does). */
  delivering: Promise<void> | null;
}

interface Shard {
  id: string;
  iterator?: string;
  /** The last sequence number read, to ask again after it if the iterator is lost. */
  lastRead?: string;
  closed: boolean;
  lanes: Lane[];
}

/** Records read and not yet delivered, per shard, past which reading waits (Lambda's poller reads ahead a bounded amount too). */
const READ_AHEAD = 1000;

/**
 * The lane of a partition key among `factor` (Lambda's ParallelizationFactor): records of one key
 * keep their order in one lane; different keys' batches run at once.
 */
export function laneOf(partitionKey: unknown, factor: number): number {
  if (factor <= 1) return 0;
  return (
    createHash('sha256')
      .update(JSON.stringify(partitionKey ?? null))
      .digest()
      .readUInt32BE(0) % factor
  );
}

/** Lambda's event filtering, for the rules a DynamoDB filter pattern can use. */
export function matchesFilter(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((rule) => matchesRule(rule, value));
  if (pattern && typeof pattern === 'object') {
    if (!value || typeof value !== 'object') return false;
    return Object.entries(pattern).every(([k, p]) => matchesFilter(p, (value as Record<string, unknown>)[k]));
  }
  throw new Error(`filter pattern: ${JSON.stringify(pattern)} is neither an object nor a list of rules`);
}

function matchesRule(rule: unknown, value: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return value === rule;
  const [op, arg] = Object.entries(rule as Record<string, unknown>)[0] ?? [];
  switch (op) {
    case 'prefix':
      return typeof value === 'string' && typeof arg === 'string' && value.startsWith(arg);
    case 'exists':
      return (value !== undefined) === arg;
    case 'anything-but':
      return value !== undefined && !(Array.isArray(arg) ? arg : [arg]).includes(value);
    default:
      throw new Error(`filter pattern: the rule ${JSON.stringify(rule)} is not supported locally (prefix, exists, anything-but, values)`);
  }
}

/** A record as Lambda delivers it (the Streams API answers a Date; Lambda's event has epoch seconds). */
function lambdaRecord(r: StreamRecord, streamArn: string, region: string) {
  const d = r.dynamodb ?? {};
  const at = d.ApproximateCreationDateTime as unknown;
  return {
    eventID: r.eventID,
    eventName: r.eventName,
    eventVersion: r.eventVersion,
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: { ...d, ApproximateCreationDateTime: at instanceof Date ? Math.floor(at.getTime() / 1000) : at },
    eventSourceARN: streamArn,
  };
}

export class StreamPoller {
  private streamArn: string | null = null;
  private readonly shards = new Map<string, Shard>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private failing = false;
  /** The table's partition key attribute (records are laned by it). */
  private hashKey = '';
  /** When each pending record was read (its iterator age is measured from there). */
  private readonly readAt = new WeakMap<StreamRecord, number>();
  /** Batches delivered, for tests and logs. */
  delivered = 0;

  constructor(private readonly opts: StreamPollerOptions) {
    for (const p of opts.source.filterPatterns) matchesFilter(p, {}); // an unsupported rule fails at start, not later
  }

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      this.running = this.poll().catch((e) => this.pollFailed(e));
      await this.running;
      if (!this.stopped) this.timer = setTimeout(tick, this.opts.pollMs ?? 250);
    };
    void tick();
  }

  /** Stops reading; batches being delivered end first. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await Promise.all([...this.shards.values()].flatMap((s) => s.lanes.map((l) => l.delivering)));
  }

  private pollFailed(e: unknown) {
    // DynamoDB Local down (or restarted with new tables): find the stream again on the next poll.
    if (!this.failing) this.opts.log?.(`[${this.opts.name}] stream not readable (${(e as Error).name}); retrying`);
    this.failing = true;
    this.streamArn = null;
  }

  private async poll(): Promise<void> {
    const { client, streams } = this.opts.dynamo();
    if (!this.streamArn) await this.discover(client, streams);
    for (const shard of this.shards.values()) await this.read(streams, shard);
    if (this.failing) this.opts.log?.(`[${this.opts.name}] stream readable again`);
    this.failing = false;
    for (const shard of [...this.shards.values()]) {
      for (const lane of shard.lanes) this.startLane(shard, lane);
      if (shard.closed && shard.lanes.every((l) => !l.pending.length && !l.delivering)) {
        this.shards.delete(shard.id);
        this.streamArn = null; // look for its child shards
      }
    }
  }

  private async discover(client: DynamoDBClient, streams: DynamoDBStreamsClient): Promise<void> {
    const table = await client.send(new DescribeTableCommand({ TableName: this.opts.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw Object.assign(new Error(`table ${this.opts.tableName} has no stream`), { name: 'NoStream' });
    this.hashKey = table.Table?.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '';
    if (this.shardsOf && arn !== this.shardsOf) {
      // A new stream (DynamoDB Local came back with new tables): what was read is still delivered, then its shards go.
      for (const [id, s] of this.shards)
        if (s.lanes.some((l) => l.pending.length || l.delivering)) s.closed = true;
        else this.shards.delete(id);
      this.finished.clear();
    }
    this.shardsOf = arn;
    this.streamArn = arn;
    const desc = await streams.send(new DescribeStreamCommand({ StreamArn: arn }));
    for (const sh of desc.StreamDescription?.Shards ?? []) {
      if (!sh.ShardId || this.shards.has(sh.ShardId) || this.finished.has(sh.ShardId)) continue;
      const it = await streams.send(
        new GetShardIteratorCommand({ StreamArn: arn, ShardId: sh.ShardId, ShardIteratorType: this.opts.source.startingPosition }),
      );
      this.shards.set(sh.ShardId, {
        id: sh.ShardId,
        iterator: it.ShardIterator,
        closed: false,
        lanes: Array.from({ length: this.opts.source.parallelizationFactor }, (_, index) => ({
          index,
          pending: [],
          pendingSince: 0,
          attempts: 0,
          retryAt: 0,
          delivering: null,
        })),
      });
    }
  }

  /** Shards read to their end, and the stream the shards belong to. */
  private readonly finished = new Set<string>();
  private shardsOf: string | null = null;

  private async read(streams: DynamoDBStreamsClient, shard: Shard): Promise<void> {
    if (shard.closed || shard.lanes.reduce((n, l) => n + l.pending.length, 0) >= READ_AHEAD) return;
    if (!shard.iterator) {
      const it = await streams.send(
        new GetShardIteratorCommand({
          StreamArn: this.streamArn!,
          ShardId: shard.id,
          ...(shard.lastRead
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.lastRead }
            : { ShardIteratorType: this.opts.source.startingPosition }),
        }),
      );
      shard.iterator = it.ShardIterator;
    }
    let out;
    try {
      out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
    } catch (e) {
      shard.iterator = undefined; // expired or from a stream that is gone: asked again next time
      throw e;
    }
    const now = Date.now();
    for (const r of out.Records ?? []) {
      shard.lastRead = r.dynamodb?.SequenceNumber ?? shard.lastRead;
      if (!this.matches(r)) continue;
      const lane = shard.lanes[laneOf(r.dynamodb?.Keys?.[this.hashKey], shard.lanes.length)]!;
      if (!lane.pending.length) lane.pendingSince = now;
      lane.pending.push(r);
      this.readAt.set(r, now);
    }
    shard.iterator = out.NextShardIterator;
    if (!out.NextShardIterator) {
      shard.closed = true;
      this.finished.add(shard.id);
    }
  }

  private matches(r: StreamRecord): boolean {
    const patterns = this.opts.source.filterPatterns;
    if (!patterns.length) return true;
    const event = lambdaRecord(r, this.streamArn!, this.opts.region);
    return patterns.some((p) => matchesFilter(p, event));
  }

  /** Hands the lane its next batch unless one is on its way, it is pausing after a failure, or its batching window is open. */
  private startLane(shard: Shard, lane: Lane): void {
    const { source } = this.opts;
    if (this.stopped || lane.delivering || !lane.pending.length || Date.now() < lane.retryAt) return;
    // The batching window: wait for a fuller batch, but never longer than the window.
    if (lane.pending.length < source.batchSize && lane.attempts === 0 && Date.now() - lane.pendingSince < source.batchWindowSeconds * 1000)
      return;
    lane.delivering = this.deliver(shard, lane)
      .catch((e) => this.opts.log?.(`[${this.opts.name}] a batch could not be delivered (${(e as Error).name})`))
      .finally(() => {
        lane.delivering = null;
        this.startLane(shard, lane); // a full batch waiting goes at once, as Lambda's poller does
      });
  }

  private async deliver(shard: Shard, lane: Lane): Promise<void> {
    const { source } = this.opts;
    const batch = lane.pending.slice(0, source.batchSize);
    const started = Date.now();
    const iteratorAge = started - (this.readAt.get(batch[batch.length - 1]!) ?? started);
    let outcome: InvokeOutcome;
    try {
      outcome = await this.opts.invoke({ Records: batch.map((r) => lambdaRecord(r, this.streamArn!, this.opts.region)) });
    } catch (e) {
      outcome = { kind: 'error', error: { name: (e as Error).name, message: (e as Error).message } };
    }
    let failedFrom = -1;
    if (outcome.kind !== 'result') failedFrom = 0;
    else if (source.reportBatchItemFailures) {
      const ids: string[] = (outcome.result?.batchItemFailures ?? []).map((f: { itemIdentifier: string }) => f.itemIdentifier);
      const idx = ids.map((id) => batch.findIndex((r) => r.dynamodb?.SequenceNumber === id));
      // An identifier that is not in the batch fails the whole batch, as Lambda does.
      if (idx.length) failedFrom = idx.some((i) => i < 0) ? 0 : Math.min(...idx);
    }
    this.opts.log?.(
      `[${this.opts.name}] stream batch of ${batch.length} records (lane ${lane.index}): iterator age ${iteratorAge}ms, ` +
        `ran ${Date.now() - started}ms${failedFrom < 0 ? '' : `, failed from record ${failedFrom}`}`,
    );
    if (failedFrom < 0) {
      lane.pending.splice(0, batch.length);
      lane.attempts = 0;
      lane.retryAt = 0;
      this.delivered++;
      return;
    }
    lane.pending.splice(0, failedFrom); // the records before the first failure are done
    lane.pendingSince = Date.now();
    lane.attempts++;
    const first = lane.pending[0]!;
    const ageSeconds = (Date.now() - ((first.dynamodb?.ApproximateCreationDateTime as Date | undefined)?.getTime() ?? Date.now())) / 1000;
    const outOfAttempts = source.maximumRetryAttempts >= 0 && lane.attempts > source.maximumRetryAttempts;
    if (outOfAttempts || ageSeconds > source.maximumRecordAgeSeconds) {
      const dropped = lane.pending.splice(0, Math.min(source.batchSize, lane.pending.length));
      this.opts.log?.(`[${this.opts.name}] a batch of ${dropped.length} records was given up after ${lane.attempts} attempts`);
      this.opts.onFailure?.(JSON.stringify(this.failureRecord(shard, lane, dropped, outcome)));
      lane.attempts = 0;
      lane.retryAt = 0;
      return;
    }
    lane.retryAt = Date.now() + Math.min(250 * 2 ** (lane.attempts - 1), 30_000);
  }

  /** What Lambda sends to an on-failure destination: where the batch is in the stream, not its records. */
  private failureRecord(shard: Shard, lane: Lane, dropped: StreamRecord[], outcome: InvokeOutcome) {
    const seq = (r: StreamRecord) => r.dynamodb?.SequenceNumber;
    const at = (r: StreamRecord) => (r.dynamodb?.ApproximateCreationDateTime as Date | undefined)?.toISOString();
    return {
      requestContext: {
        condition: lane.attempts > 0 ? 'RetryAttemptsExhausted' : 'RecordAgeExceeded',
        approximateInvokeCount: lane.attempts,
      },
      responseContext: { functionError: outcome.kind === 'result' ? undefined : outcome.kind },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: shard.id,
        startSequenceNumber: seq(dropped[0]!),
        endSequenceNumber: seq(dropped[dropped.length - 1]!),
        approximateArrivalOfFirstRecord: at(dropped[0]!),
        approximateArrivalOfLastRecord: at(dropped[dropped.length - 1]!),
        batchSize: dropped.length,
        streamArn: this.streamArn,
      },
    };
  }
}
