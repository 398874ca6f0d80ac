import type { SeedItem } from '@lead-intake/openai-emulator';
import { Ledger, DynamoLedgerStore } from '@lead-intake/ledger';
import {
  applyEnv,
  clearSes,
  ledgerTableName,
  dynamoClient,
  emulator,
  lambdaContext,
  leadAuth,
  leadEnv,
  threads,
  urlEvent,
  emailsFor,
  ledgerRecord,
  useOwnLedgerTable,
} from '@lead-intake/testkit';

/** The sweeper finishes what nobody will call again for; driven one sweep at a time. */
const admin = emulator();
const user = (text: string): SeedItem => ({ role: 'user', text });
const qualified = [user('Clutch slipping. Call me at 415-555-2671.'), { role: 'assistant', text: 'We will call you.' } as SeedItem];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Its own ledger table: it sweeps (or sets its own clock), so no other file's records meet its own.
useOwnLedgerTable('sweeper');
let table: string;
beforeAll(async () => {
  table = await ledgerTableName();
});
beforeEach(async () => {
  await admin.reset();
  await clearSes();
});

const record = ledgerRecord;

/** The lead function and the sweeper in-process, sharing one short-lease configuration. */
async function load(over: Record<string, string | undefined> = {}) {
  applyEnv(
    // The handlers' own leases (5 s) outlast a slow evaluation; abandoned ones (ledger(), 2 s) expire fast.
    await leadEnv({
      LEAD_DEDUPE_LEASE_SECONDS: '5',
      LEAD_FUNCTION_TIMEOUT_SECONDS: '1',
      LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS: '1',
      LEAD_DEDUPE_MAX_ATTEMPTS: '3',
      ...over,
    }),
  );
  let lead: any;
  let sweeper: any;
  jest.isolateModules(() => {
    lead = require('./handler').handler;
    sweeper = require('./sweeper').handler;
  });
  return {
    trigger: async (threadId: string, reason: string) =>
      JSON.parse(
        (await lead(urlEvent({ body: JSON.stringify({ threadId, reason }), headers: leadAuth(threadId) }), lambdaContext(30_000))).body,
      ),
    sweep: () =>
      sweeper({ 'detail-type': 'Scheduled Event', source: 'aws.events' }, lambdaContext(60_000)) as Promise<{
        due: number;
        processed: number;
        skipped: number;
        failed: number;
      }>,
  };
}

const ledger = () => new Ledger(new DynamoLedgerStore({ tableName: table, client: dynamoClient() }), { leaseSeconds: 2 });

it(
  'an invocation killed right after acquiring the lease, with a pagehide ' +
    'recorded: the sweeper sends exactly one email after the lease expires',
  async () => {
    const { trigger, sweep } = await load();
    const id = await threads.seedThread({ user: 'u', items: qualified });
    expect((await ledger().acquire(id, 'auto')).kind).toBe('acquired'); // then killed
    expect(await trigger(id, 'pagehide')).toEqual({ sent: false, reason: 'in_progress' }); // the last trigger: nobody calls again
    await sweep();
    expect(await emailsFor(id)).toEqual([]); // the lease is live: the sweeper never takes it
    expect(await record(id)).toMatchObject({ status: 'sending', pending_reason: 'pagehide' });
    await sleep(2100);
    await sweep();
    expect(await emailsFor(id)).toHaveLength(1);
    expect(await record(id)).toMatchObject({ status: 'sent' });
    expect((await record(id))!.due_at).toBeUndefined();
    await sweep();
    expect(await emailsFor(id)).toHaveLength(1);
  },
);

it('SES failing on the last trigger and recovering later: the sweeper sends after the cooldown', async () => {
  const down = await load({ AWS_ENDPOINT_URL_SES: 'http://127.0.0.1:9', LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS: '4' });
  const id = await threads.seedThread({ user: 'u', items: qualified });
  expect(await down.trigger(id, 'pagehide')).toEqual({ sent: false, reason: 'error' });
  const { sweep } = await load({ LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS: '4' }); // SES is back
  await sweep();
  expect(await record(id)).toMatchObject({ status: 'error' }); // still cooling down: not retried
  expect(await emailsFor(id)).toEqual([]);
  await sleep(((await record(id))!.cooldown_until - Math.floor(Date.now() / 1000) + 1) * 1000);
  await sweep();
  expect(await emailsFor(id)).toHaveLength(1);
  expect(await record(id)).toMatchObject({ status: 'sent' });
});

it('SES failing permanently: failed after the maximum attempts, with the LeadsFailed metric, kept for the runbook', async () => {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((c: any) => (lines.push(String(c)), true));
  try {
    const { trigger, sweep } = await load({
      AWS_ENDPOINT_URL_SES: 'http://127.0.0.1:9',
      LEAD_DEDUPE_LEASE_SECONDS: '8',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const id = await threads.seedThread({ user: 'u', items: qualified });
    expect(await trigger(id, 'close')).toEqual({ sent: false, reason: 'error' });
    const cooldowns: number[] = [];
    for (let n = 0; n < 6 && (await record(id))!.status !== 'failed'; n++) {
      const r = (await record(id))!;
      cooldowns.push(r.cooldown_until - r.updated_at);
      await sleep((r.cooldown_until - Math.floor(Date.now() / 1000) + 1) * 1000);
      await sweep();
    }
    const rec = (await record(id))!;
    expect(rec).toMatchObject({ status: 'failed', attempts: 3, last_error: expect.stringMatching(/^ses:/) });
    expect(rec.due_at).toBeUndefined();
    expect(cooldowns).toEqual([1, 2]); // exponential
    expect(await trigger(id, 'manual')).toEqual({ sent: false, reason: 'failed' });
  } finally {
    spy.mockRestore();
  }
  const emf = lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
  expect(emf.some((m) => m.LeadsFailed === 1 && m.service === 'lead')).toBe(true);
  expect(emf.filter((m) => m.SesFailures === 1)).toHaveLength(3);
}, 30_000);

it('a sweep racing a live trigger on the same thread: still exactly one email', async () => {
  const { trigger, sweep } = await load();
  const ids: string[] = [];
  for (let n = 0; n < 5; n++) {
    const id = await threads.seedThread({ user: 'u', items: qualified });
    await ledger().acquire(id, 'pagehide'); // abandoned leases
    ids.push(id);
  }
  await sleep(2100);
  await Promise.all([sweep(), ...ids.flatMap((id) => [trigger(id, 'pagehide'), trigger(id, 'close')]), sweep()]);
  for (const id of ids) expect(await emailsFor(id)).toHaveLength(1);
});

it('an idle evaluation armed from an earlier turn, its re-arm late: no email yet, armed again from the newest turn', async () => {
  const { sweep } = await load({ LEAD_IDLE_SECONDS: '30' });
  const id = await threads.seedThread({ user: 'u-idle-late', items: qualified });
  // The schedule armed it from a turn 40 s ago (its window has passed); the thread's newest turn is from now.
  const now = Math.floor(Date.now() / 1000);
  expect((await ledger().scheduleIdle(id, { owner: 'u-idle-late', activityAt: now - 40, idleAt: now - 10 })).armed).toBe(true);
  await sweep();
  expect(await emailsFor(id)).toEqual([]);
  const rec = (await record(id))!;
  expect(rec.status).toBe('idle');
  expect(rec.idle_at).toBeGreaterThanOrEqual(now + 25); // the newest turn + the 30 s window
  expect(rec.lease_id).toBeUndefined();
  // A strong trigger is not held back by it: the customer's pagehide sends at once.
  const { trigger } = await load({ LEAD_IDLE_SECONDS: '30' });
  expect(await trigger(id, 'pagehide')).toEqual({ sent: true, reason: 'sent' });
});

it('a browser’s idle trigger recorded on a due record is what someone asked for: sent now, though the conversation is recent', async () => {
  // The idle window is long (600 s): only the server's own arm waits for it, never a trigger.
  const { trigger, sweep } = await load({ LEAD_IDLE_SECONDS: '600' });
  const id = await threads.seedThread({ user: 'u-idle-browser', items: qualified });
  expect((await ledger().acquire(id, 'auto')).kind).toBe('acquired'); // then killed
  expect(await trigger(id, 'idle')).toEqual({ sent: false, reason: 'in_progress' }); // recorded as the pending trigger
  await sleep(2100); // the killed holder's lease expires
  await sweep();
  expect(await emailsFor(id)).toHaveLength(1);
  expect((await record(id))!.status).toBe('sent');
});
