import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { InvokeOutcome } from './function-url';
import type { StreamSource } from './service-config';

/**
 * A DynamoDB stream event source mapping, run locally as Lambda runs it: the table's stream is
 * polled (DynamoDB Local serves the same DynamoDB Streams API), records are filtered with the
 * mapping's filter patterns, batched (batchSize, batchWindow) in shard order, and handed to the
 * same handler the deploy runs. A failed batch is retried (from the first reported item failure
 * with ReportBatchItemFailures; else whole), with a growing pause, until it succeeds, runs out of
 * attempts or grows too old; then its description goes to the on-failure queue, as Lambda's does.
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

interface Shard {
  id: string;
  iterator?: string;
  /** The last sequence number read, to ask again after it if the iterator is lost. */
  lastRead?: string;
  closed: boolean;
  /** Read but not yet delivered (filtered out records are dropped at read time). */
  pending: StreamRecord[];
  /** When the oldest pending record was read (the batching window; stream times are rounded to the minute). */
  pendingSince: number;
  attempts: number;
  retryAt: number;
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

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
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
      if (shard.pending.length && Date.now() >= shard.retryAt) await this.deliver(shard);
      if (shard.closed && !shard.pending.length) {
        this.shards.delete(shard.id);
        this.streamArn = null; // look for its child shards
      }
    }
  }

  private async discover(client: DynamoDBClient, streams: DynamoDBStreamsClient): Promise<void> {
    const table = await client.send(new DescribeTableCommand({ TableName: this.opts.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (!arn) throw Object.assign(new Error(`table ${this.opts.tableName} has no stream`), { name: 'NoStream' });
    if (this.shardsOf && arn !== this.shardsOf) {
      // A new stream (DynamoDB Local came back with new tables): what was read is still delivered, then its shards go.
      for (const [id, s] of this.shards)
        if (s.pending.length) s.closed = true;
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
        pending: [],
        pendingSince: 0,
        attempts: 0,
        retryAt: 0,
      });
    }
  }

  /** Shards read to their end, and the stream the shards belong to. */
  private readonly finished = new Set<string>();
  private shardsOf: string | null = null;

  private async read(streams: DynamoDBStreamsClient, shard: Shard): Promise<void> {
    if (shard.closed || shard.pending.length >= 1000) return;
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
    for (const r of out.Records ?? []) {
      shard.lastRead = r.dynamodb?.SequenceNumber ?? shard.lastRead;
      if (!this.matches(r)) continue;
      if (!shard.pending.length) shard.pendingSince = Date.now();
      shard.pending.push(r);
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

  private async deliver(shard: Shard): Promise<void> {
    const { source } = this.opts;
    // The batching window: wait for a fuller batch, but never longer than the window.
    if (
      shard.pending.length < source.batchSize &&
      shard.attempts === 0 &&
      Date.now() - shard.pendingSince < source.batchWindowSeconds * 1000
    )
      return;
    const batch = shard.pending.slice(0, source.batchSize);
    const outcome = await this.opts.invoke({ Records: batch.map((r) => lambdaRecord(r, this.streamArn!, this.opts.region)) });
    let failedFrom = -1;
    if (outcome.kind !== 'result') failedFrom = 0;
    else if (source.reportBatchItemFailures) {
      const ids: string[] = (outcome.result?.batchItemFailures ?? []).map((f: { itemIdentifier: string }) => f.itemIdentifier);
      const idx = ids.map((id) => batch.findIndex((r) => r.dynamodb?.SequenceNumber === id));
      // An identifier that is not in the batch fails the whole batch, as Lambda does.
      if (idx.length) failedFrom = idx.some((i) => i < 0) ? 0 : Math.min(...idx);
    }
    if (failedFrom < 0) {
      shard.pending.splice(0, batch.length);
      shard.attempts = 0;
      shard.retryAt = 0;
      this.delivered++;
      return;
    }
    shard.pending.splice(0, failedFrom); // the records before the first failure are done
    shard.pendingSince = Date.now();
    shard.attempts++;
    const first = shard.pending[0]!;
    const ageSeconds = (Date.now() - ((first.dynamodb?.ApproximateCreationDateTime as Date | undefined)?.getTime() ?? Date.now())) / 1000;
    const outOfAttempts = source.maximumRetryAttempts >= 0 && shard.attempts > source.maximumRetryAttempts;
    if (outOfAttempts || ageSeconds > source.maximumRecordAgeSeconds) {
      const dropped = shard.pending.splice(0, Math.min(source.batchSize, shard.pending.length));
      this.opts.log?.(`[${this.opts.name}] a batch of ${dropped.length} records was given up after ${shard.attempts} attempts`);
      this.opts.onFailure?.(JSON.stringify(this.failureRecord(shard, dropped, outcome)));
      shard.attempts = 0;
      shard.retryAt = 0;
      return;
    }
    shard.retryAt = Date.now() + Math.min(250 * 2 ** (shard.attempts - 1), 30_000);
  }

  /** What Lambda sends to an on-failure destination: where the batch is in the stream, not its records. */
  private failureRecord(shard: Shard, dropped: StreamRecord[], outcome: InvokeOutcome) {
    const seq = (r: StreamRecord) => r.dynamodb?.SequenceNumber;
    const at = (r: StreamRecord) => (r.dynamodb?.ApproximateCreationDateTime as Date | undefined)?.toISOString();
    return {
      requestContext: {
        condition: shard.attempts > 0 ? 'RetryAttemptsExhausted' : 'RecordAgeExceeded',
        approximateInvokeCount: shard.attempts,
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
