import type { SeedItem } from '@lead-intake/openai-emulator';
import { Ledger, DynamoLedgerStore } from '@lead-intake/ledger';
import { sendEmail } from '@lead-intake/ses-mailer';
import { SESClient } from '@aws-sdk/client-ses';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  applyEnv,
  clearSes,
  ledgerTableName,
  documentClient,
  dynamoClient,
  emulator,
  lambdaContext,
  leadAuth,
  leadEnv,
  postJson,
  sesEndpoint,
  stackUrls,
  threads,
  urlEvent,
  emailsFor,
  ledgerRecord,
} from '@lead-intake/testkit';

const admin = emulator();
const url = () => stackUrls().lead;
const user = (text: string): SeedItem => ({ role: 'user', text });
const bot = (text: string): SeedItem => ({ role: 'assistant', text });
const qualified = [user('My brakes grind. Call 415-555-2671.'), bot('Thanks, we will call you.')];
const summaryCalls = async () => (await admin.requests()).filter((r) => r.path === '/v1/responses').length;
const trigger = (threadId: string, reason: string) => postJson(url(), { threadId, reason }, leadAuth(threadId));

beforeEach(async () => {
  await admin.reset();
  await clearSes();
});

async function readRecord(id: string) {
  const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
  return (await documentClient().send(new GetCommand({ TableName: await ledgerTableName(), Key: { thread_id: id }, ConsistentRead: true })))
    .Item;
}

describe('send once, through the local stack', () => {
  it('a duplicate trigger is answered already_sent from the ledger: no transcript, no OpenAI call', async () => {
    const id = await threads.seedThread({ user: 'u', items: qualified });
    expect((await trigger(id, 'pagehide')).body).toEqual({ sent: true, reason: 'sent' });
    const before = (await admin.requests()).length;
    for (const reason of ['pagehide', 'auto', 'close', 'manual'])
      expect((await trigger(id, reason)).body).toEqual({ sent: true, reason: 'already_sent' });
    expect((await admin.requests()).length).toBe(before);
    expect(await emailsFor(id)).toHaveLength(1);
    expect(await readRecord(id)).toMatchObject({ status: 'sent', message_id: expect.any(String), sent_at: expect.any(Number) });
  });

  it('100 concurrent triggers for one thread: one email, at most one summary per transcript state', async () => {
    const id = await threads.seedThread({ user: 'u', items: qualified });
    const reasons = ['auto', 'idle', 'pagehide', 'close', 'manual'];
    const answers = await Promise.all(Array.from({ length: 100 }, (_, n) => trigger(id, reasons[n % reasons.length]!)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(answers.filter((a) => a.body.sent && a.body.reason === 'sent')).toHaveLength(1);
    for (const a of answers) expect(['sent', 'in_progress', 'already_sent', 'not_ready']).toContain(a.body.reason);
    expect(await emailsFor(id)).toHaveLength(1);
    expect(await summaryCalls()).toBeLessThanOrEqual(1);
  });

  it('repeated auto triggers over an unchanged transcript pay for one summary', async () => {
    const id = await threads.seedThread({ user: 'u', items: qualified });
    for (let n = 0; n < 5; n++) expect((await trigger(id, 'auto')).body).toEqual({ sent: false, reason: 'not_ready' });
    expect(await summaryCalls()).toBe(1);
    await threads.appendItems(id, [user('It is a 2010 Prius'), bot('Thanks!')]);
    expect((await trigger(id, 'auto')).body).toEqual({ sent: false, reason: 'not_ready' });
    expect(await summaryCalls()).toBe(2);
    // A strong trigger on the same state reuses the summary and sends.
    expect((await trigger(id, 'pagehide')).body).toEqual({ sent: true, reason: 'sent' });
    expect(await summaryCalls()).toBe(2);
  });

  it('no lost trigger: a pagehide during an auto evaluation that decides "not ready" is served before the holder lets go', async () => {
    const id = await threads.seedThread({ user: 'u', items: qualified });
    await admin.fault({ path: '/v1/responses', delay_ms: 800, times: 1 }); // the auto evaluation is slow
    const auto = trigger(id, 'auto');
    // Once the auto trigger holds the lease (it is then waiting on the slow summary):
    for (let n = 0; n < 200 && (await ledgerRecord(id))?.status !== 'sending'; n++) await new Promise((r) => setTimeout(r, 10));
    expect((await ledgerRecord(id))?.status).toBe('sending');
    const hide = await trigger(id, 'pagehide'); // the tab closes meanwhile
    expect(hide.body).toEqual({ sent: false, reason: 'in_progress' });
    expect((await auto).body).toEqual({ sent: true, reason: 'sent' }); // the holder re-evaluated with pagehide
    expect(await emailsFor(id)).toHaveLength(1);
    expect(await summaryCalls()).toBe(1); // same transcript state: the summary was reused
    expect((await emailsFor(id))[0]!.body.text).toContain('trigger: pagehide');
  });
});

describe('crash windows and failures (in-process, short lease and cooldown)', () => {
  let table: string;
  beforeAll(async () => {
    table = await ledgerTableName();
  });
  const ledger = () =>
    new Ledger(new DynamoLedgerStore({ tableName: table, client: dynamoClient() }), { leaseSeconds: 2, errorCooldownSeconds: 1 });

  async function loadHandler(over: Record<string, string | undefined> = {}) {
    // The handler's own leases (5 s) outlast a slow evaluation; the abandoned ones (ledger(), 2 s) expire fast.
    applyEnv(
      await leadEnv({
        LEAD_DEDUPE_LEASE_SECONDS: '5',
        LEAD_FUNCTION_TIMEOUT_SECONDS: '1',
        LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS: '1',
        ...over,
      }),
    );
    let mod: typeof import('./handler');
    jest.isolateModules(() => {
      mod = require('./handler');
    });
    const handler = mod!.handler;
    return async (threadId: string, reason: string, user?: string) => {
      const res = await handler(
        urlEvent({ body: JSON.stringify({ threadId, reason }), headers: leadAuth(threadId, user) }),
        lambdaContext(30_000),
      );
      return { status: (res as any).statusCode, body: JSON.parse((res as any).body) };
    };
  }

  it('a crash right after acquiring the lease: once it expires, a later trigger sends', async () => {
    const call = await loadHandler();
    const id = await threads.seedThread({ user: 'u', items: qualified });
    const dead = await ledger().acquire(id, 'pagehide'); // the invocation that died
    expect(dead.kind).toBe('acquired');
    expect((await call(id, 'idle')).body).toEqual({ sent: false, reason: 'in_progress' });
    await new Promise((r) => setTimeout(r, 2100));
    expect((await call(id, 'auto')).body).toEqual({ sent: true, reason: 'sent' }); // effective: the recorded pagehide
    expect(await emailsFor(id)).toHaveLength(1);
  });

  it('a crash after SES accepted the email but before `sent` was written: at-least-once, one duplicate possible', async () => {
    const call = await loadHandler();
    const id = await threads.seedThread({ user: 'u', items: qualified });
    const dead = await ledger().acquire(id, 'close');
    if (dead.kind !== 'acquired') throw new Error();
    const ses = new SESClient({ endpoint: sesEndpoint(), region: 'us-west-2', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    await sendEmail(ses, {
      from: 'victor@craigs.autos',
      to: ['victor@craigs.autos'],
      subject: 'x',
      text: `crashed holder ${id}`,
      html: `<p>${id}</p>`,
    });
    await new Promise((r) => setTimeout(r, 2100)); // the holder died before markSent; its lease expires
    expect((await call(id, 'close')).body).toEqual({ sent: true, reason: 'sent' });
    expect(await emailsFor(id)).toHaveLength(2); // the documented duplicate
    expect((await call(id, 'close')).body).toEqual({ sent: true, reason: 'already_sent' });
  });

  it('SES fails: error with cooldown (cooldown answers meanwhile), then a later trigger sends', async () => {
    // A cooldown no machine outruns (a busy one took over a second between two calls), ended below by
    // moving its end to now: as time passing would, without a test that depends on how fast it passes.
    const failing = await loadHandler({ AWS_ENDPOINT_URL_SES: 'http://127.0.0.1:9', LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS: '600' });
    const id = await threads.seedThread({ user: 'u', items: qualified });
    expect((await failing(id, 'pagehide')).body).toEqual({ sent: false, reason: 'error' });
    expect(await readRecord(id)).toMatchObject({
      status: 'error',
      attempts: 1,
      last_error: expect.stringMatching(/^ses:/),
      pending_reason: 'pagehide',
    });
    expect((await failing(id, 'auto')).body).toEqual({ sent: false, reason: 'cooldown' });
    const working = await loadHandler();
    const now = Math.floor(Date.now() / 1000);
    await documentClient().send(
      new UpdateCommand({
        TableName: await ledgerTableName(),
        Key: { thread_id: id },
        UpdateExpression: 'SET cooldown_until = :now, due_at = :now',
        ExpressionAttributeValues: { ':now': now },
      }),
    );
    expect((await working(id, 'auto')).body).toEqual({ sent: true, reason: 'sent' }); // retried with the failed pagehide
    expect(await emailsFor(id)).toHaveLength(1);
    expect(await summaryCalls()).toBe(1); // the retry reused the summary of the same state
  });

  it('a wrong user never erases a pending lead: 404, the record untouched, and the owner’s next trigger sends it', async () => {
    const failing = await loadHandler({ AWS_ENDPOINT_URL_SES: 'http://127.0.0.1:9' });
    const id = await threads.seedThread({ user: 'b2-owner', items: qualified });
    const as = (user: string, reason: string) => failing(id, reason, user);
    expect((await as('b2-owner', 'pagehide')).body).toEqual({ sent: false, reason: 'error' }); // SES down: error, pagehide recorded
    await new Promise((r) => setTimeout(r, 1100)); // its cooldown is over
    const before = await readRecord(id);
    expect(before).toMatchObject({ status: 'error', pending_reason: 'pagehide', due_shard: 'due' });
    for (const reason of ['auto', 'manual']) {
      const res = await as('someone-else', reason);
      expect([res.status, res.body.code]).toEqual([404, 'thread_not_found']); // not `cooldown`, not `in_progress`: nothing revealed
    }
    expect(await readRecord(id)).toEqual(before);
    const working = await loadHandler();
    expect((await working(id, 'auto', 'b2-owner')).body).toEqual({ sent: true, reason: 'sent' }); // served as the recorded pagehide
    expect(await emailsFor(id)).toHaveLength(1);
  });

  it('DynamoDB unavailable: fail closed with 503 ledger_unavailable, no OpenAI call, no email', async () => {
    const call = await loadHandler({ AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' });
    const id = await threads.seedThread({ user: 'u', items: qualified });
    const res = await call(id, 'pagehide');
    expect(res.status).toBe(503);
    // Says what happened.
    expect(res.body).toEqual({ error: 'The lead ledger is unavailable; retry in a few seconds.', code: 'ledger_unavailable' });
    expect(await admin.requests()).toEqual([]);
    expect(await emailsFor(id)).toEqual([]);
  });
});

describe('SES that hangs', () => {
  it('times out well inside the send reserve: a failed send, recorded for retry, not a function timeout past the lease', async () => {
    const { createServer } = await import('node:net');
    const sockets: any[] = [];
    const hung = createServer((s) => void sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    try {
      applyEnv(await leadEnv({ AWS_ENDPOINT_URL_SES: `http://127.0.0.1:${(hung.address() as any).port}`, LEAD_SES_TIMEOUT_MS: '500' }));
      let handler: any;
      jest.isolateModules(() => {
        handler = require('./handler').handler;
      });
      const id = await threads.seedThread({ user: 'u', items: qualified });
      const res = await handler(
        urlEvent({ body: JSON.stringify({ threadId: id, reason: 'pagehide' }), headers: leadAuth(id) }),
        lambdaContext(30_000),
      );
      expect(JSON.parse(res.body)).toEqual({ sent: false, reason: 'error' });
      expect(await readRecord(id)).toMatchObject({ status: 'error', last_error: 'ses:TimeoutError', pending_reason: 'pagehide' });
    } finally {
      sockets.forEach((s) => s.destroy());
      hung.close();
      applyEnv({ LEAD_SES_TIMEOUT_MS: undefined });
    }
  });
});

describe('unknown threads', () => {
  it('cost nothing: 404, no ledger record, no OpenAI call (a server-issued user never had hosted threads)', async () => {
    const id = `cthr_unknown${Date.now()}`;
    for (let n = 0; n < 3; n++) {
      const res = await postJson(url(), { threadId: id, reason: 'manual' }, leadAuth(id, 'u_AAAAAAAAAAAAAAAAAAAAAA'));
      expect([res.status, res.body.code]).toEqual([404, 'thread_not_found']);
    }
    expect(await readRecord(id)).toBeUndefined();
    expect(await admin.requests()).toEqual([]);
  });
});

describe('ledger records', () => {
  it('never rely on TTL: a record past its ttl still answers by its status', async () => {
    const id = await threads.seedThread({ user: 'ttl-owner', items: qualified });
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    // Written before owners were kept (no owner_hash): the owner's trigger claims it, then it answers by its status.
    await documentClient().send(
      new PutCommand({ TableName: await ledgerTableName(), Item: { thread_id: id, status: 'sent', sent_at: 1, ttl: 2, message_id: 'm' } }),
    );
    expect((await trigger(id, 'manual')).body).toEqual({ sent: true, reason: 'already_sent' });
  });
});
