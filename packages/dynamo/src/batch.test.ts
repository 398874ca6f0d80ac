import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoEndpoint, documentClient } from '@lead-intake/testkit';
import { batchGetAll, batchWriteAll, BatchIncompleteError, type WriteRequest } from './index';
import { useTestTable } from './test-table';

/**
 * Through a proxy in front of DynamoDB Local that does what DynamoDB does when it throttles a
 * batch: it passes on only part of each batch call and answers the rest as unprocessed
 * (`UnprocessedItems`, `UnprocessedKeys`), for as many calls as a test says. The helpers run
 * through the real SDK over HTTP; what landed is read from DynamoDB Local directly.
 */
const TABLE = useTestTable('batch');
let proxy: Server;
let url = '';
/** Batch calls still to cut short, and how many requests (or keys) each passes on. */
const faults = { calls: 0, passOn: 1 };
const seen: string[] = [];

function forward(method: string, headers: IncomingHttpHeaders, body: string): Promise<{ status: number; body: string }> {
  const target = new URL(dynamoEndpoint());
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: '/', method, headers: { ...headers, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let out = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (out += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, body: out }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  proxy = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const op = String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop()!;
      seen.push(op);
      let left: unknown[] = [];
      let table = '';
      if ((op === 'BatchWriteItem' || op === 'BatchGetItem') && faults.calls > 0) {
        faults.calls--;
        const parsed = JSON.parse(body);
        table = Object.keys(parsed.RequestItems)[0]!;
        const all: unknown[] = op === 'BatchWriteItem' ? parsed.RequestItems[table] : parsed.RequestItems[table].Keys;
        left = all.slice(faults.passOn);
        if (op === 'BatchWriteItem') parsed.RequestItems[table] = all.slice(0, faults.passOn);
        else parsed.RequestItems[table].Keys = all.slice(0, faults.passOn);
        body = JSON.stringify(parsed);
      }
      const out = await forward(req.method!, req.headers, body);
      let answer = out.body;
      if (left.length && out.status === 200) {
        const parsed = JSON.parse(out.body);
        if (op === 'BatchWriteItem') parsed.UnprocessedItems = { [table]: left };
        else parsed.UnprocessedKeys = { [table]: { Keys: left } };
        answer = JSON.stringify(parsed);
      }
      res.writeHead(out.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => proxy.close(r));
});

afterEach(() => {
  faults.calls = 0; // whatever a test set, cleared, passed or failed
  seen.length = 0;
});

const throughProxy = () =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: url,
      region: 'us-west-2',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    }),
  );
const stored = async () =>
  ((await documentClient().send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }))).Items ?? [])
    .map((i) => i.pk as string)
    .sort();
const puts = (prefix: string, n: number): WriteRequest[] =>
  Array.from({ length: n }, (_, i) => ({ PutRequest: { Item: { pk: `${prefix}${String(i).padStart(3, '0')}`, n: i, note: 'x' } } }));

it('writes every request of a batch DynamoDB answers in part: what it leaves is sent again', async () => {
  faults.calls = 4;
  faults.passOn = 5;
  await batchWriteAll(throughProxy(), TABLE, puts('w', 30), { baseDelayMs: 1 });
  expect((await stored()).filter((k) => k.startsWith('w'))).toEqual(puts('w', 30).map((p) => (p as any).PutRequest.Item.pk));
  expect(seen.filter((op) => op === 'BatchWriteItem').length).toBeGreaterThan(2); // two chunks, and the retries
  // Deletes the same way.
  faults.calls = 3;
  faults.passOn = 2;
  await batchWriteAll(
    throughProxy(),
    TABLE,
    puts('w', 30).map((p) => ({ DeleteRequest: { Key: { pk: (p as any).PutRequest.Item.pk } } })),
    { baseDelayMs: 1 },
  );
  expect((await stored()).filter((k) => k.startsWith('w'))).toEqual([]);
});

it('throws BatchIncompleteError, with what is left, when DynamoDB keeps some unprocessed past the last attempt', async () => {
  faults.calls = 1000;
  faults.passOn = 1;
  const err = await batchWriteAll(throughProxy(), TABLE, puts('i', 30), { attempts: 3, baseDelayMs: 1 }).catch((e) => e);
  expect(err).toBeInstanceOf(BatchIncompleteError);
  // The first chunk of 25 got 3 through (one a call) and 22 are left, and the second chunk of 5 was never sent.
  expect(err).toMatchObject({ table: TABLE, operation: 'BatchWriteItem', left: 27, upstream: 'dynamodb' });
  expect((await stored()).filter((k) => k.startsWith('i'))).toEqual(['i000', 'i001', 'i002']);
  const keys = Array.from({ length: 10 }, (_, i) => ({ pk: `i${String(i).padStart(3, '0')}` }));
  await expect(batchGetAll(throughProxy(), TABLE, keys, { attempts: 2, baseDelayMs: 1 })).rejects.toMatchObject({
    operation: 'BatchGetItem',
    left: 8,
  });
});

it('reads every key of a batch DynamoDB answers in part, 100 a call, missing keys simply absent', async () => {
  await batchWriteAll(documentClient(), TABLE, puts('r', 110));
  const keys = Array.from({ length: 130 }, (_, i) => ({ pk: `r${String(i).padStart(3, '0')}` })); // 20 do not exist
  faults.calls = 4; // the first chunk's first four calls get 10 keys through each; the fifth, the other 60
  faults.passOn = 10;
  const got = await batchGetAll(throughProxy(), TABLE, keys, { consistentRead: true, baseDelayMs: 1 });
  expect(got.map((i) => i.pk).sort()).toEqual(puts('r', 110).map((p) => (p as any).PutRequest.Item.pk));
  expect(got[0]).toEqual({ pk: expect.any(String), n: expect.any(Number), note: 'x' });
  // Only the attributes asked for.
  const some = await batchGetAll(throughProxy(), TABLE, keys.slice(0, 3), { attributes: ['pk', 'n'] });
  expect(some.map((i) => Object.keys(i).sort())).toEqual([
    ['n', 'pk'],
    ['n', 'pk'],
    ['n', 'pk'],
  ]);
});
