import { InboxStore } from '@lead-intake/inbox-store';
import {
  alertsEnv,
  alertsFor,
  applyEnv,
  clearAlerts,
  clearFollowUps,
  clearSes,
  dynamoClient,
  emailsFor,
  emulator,
  inboxUrl,
  lambdaContext,
  leadAuth,
  leadEnv,
  leadSummary,
  ledgerRecord,
  postJson,
  queueMessages,
  stackUrls,
  tableEndingWith,
  threads,
} from '@lead-intake/testkit';

/**
 * The owner's inbox, from the lead service's side (issue 30 §1, §3, §4): each lead is recorded
 * once as it goes out (a retry, a second trigger or channel never writes it again), the email
 * links to its page, a conversation the triage held back is kept in Filtered, and "This is a
 * customer" sends its lead once.
 */
const admin = emulator();
const SHOP = 'craigs-autos';
let inbox: InboxStore;
const trigger = async (id: string, reason: string) => (await postJson(stackUrls().lead, { threadId: id, reason }, leadAuth(id))).body;
const conversation = (user: string, text: string) =>
  threads.seedThread({
    user,
    items: [
      { role: 'user', text },
      { role: 'assistant', text: 'Thanks, noted.' },
    ],
  });

beforeAll(async () => {
  inbox = new InboxStore({ tableName: await tableEndingWith('-leads'), client: dynamoClient() });
});
beforeEach(async () => {
  await admin.reset();
  await clearSes();
  await clearFollowUps();
  await clearAlerts();
});
afterAll(() => admin.reset());

it('records a lead once as it goes out, and its email links to its page in the inbox', async () => {
  const id = await conversation('u-inbox-record', 'My brakes grind, call me at 415-555-0177');
  await admin.queueOutput(leadSummary({ customer_name: 'Ana Lopez', project_summary: 'Brakes grinding' }));
  expect(await trigger(id, 'pagehide')).toEqual({ sent: true, reason: 'sent' });
  const first = await inbox.get(SHOP, id);
  expect(first?.lead).toMatchObject({
    kind: 'lead',
    status: 'new',
    name: 'Ana Lopez',
    need: 'Brakes grinding',
    phones: ['+14155550177'],
    trigger: 'pagehide',
  });
  expect(first!.history).toEqual([]);
  expect((await ledgerRecord(id))?.delivered_inbox?.id).toBe(`${SHOP}/${id}`);
  const [email] = await emailsFor(id);
  expect(email!.body.text).toContain(`Open in inbox: ${inboxUrl()}/leads/${id}`);
  // The owner's text ends with the same link (the local stage texts one owner phone).
  const [text] = (await alertsFor(id, '(415) 555-0177')).sms;
  expect(text!.body.split('\n').at(-1)).toBe(`${inboxUrl()}/leads/${id}`);
  // Another trigger: the ledger answers, nothing is written again.
  expect(await trigger(id, 'manual')).toEqual({ sent: true, reason: 'already_sent' });
  expect(await inbox.get(SHOP, id)).toEqual(first);
});

it('keeps a filtered conversation in Filtered; “This is a customer” sends its lead once, whatever the triage said', async () => {
  const id = await conversation('u-inbox-filtered', 'We sell SEO, but also my car will not start: 415-555-0178');
  await admin.queueOutput(leadSummary({ lead_kind: 'vendor', customer_name: 'Vic Vendor' }));
  expect(await trigger(id, 'pagehide')).toEqual({ sent: false, reason: 'not_customer' });
  expect((await inbox.get(SHOP, id))?.lead).toMatchObject({ kind: 'filtered', leadKind: 'vendor', name: 'Vic Vendor' });
  expect((await inbox.list(SHOP, { view: 'filtered' })).leads.map((l) => l.threadId)).toContain(id);
  expect((await inbox.list(SHOP, { view: 'lead' })).leads.map((l) => l.threadId)).not.toContain(id);

  // The owner's "This is a customer" (the inbox over HTTP, signed in): recorded, and the lead asked for.
  const { session, csrf } = await signedIn();
  const rescued = await fetch(`${inboxUrl()}/filtered/${id}/customer`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf }).toString(),
  });
  expect(rescued.status).toBe(303);
  const spool = 'chatkit-lead-intake-lead-local-trigger-spool';
  expect((await queueMessages(spool)).map((m) => [m.body.threadId, m.body.reason])).toContainEqual([id, 'rescue']);

  // The sweeper drains the trigger: the lead goes out although the summary still says vendor.
  const sweep = await sweeper(spool);
  await admin.queueOutput(leadSummary({ lead_kind: 'vendor', customer_name: 'Vic Vendor' }));
  await sweep();
  const emails = await emailsFor(id);
  expect(emails).toHaveLength(1);
  expect(emails[0]!.body.text).toContain('trigger: rescue');
  const after = (await inbox.get(SHOP, id))!;
  expect(after.lead).toMatchObject({ kind: 'lead', status: 'new' });
  expect(after.history.map((h) => h.event)).toEqual(['rescued']);
  // A second click: the lead's page, nothing asked again; and nothing more is sent.
  const again = await fetch(`${inboxUrl()}/filtered/${id}/customer`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf }).toString(),
  });
  expect(again.status).toBe(303);
  expect(again.headers.get('location')).toBe(`/leads/${id}`);
  await sweep();
  expect(await emailsFor(id)).toHaveLength(1);
});

/** A signed-in owner of the inbox (the link written as the inbox writes it, then used over HTTP). */
async function signedIn(): Promise<{ session: string; csrf: string }> {
  const { AuthStore, randomToken } = await import('../../inbox/src/auth');
  const auth = new AuthStore(await tableEndingWith('-auth'), dynamoClient());
  const token = randomToken();
  await auth.createLink(token, 'victor@craigs.autos', Math.floor(Date.now() / 1000));
  const used = await fetch(`${inboxUrl()}/auth`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, next: '/' }).toString(),
  });
  const session = used.headers.getSetCookie()[0]!.split(';')[0]!;
  const page = await (await fetch(`${inboxUrl()}/filtered`, { headers: { cookie: session } })).text();
  return { session, csrf: /name="csrf" value="([^"]+)"/.exec(page)![1]! };
}

/** The sweeper in-process, draining the stack's trigger spool and writing to its inbox. */
async function sweeper(spool: string) {
  applyEnv(
    await leadEnv({
      ...alertsEnv(),
      LEAD_SPOOL_QUEUE_NAME: spool,
      LEAD_INBOX_TABLE: await tableEndingWith('-leads'),
      LEAD_INBOX_URL: `${inboxUrl()}/`,
    }),
  );
  let handler: any;
  jest.isolateModules(() => {
    handler = require('./sweeper').handler;
  });
  return () => handler({ 'detail-type': 'Scheduled Event', source: 'aws.events' }, lambdaContext(60_000));
}
