import type { SeedItem } from '@lead-intake/openai-emulator';
import {
  applyEnv,
  clearSes,
  createQueue,
  sqsEndpoint,
  emulator,
  lambdaContext,
  leadAuth,
  leadEnv,
  queueMessages,
  threads,
  urlEvent,
  emailsFor,
  ledgerRecord,
  useOwnLedgerTable,
} from '@lead-intake/testkit';

/**
 * DynamoDB down: a trigger the ledger cannot take is kept in the spool (202 `queued`), not lost;
 * the sweeper runs it once the ledger answers again, through the same owner check and ledger.
 * The ledger is made unreachable by pointing this instance's DynamoDB endpoint at a closed port.
 */
// Its own ledger table: it sweeps, so no other file's due records meet its own.
useOwnLedgerTable('outage');
const admin = emulator();
const DOWN = 'http://127.0.0.1:9'; // nothing listens there: connection refused, as when DynamoDB Local is killed
const qualified: SeedItem[] = [
  { role: 'user', text: 'Brakes grinding. Call me at 415-555-2671.' },
  { role: 'assistant', text: 'We will call you.' },
];

beforeEach(async () => {
  await admin.reset();
  await clearSes();
});
const record = ledgerRecord;

/** The endpoint and the sweeper as one instance with these settings. */
async function load(over: Record<string, string | undefined>) {
  applyEnv(await leadEnv({ LEAD_DEDUPE_LEASE_SECONDS: '5', LEAD_FUNCTION_TIMEOUT_SECONDS: '1', ...over }));
  let lead: any;
  let sweeper: any;
  jest.isolateModules(() => {
    lead = require('./handler').handler;
    sweeper = require('./sweeper').handler;
  });
  return {
    trigger: async (threadId: string, reason: string, headers: Record<string, string> = leadAuth(threadId)) => {
      const res = await lead(
        urlEvent({ body: JSON.stringify({ threadId, reason, pageUrl: 'https://craigs.autos/brakes' }), headers }),
        lambdaContext(30_000),
      );
      return { status: res.statusCode as number, body: JSON.parse(res.body) };
    },
    sweep: () => sweeper({ 'detail-type': 'Scheduled Event', source: 'aws.events' }, lambdaContext(60_000)),
  };
}

it(
  'with the ledger down a trigger is kept in the spool (202 queued, ' +
    'nothing run); the sweeper sends it once the ledger is back, exactly once',
  async () => {
    const queue = await createQueue('spool');
    const id = await threads.seedThread({ user: 'u-outage', items: qualified });
    const down = await load({ AWS_ENDPOINT_URL_DYNAMODB: DOWN, LEAD_SPOOL_QUEUE_NAME: queue });
    expect(await down.trigger(id, 'pagehide')).toEqual({ status: 202, body: { sent: false, reason: 'queued' } });
    expect(await down.trigger(id, 'pagehide')).toEqual({ status: 202, body: { sent: false, reason: 'queued' } }); // the second tab
    // Kept with the user its token proved, and nothing else ran: no record, no OpenAI call, no email.
    const kept = await queueMessages(queue);
    expect(kept.map((m) => m.body)).toEqual([
      { v: 1, threadId: id, reason: 'pagehide', user: 'u-outage', pageUrl: 'https://craigs.autos/brakes', at: expect.any(Number) },
      { v: 1, threadId: id, reason: 'pagehide', user: 'u-outage', pageUrl: 'https://craigs.autos/brakes', at: expect.any(Number) },
    ]);
    expect(await record(id)).toBeUndefined();
    expect(await admin.requests()).toEqual([]);

    // While the ledger is still down the sweeper fails before it receives anything: the spool keeps both.
    await expect(down.sweep()).rejects.toThrow();
    expect((await queueMessages(queue)).map((m) => m.receiveCount)).toEqual([0, 0]);

    // The ledger is back: one sweep sends one email (the page URL kept) and empties the spool.
    const up = await load({ LEAD_SPOOL_QUEUE_NAME: queue });
    const swept = await up.sweep();
    expect(swept.spool).toEqual({ received: 2, done: 2, kept: 0, invalid: 0 });
    const emails = await emailsFor(id);
    expect(emails).toHaveLength(1);
    expect(emails[0]!.body.html).toContain('https://craigs.autos/brakes');
    expect(await record(id)).toMatchObject({ status: 'sent' });
    expect(await queueMessages(queue)).toEqual([]);
    // A late retry from the browser meets the same record.
    expect(await up.trigger(id, 'manual')).toEqual({ status: 200, body: { sent: true, reason: 'already_sent' } });
    expect(await emailsFor(id)).toHaveLength(1);
  },
  60_000,
);

it(
  'a spooled trigger for another user’s thread is refused when ' + 'it is run: nothing written, nothing sent, the message settled',
  async () => {
    const queue = await createQueue('spool');
    const id = await threads.seedThread({ user: 'owner', items: qualified });
    const down = await load({ AWS_ENDPOINT_URL_DYNAMODB: DOWN, LEAD_SPOOL_QUEUE_NAME: queue });
    // A valid token of someone else: the owner cannot be checked while DynamoDB is down, so it is kept.
    expect(await down.trigger(id, 'manual', leadAuth(id, 'intruder'))).toEqual({ status: 202, body: { sent: false, reason: 'queued' } });
    const up = await load({ LEAD_SPOOL_QUEUE_NAME: queue });
    expect((await up.sweep()).spool).toEqual({ received: 1, done: 1, kept: 0, invalid: 0 });
    expect(await record(id)).toBeUndefined();
    expect(await emailsFor(id)).toEqual([]);
    expect(await queueMessages(queue)).toEqual([]);
    expect(await admin.requests()).toEqual([]);
  },
  60_000,
);

it(
  'a bad request is still refused at once while DynamoDB is down ' + '(nothing spooled), and without a token nothing reaches the spool',
  async () => {
    const queue = await createQueue('spool');
    const id = await threads.seedThread({ user: 'u', items: qualified });
    const down = await load({ AWS_ENDPOINT_URL_DYNAMODB: DOWN, LEAD_SPOOL_QUEUE_NAME: queue });
    expect((await down.trigger(id, 'sometimes')).status).toBe(400);
    expect((await down.trigger(id, 'manual', {})).status).toBe(401);
    expect(await queueMessages(queue)).toEqual([]);
  },
  30_000,
);

it('with the spool down too, the trigger is refused with 503 ledger_unavailable (retry later) and nothing is written', async () => {
  const id = await threads.seedThread({ user: 'u', items: qualified });
  const down = await load({ AWS_ENDPOINT_URL_DYNAMODB: DOWN, AWS_ENDPOINT_URL_SQS: DOWN, LEAD_SPOOL_QUEUE_NAME: 'gone' });
  const res = await down.trigger(id, 'pagehide');
  expect(res.status).toBe(503);
  expect(res.body).toEqual({ code: 'ledger_unavailable', error: expect.stringMatching(/retry/i) });
  expect(await record(id)).toBeUndefined();
}, 30_000);

it('a message in the spool that is not a trigger is dropped (logged by id), the others still run', async () => {
  const queue = await createQueue('spool');
  const id = await threads.seedThread({ user: 'u-mixed', items: qualified });
  const { SQSClient, SendMessageCommand } = await import('@aws-sdk/client-sqs');
  const sqs = new SQSClient({ endpoint: sqsEndpoint(), region: 'us-west-2', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  await sqs.send(
    new SendMessageCommand({ QueueUrl: `${sqsEndpoint()}/000000000000/${queue}`, MessageBody: '{"v":2,"threadId":"cthr_x"}' }),
  );
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: `${sqsEndpoint()}/000000000000/${queue}`,
      MessageBody: JSON.stringify({ v: 1, threadId: id, reason: 'close', user: 'u-mixed', pageUrl: null, at: Date.now() }),
    }),
  );
  sqs.destroy();
  const up = await load({ LEAD_SPOOL_QUEUE_NAME: queue });
  expect((await up.sweep()).spool).toEqual({ received: 2, done: 1, kept: 0, invalid: 1 });
  expect(await emailsFor(id)).toHaveLength(1);
  expect(await queueMessages(queue)).toEqual([]);
}, 30_000);
