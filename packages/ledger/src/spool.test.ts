import { SQSClient } from '@aws-sdk/client-sqs';
import { createQueue, queueMessages, sqsEndpoint } from '@lead-intake/testkit';
import { parseSpooled, SpoolUnavailableError, TriggerSpool, type SpooledTrigger } from './index';

/** The spool against the local stack's SQS emulator, through the real SDK client. */
const client =
  (endpoint = sqsEndpoint()) =>
  () =>
    new SQSClient({ endpoint, region: 'us-west-2', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, maxAttempts: 1 });
const trigger = (n: number): SpooledTrigger => ({
  threadId: `cthr_spool${n}`,
  reason: 'pagehide',
  user: `u${n}`,
  pageUrl: null,
  at: Date.now(),
});

it('keeps what it cannot settle: a `retry` stops the drain, the rest reappear after the visibility timeout and run then', async () => {
  const name = await createQueue('spool-unit', { VisibilityTimeout: '1' });
  const spool = new TriggerSpool(name, client());
  for (const n of [1, 2, 3]) await spool.put(trigger(n));
  const ran: string[] = [];
  const first = await spool.drain(async (t) => (ran.push(t.threadId), ran.length === 2 ? 'retry' : 'done'), { more: () => true });
  expect(first).toEqual({ received: 3, done: 1, kept: 2, invalid: 0 });
  expect(ran).toHaveLength(2); // the third was not run after the ledger failed again
  expect((await queueMessages(name)).map((m) => m.visible)).toEqual([false, false]);
  await new Promise((r) => setTimeout(r, 1100));
  const second = await spool.drain(async () => 'done', { more: () => true });
  expect(second).toEqual({ received: 2, done: 2, kept: 0, invalid: 0 });
  expect(await queueMessages(name)).toEqual([]);
});

it('starts nothing once the run has no time left', async () => {
  const name = await createQueue('spool-unit');
  const spool = new TriggerSpool(name, client());
  await spool.put(trigger(1));
  let runs = 0;
  expect(await spool.drain(async () => (runs++, 'done'), { more: () => false })).toEqual({ received: 0, done: 0, kept: 0, invalid: 0 });
  expect(runs).toBe(0);
  expect(await queueMessages(name)).toHaveLength(1);
});

it('says so when SQS cannot be reached or the queue does not exist (the endpoint then answers 503)', async () => {
  await expect(new TriggerSpool('anything', client('http://127.0.0.1:9')).put(trigger(1))).rejects.toBeInstanceOf(SpoolUnavailableError);
  await expect(new TriggerSpool('no-such-queue', client()).put(trigger(1))).rejects.toBeInstanceOf(SpoolUnavailableError);
});

it('reads back only what it wrote', () => {
  const ok = { v: 1, threadId: 'cthr_a', reason: 'close', user: null, pageUrl: 'https://craigs.autos/', at: 1 };
  expect(parseSpooled(JSON.stringify(ok))).toEqual({
    threadId: 'cthr_a',
    reason: 'close',
    user: null,
    pageUrl: 'https://craigs.autos/',
    at: 1,
  });
  for (const bad of [
    '',
    'not json',
    JSON.stringify({ ...ok, v: 2 }),
    JSON.stringify({ ...ok, threadId: '' }),
    JSON.stringify({ ...ok, user: 5 }),
    JSON.stringify({ ...ok, at: 'x' }),
    JSON.stringify({ ...ok, pageUrl: 'x'.repeat(3000) }),
  ]) {
    expect(parseSpooled(bad)).toBeNull();
  }
});
