import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SUMMARY_FORMAT } from '@lead-intake/lead-summary';
import { ownerHash } from '@lead-intake/ledger';
import { EmulatorAdmin } from '@lead-intake/openai-emulator';
import { clientTokenFor, leadSummary, parseSse } from '@lead-intake/testkit';
import { resolveStage } from '@lead-intake/stage-config';
import { DynamoThreadStore } from '@lead-intake/thread-store';
import { createTables } from '../local/local-stack/src/dynamodb';
import { resolveService } from '../local/local-stack/src/service-config';
import { LOCAL_DIR, REPO_ROOT } from '../local/local-stack/src/paths';

/**
 * Server-scheduled leads (issue 16), over a local stack of their own with the event source
 * mapping on (the shared test stack runs with LOCAL_STREAMS=0): conversations run through the chat
 * endpoint over HTTP, and no browser trigger is ever sent. The scheduler reads the thread table's
 * stream from DynamoDB Local, the sweeper runs every second, the idle window is the `local`
 * stage's leadIdleSeconds.
 */
const IDLE = Number(resolveStage('local').leadIdleSeconds);
// Below the ephemeral range (32768-60999 here): a port up there can be taken by another test's outgoing connection.
const PORTS = {
  LOCAL_DYNAMODB_PORT: 26000,
  LOCAL_SES_PORT: 26005,
  LOCAL_SQS_PORT: 26006,
  LOCAL_S3_PORT: 26007,
  LOCAL_ALERTS_PORT: 26008,
  LOCAL_OPENAI_PORT: 24110,
  LOCAL_SESSION_PORT: 24101,
  LOCAL_LEAD_PORT: 24102,
  LOCAL_CHAT_PORT: 24103,
  LOCAL_FILES_PORT: 24104,
  LOCAL_INBOX_PORT: 24105,
};
const at = (port: number) => `http://127.0.0.1:${port}`;
const CHAT = at(PORTS.LOCAL_CHAT_PORT);
const admin = new EmulatorAdmin(at(PORTS.LOCAL_OPENAI_PORT));
const dynamo = () =>
  new DynamoDBClient({
    endpoint: at(PORTS.LOCAL_DYNAMODB_PORT),
    region: 'us-west-2',
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
const LEDGER = 'chatkit-lead-intake-lead-local-dedupe';
const THREADS = 'chatkit-lead-intake-chat-local-threads';
const PAGE = 'https://craigs.autos/brakes';

let stack: ChildProcess;
let log = '';

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sched-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOCAL_OUTPUTS_FILE: join(dir, 'outputs.json'),
    LOCAL_SCHEDULE_SECONDS: '1',
    LOCAL_STREAMS: '1',
  };
  for (const [k, v] of Object.entries(PORTS)) env[k] = String(v);
  for (const k of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'LOCAL_CHATKIT_MODE', 'LOCAL_STAGE', 'LOCAL_DYNAMODB_DATA_DIR']) delete env[k];
  stack = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'local/local-stack/src/cli.ts')], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  stack.stdout!.on('data', (d) => (log += d));
  stack.stderr!.on('data', (d) => (log += d));
  const deadline = Date.now() + 90_000;
  while (!/^ready in /m.test(log) && Date.now() < deadline && stack.exitCode === null) await sleep(100);
  if (!/^ready in /m.test(log)) throw new Error(`the stack did not start:\n${log}`);
  expect(log).toMatch(/scheduler\s+the chatkit-lead-intake-chat-local-threads stream/);
}, 120_000);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    stack.kill('SIGINT');
    await new Promise((r) => stack.once('exit', r));
  }
  // Scanned with the run's other logs for customer data (test/jest/pii-scan.ts).
  mkdirSync(join(REPO_ROOT, '.local', 'test-logs'), { recursive: true });
  writeFileSync(join(REPO_ROOT, '.local', 'test-logs', 'server-scheduled-leads.stack.log'), log);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });

/** One customer in the browser: a chat token that names their page, and their turns. Never a lead trigger. */
function customer(user: string) {
  const token = clientTokenFor(user, 3600, { pageUrl: PAGE });
  let threadId: string | null = null;
  const post = async (body: unknown) => {
    const res = await fetch(CHAT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, origin: 'http://localhost:4321' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return parseSse(await res.text());
  };
  return {
    get threadId() {
      return threadId!;
    },
    /** Sends a message and reads the whole answer; answers when the turn is over (the time of the last event). */
    async say(message: string): Promise<number> {
      const events = threadId
        ? await post({ type: 'threads.add_user_message', params: { thread_id: threadId, input: text(message) } })
        : await post({ type: 'threads.create', params: { input: text(message) } });
      threadId ??= events.find((e) => e.type === 'thread.created').thread.id;
      expect(events.some((e) => e.type === 'thread.item.done' && e.item.type === 'assistant_message')).toBe(true);
      return Date.now();
    },
  };
}

interface Email {
  at: number;
  subject: string;
  text: string;
}
async function emailsFor(threadId: string): Promise<Email[]> {
  const store = (await (await fetch(`${at(PORTS.LOCAL_SES_PORT)}/store`)).json()) as {
    emails: Array<{ at: number; subject: string; body: { text?: string } }>;
  };
  return store.emails
    .filter((m) => m.body.text?.includes(threadId))
    .map((m) => ({ at: m.at * (m.at < 1e12 ? 1000 : 1), subject: m.subject, text: m.body.text! }));
}

/** Waits until `threadId` has an email, or `ms` pass; answers the emails. */
async function waitForEmail(threadId: string, ms: number): Promise<Email[]> {
  const until = Date.now() + ms;
  let got = await emailsFor(threadId);
  while (!got.length && Date.now() < until) {
    await sleep(200);
    got = await emailsFor(threadId);
  }
  return got;
}

/** Summary requests the emulator answered whose transcript holds `marker`. */
async function summariesWith(marker: string): Promise<number> {
  const reqs = await admin.requests();
  return reqs.filter((r) => {
    const body = r.body as { text?: { format?: { name?: string } } } | undefined;
    return r.path.endsWith('/responses') && body?.text?.format?.name === SUMMARY_FORMAT && JSON.stringify(body).includes(marker);
  }).length;
}

/** The ledger record once its holder has let go (the email is in the store a moment before `sent` is written, after the other channels). */
async function settled(threadId: string) {
  for (let n = 0; n < 100; n++) {
    const rec = await ledger(threadId);
    if (rec?.status !== 'sending') return rec;
    await sleep(100);
  }
  return ledger(threadId);
}

const ledger = async (threadId: string) =>
  (
    await DynamoDBDocumentClient.from(dynamo()).send(
      new GetCommand({ TableName: LEDGER, Key: { thread_id: threadId }, ConsistentRead: true }),
    )
  ).Item;

// A contact arrives, then the customer goes on talking: the email comes one idle window after the
// LAST turn (re-armed), with the page and the transcript, and only once.
it('emails an abandoned conversation with a contact once, an idle window after its last turn, with no browser trigger', async () => {
  const c = customer('u_schedAbandonedCustomer01');
  await c.say('My brakes squeal (marker-abandon). Call me at 415-555-0142.');
  await sleep(3000);
  const last = await c.say('It is a 2012 Civic.');
  const emails = await waitForEmail(c.threadId, (IDLE + 15) * 1000);
  expect(emails).toHaveLength(1);
  // Not before the window counted from the last turn (activity and SES times are whole seconds: 2 s
  // of slack; the first turn's window would have ended about 1.5 s after the last turn).
  expect(emails[0]!.at - last).toBeGreaterThanOrEqual((IDLE - 2) * 1000);
  expect(emails[0]!.text).toContain(PAGE);
  expect(emails[0]!.text).toContain('2012 Civic');
  expect(await settled(c.threadId)).toMatchObject({ status: 'sent', trigger_reason: 'idle' });
  // The ledger holds nothing armed any more, and further sweeps send nothing.
  expect((await ledger(c.threadId))!.idle_at).toBeUndefined();
  await sleep(3000);
  expect(await emailsFor(c.threadId)).toHaveLength(1);
  // One summary per transcript state: two turns with a contact, each evaluated once by the
  // scheduler's `auto`, and the idle evaluation reused the last one.
  expect(await summariesWith('marker-abandon')).toBe(2);
}, 60_000);

it('sends at once, from the turn itself, when the summary says the lead is handoff-ready (`auto`, before any idle window)', async () => {
  const c = customer('u_schedHandoffReadyCust001');
  // The turn's answer, then the scheduler's summary of that turn (the emulator answers in order).
  await admin.queue({ text: 'Thanks Dana, Craig will call you today.' });
  await admin.queueOutput(leadSummary());
  await c.say('Dana here (marker-ready), 2016 Tacoma, check engine light. Call 415-555-0190 to book.');
  const emails = await waitForEmail(c.threadId, (IDLE + 15) * 1000);
  expect(emails).toHaveLength(1);
  expect(await settled(c.threadId)).toMatchObject({ status: 'sent', trigger_reason: 'auto' });
  expect(emails[0]!.text).toContain('Dana Whitfield');
  await sleep((IDLE + 3) * 1000); // the idle evaluation that was armed sends nothing more
  expect(await emailsFor(c.threadId)).toHaveLength(1);
}, 60_000);

it('sends nothing and pays for no summary when the conversation has no contact', async () => {
  const c = customer('u_schedNoContactCustomer01');
  await c.say('How late are you open (marker-nocontact)?');
  await c.say('Thanks, bye.');
  await sleep((IDLE + 4) * 1000);
  expect(await emailsFor(c.threadId)).toEqual([]);
  expect(await summariesWith('marker-nocontact')).toBe(0);
  // The idle evaluation ran and let go: idle, nothing armed.
  const rec = await ledger(c.threadId);
  expect(rec).toMatchObject({ status: 'idle' });
  expect(rec!.idle_at).toBeUndefined();
}, 60_000);

/**
 * The sources ('scheduler', 'sweeper', ...) of the stack's `lead evaluated` lines for `threadId`, in
 * order, once `enough` holds for them (a line reaches this process a moment after the ledger's
 * write), or what there is after 10 s. Only whole lines are read.
 */
async function evaluations(threadId: string, enough: (found: string[]) => boolean): Promise<string[]> {
  const until = Date.now() + 10_000;
  for (;;) {
    const found = log
      .split('\n')
      .slice(0, -1)
      .map((l) => l.slice(l.indexOf('{')))
      .filter((l) => l.includes('"lead evaluated"') && l.includes(threadId))
      .map((l) => (JSON.parse(l) as { source: string }).source);
    if (enough(found) || Date.now() > until) return found;
    await sleep(100);
  }
}

/** The ledger record once its idle evaluation was taken and let go (`idle`, nothing armed), or what it is after `ms`. */
async function idleEvaluated(threadId: string, ms: number) {
  const until = Date.now() + ms;
  for (;;) {
    const rec = await ledger(threadId);
    if ((rec?.status === 'idle' && rec.idle_at === undefined && rec.eval_state) || Date.now() > until) return rec;
    await sleep(200);
  }
}

it('spares the `auto` evaluations while nothing the customer wrote could be a contact, and evaluates once something could', async () => {
  const c = customer('u_schedSparedCustomer0001');
  await c.say('Do you fix hybrids (marker-spared)?');
  await c.say('And do you work on Saturdays?');
  // Two completed turns, no contact: no `auto` evaluation; the idle one still reads the thread.
  const rec = await idleEvaluated(c.threadId, (IDLE + 20) * 1000);
  expect(rec).toMatchObject({ status: 'idle', may_have_contact: false, trigger_reason: 'idle' });
  expect(rec!.idle_at).toBeUndefined();
  const before = await evaluations(c.threadId, (found) => found.length > 0);
  expect(before.length).toBeGreaterThan(0); // one idle evaluation (two, if the machine kept the turns apart that long)
  expect(before.filter((source) => source !== 'sweeper')).toEqual([]);
  // The customer leaves a number: that turn's `auto` evaluation runs, and a handoff-ready lead goes at once.
  await admin.queue({ text: 'Thanks, Craig will call you.' });
  await admin.queueOutput(leadSummary());
  await c.say('Please call me at 415-555-0133 to book.');
  expect(await waitForEmail(c.threadId, (IDLE + 15) * 1000)).toHaveLength(1);
  expect(await settled(c.threadId)).toMatchObject({ status: 'sent', trigger_reason: 'auto', may_have_contact: true });
  const after = (await evaluations(c.threadId, (found) => found.slice(before.length).includes('scheduler'))).slice(before.length);
  expect(after.filter((source) => source === 'scheduler')).toEqual(['scheduler']);
}, 90_000);

it('takes the owner from the item rows the chat wrote, and reads it from the thread where a row does not carry it', async () => {
  const userId = 'u_schedOwnerFromRowsCust01';
  const plain = customer(userId);
  await plain.say('Do you do alignments (marker-owner-plain)?');
  const c = customer(userId);
  await c.say('Hello (marker-owner)');
  // Then items written by a store that never read the thread (a tool of its own: the chat and the importer
  // always prove the owner first): no owner on their rows.
  const store = new DynamoThreadStore({ tableName: THREADS, client: dynamo() });
  const now = new Date().toISOString();
  const id = () => store.generateItemId('message');
  await store.addThreadItem(c.threadId, {
    id: id(),
    thread_id: c.threadId,
    created_at: now,
    type: 'user_message',
    content: [{ type: 'input_text', text: 'Call me at 415-555-0166 (marker-owner).' }],
    attachments: [],
    inference_options: {},
  });
  await store.addThreadItem(c.threadId, {
    id: id(),
    thread_id: c.threadId,
    created_at: now,
    type: 'assistant_message',
    content: [{ type: 'output_text', text: 'Thanks, Craig will call.', annotations: [] }],
  });
  const rows = (
    await DynamoDBDocumentClient.from(dynamo()).send(
      new QueryCommand({
        TableName: THREADS,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :itm)',
        ExpressionAttributeValues: { ':pk': `THREAD#${c.threadId}`, ':itm': 'ITM#' },
        ConsistentRead: true,
      }),
    )
  ).Items!;
  const owners = rows.map((r) => [
    JSON.parse(r.data).type,
    r.data.includes('Craig will call') || r.data.includes('555-0166') ? 'test' : 'chat',
    r.user ?? null,
  ]);
  expect(owners).toEqual([
    ['user_message', 'chat', userId],
    ['assistant_message', 'chat', userId],
    ['user_message', 'test', null],
    ['assistant_message', 'test', null],
  ]);
  // The scheduler reads the owner from the thread for the batch of those two: the lead goes out
  // (at the idle window); both conversations' records name their customer.
  expect(await waitForEmail(c.threadId, (IDLE + 15) * 1000)).toHaveLength(1);
  const sent = await settled(c.threadId);
  expect(sent).toMatchObject({ status: 'sent' });
  expect(sent!.owner_hash).toBe(ownerHash(userId));
  expect((await ledger(plain.threadId))?.owner_hash).toBe(ownerHash(userId));
}, 60_000);

it('a conversation that resumes after its idle email gets no second email', async () => {
  const c = customer('u_schedResumingCustomer001');
  await c.say('Oil change please (marker-resume), my email is resume.customer@example.net');
  expect(await waitForEmail(c.threadId, (IDLE + 15) * 1000)).toHaveLength(1);
  await c.say('Also, can you check the tires?');
  await sleep((IDLE + 4) * 1000);
  expect(await emailsFor(c.threadId)).toHaveLength(1);
  expect(await settled(c.threadId)).toMatchObject({ status: 'sent' });
}, 60_000);

it('a scheduler that cannot reach the ledger is retried from that record: the lead still goes out once', async () => {
  // The ledger table disappears (DynamoDB refuses every ledger call) while a customer chats.
  const lead = await resolveService(join(REPO_ROOT, 'services', 'lead'), 'local', join(LOCAL_DIR, 'cache'));
  const table = lead.tables.find((t) => t.properties.TableName === LEDGER)!;
  await dynamo().send(new DeleteTableCommand({ TableName: LEDGER }));
  try {
    const c = customer('u_schedLedgerOutage000001');
    // The chat never waits for lead work: the turn completes (say() checks the answer) while the ledger is gone.
    await c.say('Check engine light (marker-outage). Phone 415-555-0177.');
    await sleep((IDLE + 2) * 1000);
    expect(log).toMatch(/scheduler: could not schedule; the batch is retried from this thread/);
    expect(await emailsFor(c.threadId)).toEqual([]);
    // The ledger comes back: the stream batch is delivered again, the idle time is already past.
    await createTables(at(PORTS.LOCAL_DYNAMODB_PORT), [table]);
    const emails = await waitForEmail(c.threadId, 30_000);
    expect(emails).toHaveLength(1);
    await sleep(3000);
    expect(await emailsFor(c.threadId)).toHaveLength(1);
  } finally {
    await createTables(at(PORTS.LOCAL_DYNAMODB_PORT), [table]); // no-op when it exists
  }
  // Nothing was given up: the failure destination is empty.
  const queues = (await (await fetch(`${at(PORTS.LOCAL_SQS_PORT)}/`)).json()) as { queues: Array<{ name: string; messages: unknown[] }> };
  expect(queues.queues.find((q) => q.name.endsWith('-scheduler-failures'))!.messages).toEqual([]);
}, 90_000);
