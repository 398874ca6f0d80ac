import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { InvokeOutcome } from './function-url';
import type { StreamSource } from './service-config';
import { laneOf, StreamPoller } from './streams';

/**
 * The local event source mapping against the shared test stack's DynamoDB Local (a table and
 * stream of this file's own, deleted after each test): a handler stands in for the function, so
 * the poller's own rules are what is proven. The scheduler's path through it is covered end to end
 * by test/server-scheduled-leads.test.ts.
 */
const endpoint = `http://127.0.0.1:${process.env.TEST_LOCAL_DYNAMODB_PORT}`;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const client = new DynamoDBClient({ endpoint, region: 'us-west-2', credentials });
const streams = new DynamoDBStreamsClient({ endpoint, region: 'us-west-2', credentials });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Batch {
  keys: string[];
  lane: number;
}

let table = '';
let poller: StreamPoller | null = null;
let n = 0;
const logs: string[] = [];

beforeEach(async () => {
  table = `poller-test-${process.pid}-${++n}`;
  logs.length = 0;
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE' },
    }),
  );
});

afterEach(async () => {
  await poller?.stop();
  poller = null;
  await client.send(new DeleteTableCommand({ TableName: table }));
});

afterAll(() => (client.destroy(), streams.destroy()));

const put = (pk: string, sk: string) => client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: pk }, sk: { S: sk } } }));

/** Partition keys that fall in `count` different lanes of `factor`, in lane order. */
function keysInLanes(factor: number, count: number): string[] {
  const byLane = new Map<number, string>();
  for (let i = 0; byLane.size < count; i++) {
    const key = `THREAD#${i}`;
    const lane = laneOf({ S: key }, factor);
    if (!byLane.has(lane)) byLane.set(lane, key);
  }
  return [...byLane.entries()].sort((a, b) => a[0] - b[0]).map(([, k]) => k);
}

/** Starts a poller whose function is `handle`; every batch is recorded (its keys as pk/sk, and its lane). */
function start(factor: number, handle: (batch: Batch, records: any[]) => Promise<InvokeOutcome | void>, batchSize = 100) {
  const batches: Batch[] = [];
  const source: StreamSource = {
    arn: { tableLogicalId: 'Table' },
    batchSize,
    batchWindowSeconds: 0,
    parallelizationFactor: factor,
    startingPosition: 'TRIM_HORIZON',
    filterPatterns: [],
    reportBatchItemFailures: true,
    maximumRetryAttempts: -1,
    maximumRecordAgeSeconds: 86400,
  };
  poller = new StreamPoller({
    name: 'test-fn',
    tableName: table,
    source,
    region: 'us-west-2',
    dynamo: () => ({ client, streams }),
    pollMs: 50,
    log: (l) => logs.push(l),
    invoke: async (event: any) => {
      const keys: string[] = event.Records.map((r: any) => `${r.dynamodb.Keys.pk.S}/${r.dynamodb.Keys.sk.S}`);
      const batch = { keys, lane: laneOf(event.Records[0].dynamodb.Keys.pk, factor) };
      batches.push(batch);
      return (await handle(batch, event.Records)) ?? { kind: 'result', result: { batchItemFailures: [] } };
    },
  });
  poller.start();
  return batches;
}

/** Waits until `done()` holds, for up to 30 s (a busy machine), then answers whether it does. */
async function until(done: () => boolean): Promise<boolean> {
  for (const end = Date.now() + 30_000; !done() && Date.now() < end;) await sleep(20);
  return done();
}

const delivered = (batches: Batch[]) => batches.flatMap((b) => b.keys);

it('splits a shard by partition key into ParallelizationFactor lanes whose batches run at once, each key in order', async () => {
  const keys = keysInLanes(4, 4);
  for (let i = 0; i < 5; i++) for (const k of keys) await put(k, `ITM#${i}`);
  let inFlight = 0;
  let most = 0;
  const batches = start(
    4,
    async () => {
      most = Math.max(most, ++inFlight);
      // Every lane's first batch waits for the others (up to 20 s): they can only meet if they run at once.
      for (const end = Date.now() + 20_000; most < 4 && Date.now() < end;) await sleep(20);
      inFlight--;
    },
    2,
  );
  expect(await until(() => delivered(batches).length === 20)).toBe(true);
  expect(most).toBe(4);
  for (const k of keys)
    expect(delivered(batches).filter((x) => x.startsWith(`${k}/`))).toEqual([0, 1, 2, 3, 4].map((i) => `${k}/ITM#${i}`));
  // A batch holds one lane's keys only.
  for (const b of batches) for (const x of b.keys) expect(laneOf({ S: x.split('/')[0] }, 4)).toBe(b.lane);
  expect(logs.some((l) => /^\[test-fn\] stream batch of 2 records \(lane \d\): iterator age \d+ms, ran \d+ms$/.test(l))).toBe(true);
});

it.each([2, 1])(
  'a slow batch holds only its own lane, the others go on (ParallelizationFactor %i: with 1 it holds the whole shard)',
  async (factor) => {
    const [a, b] = keysInLanes(factor, factor === 2 ? 2 : 1).concat('THREAD#other');
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let slowStarted = false;
    const batches = start(factor, async (batch) => {
      if (!batch.keys.includes(`${a}/ITM#0`)) return;
      slowStarted = true;
      await released;
    });
    try {
      await put(a!, 'ITM#0');
      expect(await until(() => slowStarted)).toBe(true);
      await put(b!, 'ITM#0');
      await put(b!, 'ITM#1');
      if (factor > 1) {
        expect(await until(() => delivered(batches).includes(`${b}/ITM#1`))).toBe(true);
      } else {
        await sleep(1500); // with one lane nothing else may be delivered while the slow batch runs
        expect(delivered(batches)).toEqual([`${a}/ITM#0`]);
      }
    } finally {
      release(); // never left blocking, pass or fail: stop() waits for it
    }
    await put(a!, 'ITM#1');
    expect(await until(() => delivered(batches).includes(`${a}/ITM#1`) && delivered(batches).includes(`${b}/ITM#1`))).toBe(true);
    expect(delivered(batches).filter((x) => x.startsWith(`${a}/`))).toEqual([`${a}/ITM#0`, `${a}/ITM#1`]);
    expect(delivered(batches).filter((x) => x.startsWith(`${b}/`))).toEqual([`${b}/ITM#0`, `${b}/ITM#1`]);
  },
);

it('a batch that reports an item failure is retried in its lane from that record, while the other lane goes on', async () => {
  const [a, b] = keysInLanes(2, 2);
  for (let i = 0; i < 3; i++) await put(a!, `ITM#${i}`);
  await put(b!, 'ITM#0');
  let failed = false;
  const batches = start(2, async (batch, records) => {
    const at = batch.keys.indexOf(`${a}/ITM#1`);
    if (at < 0 || failed) return;
    failed = true;
    return { kind: 'result', result: { batchItemFailures: [{ itemIdentifier: records[at].dynamodb.SequenceNumber }] } };
  });
  expect(await until(() => delivered(batches).filter((x) => x.startsWith(`${a}/`)).length === 5)).toBe(true);
  expect(batches.filter((x) => x.lane === laneOf({ S: a }, 2)).map((x) => x.keys)).toEqual([
    [`${a}/ITM#0`, `${a}/ITM#1`, `${a}/ITM#2`],
    [`${a}/ITM#1`, `${a}/ITM#2`],
  ]);
  expect(delivered(batches).filter((x) => x.startsWith(`${b}/`))).toEqual([`${b}/ITM#0`]);
  expect(logs.some((l) => / \(lane \d\): iterator age \d+ms, ran \d+ms, failed from record 1$/.test(l))).toBe(true);
});
