import { Webhook } from 'standardwebhooks';
import { smsLength } from '@lead-intake/alerts';
import {
  alertsEnv,
  alertsFault,
  alertsFor,
  applyEnv,
  clearAlerts,
  clearFollowUps,
  clearSes,
  emailsFor,
  emulator,
  lambdaContext,
  leadAuth,
  leadEnv,
  leadSummary,
  ledgerRecord,
  TEST_WEBHOOK_SECRET,
  threads,
  urlEvent,
  useOwnLedgerTable,
} from '@lead-intake/testkit';
import { validateLeadDocument } from './webhook-schema';

/**
 * The owner's channels beside email, over the local stack: texts through the End User Messaging SMS
 * stand-in (the real SDK client), the webhook to its receiver. Each delivery is recorded on the
 * ledger on its own: a failed channel is retried by the sweeper without sending the others again.
 */
// Its own ledger table: it sweeps, so no other file's due records meet its own.
useOwnLedgerTable('channels');
const admin = emulator();
const PHONE = '+14155550410';
const BRAKES = (n: string) => `My brakes are grinding on my 2016 Tacoma. Call me at (415) 555-${n}.`;
const validate = validateLeadDocument;

beforeEach(async () => {
  await admin.reset();
  await clearSes();
  await clearAlerts();
  await clearFollowUps();
});

async function load(over: Record<string, string | undefined> = {}) {
  applyEnv(
    await leadEnv({
      ...alertsEnv(),
      LEAD_DEDUPE_LEASE_SECONDS: '20',
      LEAD_FUNCTION_TIMEOUT_SECONDS: '10',
      LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS: '1',
      LEAD_WEBHOOK_TIMEOUT_MS: '800',
      LEAD_SMS_TIMEOUT_MS: '800',
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
    trigger: async (threadId: string, reason: string) => {
      const res = await lead(
        urlEvent({ body: JSON.stringify({ threadId, reason, pageUrl: 'https://craigs.autos/brakes' }), headers: leadAuth(threadId) }),
        lambdaContext(30_000),
      );
      return JSON.parse(res.body);
    },
    /** The sweeper once the record's cooldown (1 s) is over. */
    sweepLater: async () => {
      await new Promise((r) => setTimeout(r, 2100));
      return sweeper({ 'detail-type': 'Scheduled Event', source: 'aws.events' }, lambdaContext(60_000));
    },
  };
}

/** Each test's customer has a number of its own: texts are found by it. */
const conversation = (user: string, text: string) =>
  threads.seedThread({
    user,
    items: [
      { role: 'user', text },
      { role: 'assistant', text: 'Thanks, the shop will call you.' },
    ],
  });

/** A delivery's independent check: the `standardwebhooks` package (svix's reference implementation), not our code. */
function verified(w: { headers: Record<string, string>; body: string }) {
  return new Webhook(TEST_WEBHOOK_SECRET).verify(w.body, w.headers) as any;
}

it('one lead: one email, a text per owner phone (two segments at most, no transcript), a signed webhook the schema accepts', async () => {
  const app = await load();
  const id = await conversation('u-ch-all', BRAKES('0410'));
  await admin.queueOutput(leadSummary({ customer_name: 'Dana Whitfield', project_summary: 'Brakes grinding' }));
  expect(await app.trigger(id, 'pagehide')).toEqual({ sent: true, reason: 'sent' });
  expect(await app.trigger(id, 'close')).toEqual({ sent: true, reason: 'already_sent' });

  expect(await emailsFor(id)).toHaveLength(1);
  const { sms, webhooks } = await alertsFor(id, '(415) 555-0410');
  expect(sms.map((m) => m.to).sort()).toEqual(['+15555550100', '+15555550111']);
  for (const m of sms) {
    expect(m.originationIdentity).toBe('arn:aws:sms-voice:us-west-2:000000000000:phone-number/phone-test');
    expect(m.body).toBe('New lead: Dana Whitfield\nBrakes grinding (2016 Toyota Tacoma)\nCall (415) 555-0410');
    expect(m.segments).toBeLessThanOrEqual(2);
    expect(m.body).not.toContain('grinding on my'); // no transcript
  }
  expect(webhooks).toHaveLength(1);
  const [hook] = webhooks;
  const doc = verified(hook!);
  expect(validate(doc)).toBe(true);
  expect(doc.data).toMatchObject({
    thread_id: id,
    trigger: 'pagehide',
    urgency: 'normal',
    contacts: { phones: [PHONE], emails: [] },
    customer: { name: 'Dana Whitfield' },
    links: { page: 'https://craigs.autos/brakes', files: [] },
  });
  expect(doc.data.transcript[0]).toMatchObject({ role: 'customer', text: expect.stringContaining('brakes are grinding') });
  // A forged or altered delivery does not verify with the same independent implementation.
  expect(() => verified({ ...hook!, body: hook!.body.replace('Dana', 'Eve') })).toThrow();

  // The ledger holds each delivery on its own, and no phone number in its keys.
  const rec = (await ledgerRecord(id))!;
  expect(rec.status).toBe('sent');
  const keys = Object.keys(rec).filter((k) => k.startsWith('delivered_'));
  expect(keys.filter((k) => !k.startsWith('delivered_sms_')).sort()).toEqual(['delivered_email', 'delivered_webhook']);
  expect(keys.filter((k) => k.startsWith('delivered_sms_'))).toHaveLength(2); // one per owner phone
  expect(JSON.stringify(rec)).not.toContain('5555550100');
  expect(rec.delivered_webhook.id).toBe(hook!.headers['webhook-id']);
});

it('SMS down: the email and the webhook go once; the texts are retried by the sweeper once it recovers, and only they', async () => {
  const app = await load();
  const id = await conversation('u-ch-sms-down', BRAKES('0411'));
  await admin.queueOutput(leadSummary());
  await alertsFault({ channel: 'sms', status: 500, times: 100 });
  // The email went out: the answer says so; the record keeps the missing texts for the sweeper.
  expect(await app.trigger(id, 'pagehide')).toEqual({ sent: true, reason: 'sent' });
  let rec = (await ledgerRecord(id))!;
  expect(rec).toMatchObject({ status: 'error', last_error: 'sms:InternalServerException' });
  expect(rec.delivered_email).toBeDefined();
  expect(rec.delivered_webhook).toBeDefined();
  expect((await alertsFor(id, '(415) 555-0411')).sms).toEqual([]);

  // Still down at the first retry: nothing else is sent again.
  await app.sweepLater();
  expect(await emailsFor(id)).toHaveLength(1);
  expect((await alertsFor(id)).webhooks).toHaveLength(1);

  await clearAlerts(); // recovered (and the store emptied: only what comes now counts)
  await app.sweepLater();
  await app.sweepLater(); // a further sweep sends nothing more
  rec = (await ledgerRecord(id))!;
  expect(rec.status).toBe('sent');
  const after = await alertsFor(id, '(415) 555-0411');
  expect(after.sms).toHaveLength(2);
  expect(after.webhooks).toEqual([]);
  expect(await emailsFor(id)).toHaveLength(1);
  // The summary was kept for the retries: one OpenAI call for the lead.
  expect((await admin.requests()).filter((r: any) => r.path === '/v1/responses')).toHaveLength(1);
});

it.each([
  ['answers 500', { status: 500, times: 1 }, 'webhook:http_500'],
  ['times out', { delay_ms: 1500, times: 1 }, 'webhook:timeout'],
  ['redirects (never followed)', { status: 302, times: 1 }, 'webhook:redirect'],
])('a webhook receiver that %s: the email and texts go once; the retry carries the same webhook-id', async (_, fault, code) => {
  const app = await load();
  const phone = { 'webhook:http_500': '0412', 'webhook:timeout': '0413', 'webhook:redirect': '0414' }[code]!;
  const id = await conversation(`u-ch-hook-${code.replace(/\W/g, '')}`, BRAKES(phone));
  await admin.queueOutput(leadSummary());
  await alertsFault({ channel: 'webhook', ...fault });
  expect(await app.trigger(id, 'pagehide')).toEqual({ sent: true, reason: 'sent' });
  expect(await ledgerRecord(id)).toMatchObject({ status: 'error', last_error: code });
  await app.sweepLater();
  expect((await ledgerRecord(id))!.status).toBe('sent');
  const { sms, webhooks } = await alertsFor(id, `(415) 555-${phone}`);
  expect(sms).toHaveLength(2);
  expect(await emailsFor(id)).toHaveLength(1);
  const delivered = webhooks.filter((w) => w.status === 204);
  expect(delivered).toHaveLength(1);
  const ids = new Set(webhooks.map((w) => w.headers['webhook-id']));
  expect(ids.size).toBe(1); // the failed attempt (if the receiver saw it) and the retry: one message id
  expect(verified(delivered[0]!).data.thread_id).toBe(id);
});

it('channels for urgent leads only: a normal lead is email only; an urgent one texts, saying so', async () => {
  const app = await load({ LEAD_SMS_LEADS: 'urgent', LEAD_WEBHOOK_LEADS: 'urgent' });
  const calm = await conversation('u-ch-calm', 'Oil change next week, 415-555-0401');
  await admin.queueOutput(leadSummary());
  expect(await app.trigger(calm, 'close')).toEqual({ sent: true, reason: 'sent' });
  expect(await alertsFor(calm, '(415) 555-0401')).toEqual({ sms: [], webhooks: [] });
  expect((await ledgerRecord(calm))!.status).toBe('sent');

  const urgent = await conversation('u-ch-urgent', 'Stranded, will not start, need a tow. 415-555-0402');
  await admin.queueOutput(leadSummary({ urgency: 'urgent', customer_name: 'Sam Ortiz', project_summary: 'Will not start, needs a tow' }));
  expect(await app.trigger(urgent, 'auto')).toEqual({ sent: true, reason: 'sent' });
  const { sms, webhooks } = await alertsFor(urgent, '(415) 555-0402');
  expect(sms).toHaveLength(2);
  expect(sms[0]!.body).toMatch(
    /^URGENT (\(shop closed\) )?lead: Sam Ortiz\nWill not start, needs a tow \(2016 Toyota Tacoma\)\nCall \(415\) 555-0402$/,
  );
  expect(verified(webhooks[0]!).data).toMatchObject({ urgency: 'urgent' });
});

it('a name outside the GSM alphabet: the text is UCS-2 and still at most two segments', async () => {
  const app = await load();
  const id = await conversation('u-ch-ucs2', 'Zdravo, ovo je Đorđe. Kočnice škripe. 415-555-0403');
  const long = 'Kočnice škripe i auto vuče ulijevo pri kočenju, a ponekad se čuje i metalni zvuk sprijeda'.repeat(3);
  await admin.queueOutput(leadSummary({ customer_name: 'Đorđe Šćepanović 🚗', project_summary: long }));
  expect(await app.trigger(id, 'manual')).toEqual({ sent: true, reason: 'sent' });
  const [m] = (await alertsFor(id, '(415) 555-0403')).sms;
  expect(m!.encoding).toBe('UCS-2');
  expect(m!.segments).toBe(2);
  expect(smsLength(m!.body).segments).toBe(2);
  expect(m!.body).toMatch(/^New lead: Đorđe Šćepanović 🚗\nKočnice .*\.\.\. \(2016 Toyota Tacoma\)\nCall \(415\) 555-0403$/);
});

it('a webhook secret missing from the stage fails the webhook alone: the email and texts go out', async () => {
  const app = await load({ LEAD_WEBHOOK_SECRET: undefined });
  const id = await conversation('u-ch-nosecret', 'Brakes, call 415-555-0404');
  await admin.queueOutput(leadSummary());
  expect(await app.trigger(id, 'pagehide')).toEqual({ sent: true, reason: 'sent' });
  expect(await ledgerRecord(id)).toMatchObject({ status: 'error', last_error: 'webhook:secret_missing' });
  expect((await alertsFor(id, '(415) 555-0404')).sms).toHaveLength(2);
  expect(await emailsFor(id)).toHaveLength(1);
});
