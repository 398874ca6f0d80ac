import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { computeShopState, loadShopProfile } from '@lead-intake/shop';
import {
  alertsFor,
  clearAlerts,
  clearFollowUps,
  clearSes,
  documentClient,
  emailsFor,
  emulator,
  leadAuth,
  leadSummary,
  ledgerRecord,
  postJson,
  stackUrls,
  threads,
} from '@lead-intake/testkit';

/** Triage over the local stack: who gets no alert, what is urgent, and one alert per customer. */
const admin = emulator();
const CONTACTS = 'chatkit-lead-intake-lead-local-contacts';
const summary = (over: Record<string, unknown> = {}) =>
  leadSummary({ customer_name: 'Sam Ortiz', project_summary: 'Car will not start', ...over });
const trigger = async (id: string, reason: string) => (await postJson(stackUrls().lead, { threadId: id, reason }, leadAuth(id))).body;
const conversation = (user: string, text: string) =>
  threads.seedThread({
    user,
    items: [
      { role: 'user', text },
      { role: 'assistant', text: 'Thanks, noted.' },
    ],
  });

beforeEach(async () => {
  await admin.reset();
  await clearSes();
  await clearFollowUps();
  await clearAlerts();
});

it('spam, tests, vendors and job seekers send no alert whatever the trigger; the ledger records what they were', async () => {
  const kinds = ['spam', 'test', 'vendor', 'job_seeker'] as const;
  for (const [n, kind] of kinds.entries()) {
    const id = await conversation(`u-triage-${kind}`, `We sell SEO packages, call 415-555-02${10 + n}`);
    await admin.queueOutput(summary({ lead_kind: kind }));
    expect(await trigger(id, 'pagehide')).toEqual({ sent: false, reason: 'not_customer' });
    expect(await emailsFor(id)).toEqual([]);
    expect(await alertsFor(id, `(415) 555-02${10 + n}`)).toEqual({ sms: [], webhooks: [] }); // no text, no webhook either
    expect(await ledgerRecord(id)).toMatchObject({ status: 'idle', lead_kind: kind });
  }
  // A conversation that turns into a real request is evaluated again (a new transcript state) and goes out.
  const id = await conversation('u-triage-turned', 'Is this a test? call 415-555-0299');
  await admin.queueOutput(summary({ lead_kind: 'test' }));
  expect(await trigger(id, 'manual')).toEqual({ sent: false, reason: 'not_customer' });
  await threads.appendItems(id, [{ role: 'user', text: 'Actually my car will not start, please call.' }]);
  await admin.queueOutput(summary());
  expect(await trigger(id, 'manual')).toEqual({ sent: true, reason: 'sent' });
  expect((await ledgerRecord(id))!.lead_kind).toBeUndefined();
});

it('an urgent lead goes out on `auto` though not handoff-ready, and its subject says so (and that the shop is closed)', async () => {
  const calm = await conversation('u-triage-calm', 'Oil change sometime, 415-555-0301');
  await admin.queueOutput(summary({ handoff_ready: false }));
  expect(await trigger(calm, 'auto')).toEqual({ sent: false, reason: 'not_ready' });

  const id = await conversation('u-triage-urgent', 'I am stranded on the 101, car will not start, need a tow. 415-555-0302');
  await admin.queueOutput(summary({ handoff_ready: false, urgency: 'urgent' }));
  const closed = !computeShopState(new Date(), loadShopProfile()).shop_is_open_now;
  expect(await trigger(id, 'auto')).toEqual({ sent: true, reason: 'sent' });
  const [mail] = await emailsFor(id);
  expect(mail!.subject).toBe(`URGENT${closed ? ' (shop closed)' : ''}: New lead: Sam Ortiz - Car will not start`);
  expect(mail!.body.text).toContain(`!! Urgent: the customer says the car is unsafe or will not drive`);
  expect(mail!.body.text!.includes('The shop is closed now.')).toBe(closed);
  // The text says it too (the local stage texts every lead).
  const [text] = (await alertsFor(id, '(415) 555-0302')).sms;
  expect(text!.body.split('\n')[0]).toBe(`URGENT${closed ? ' (shop closed)' : ''} lead: Sam Ortiz`);
});

it('one alert per customer: the same phone within the window is a follow-up naming the earlier lead; keys hold no contact', async () => {
  const first = await conversation('u-triage-repeat-1', 'Brakes grinding, call 415-555-0377');
  await admin.queueOutput(summary());
  expect(await trigger(first, 'close')).toEqual({ sent: true, reason: 'sent' });
  expect((await emailsFor(first))[0]!.subject).toMatch(/^New lead: /);

  // The same customer comes back in a new conversation, writing the number another way.
  await clearAlerts(); // the first lead's text has the same callback number
  const again = await conversation('u-triage-repeat-2', 'Me again about the brakes, (415) 555 0377');
  await admin.queueOutput(summary());
  expect(await trigger(again, 'close')).toEqual({ sent: true, reason: 'sent' });
  const [mail] = await emailsFor(again);
  expect(mail!.subject).toBe('Follow-up: Lead: Sam Ortiz - Car will not start');
  expect(mail!.body.text).toContain(`Follow-up: the same customer's earlier lead ${first} went out`);
  expect((await alertsFor(again, '(415) 555-0377')).sms.map((m) => m.body.split('\n')[0])).toEqual(['Follow-up lead: Sam Ortiz']);
  const hook = JSON.parse((await alertsFor(again)).webhooks[0]!.body);
  expect(hook.data.follow_up).toEqual({ thread_id: first, sent_at: expect.stringMatching(/^2\d{3}-/) });

  const other = await conversation('u-triage-repeat-3', 'Different person, 415-555-0388');
  await admin.queueOutput(summary());
  await trigger(other, 'close');
  expect((await emailsFor(other))[0]!.subject).toMatch(/^New lead: /);

  // The index keys are HMACs: no phone number in any form is stored.
  const rows = JSON.stringify((await documentClient().send(new ScanCommand({ TableName: CONTACTS }))).Items);
  for (const form of ['4155550377', '+14155550377', '555-0377', '555 0377']) expect(rows).not.toContain(form);
});
