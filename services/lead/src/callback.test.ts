import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { smsDeliveryKey } from '@lead-intake/alerts';
import { DynamoLedgerStore, Ledger, requestKey } from '@lead-intake/ledger';
import {
  alertsEnv,
  alertsFor,
  applyEnv,
  CHAT_THREADS_TABLE,
  chatRequest,
  chatToken,
  clearAlerts,
  clearFollowUps,
  clearSes,
  dynamoClient,
  emailsFor,
  emulator,
  lambdaContext,
  leadEnv,
  leadSummary,
  ledgerRecord,
  ledgerTableName,
  useOwnLedgerTable,
} from '@lead-intake/testkit';
import { validateLeadDocument } from './webhook-schema';

/**
 * The lead a callback makes (issue 29 §3): the customer sends the chat's callback form (over HTTP
 * to the local stack's chat), the recorded request reaches the scheduler as the thread table's
 * stream delivers it, and the lead goes out at once on every channel: the form's phone first, the
 * request said first in the email's subject and the owner's text, the webhook's callback fields.
 */
useOwnLedgerTable('callback');
const admin = emulator();
const text = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });
const validate = validateLeadDocument;

beforeEach(async () => {
  await admin.reset();
  await clearSes();
  await clearAlerts();
  await clearFollowUps();
});
afterAll(() => admin.reset());

async function loadScheduler() {
  return (await loadLead()).scheduler;
}

/** The scheduler and the sweeper in-process, on one configuration (a 1 s error cooldown: a waiting update is due soon). */
async function loadLead() {
  applyEnv(
    await leadEnv({
      ...alertsEnv(),
      LEAD_DEDUPE_LEASE_SECONDS: '20',
      LEAD_FUNCTION_TIMEOUT_SECONDS: '10',
      LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS: '1',
    }),
  );
  let scheduler: any;
  let sweeper: any;
  jest.isolateModules(() => {
    scheduler = require('./scheduler').handler;
    sweeper = require('./sweeper').handler;
  });
  return {
    scheduler: (event: DynamoDBStreamEvent) => scheduler(event, lambdaContext(30_000)),
    sweep: () => sweeper({ 'detail-type': 'Scheduled Event', source: 'aws.events' }, lambdaContext(60_000)),
  };
}

/** The stream records of the chat's recorded requests (hidden items) among these. */
const requestsOf = (e: DynamoDBStreamEvent) =>
  ({ Records: e.Records.filter((r) => (r.dynamodb!.NewImage as any).data.S.includes('"hidden_context_item"')) }) as DynamoDBStreamEvent;

/** The thread's item rows (except those already seen, by sk), as the table's stream delivers inserts (NEW_IMAGE). */
async function streamOf(threadId: string, seen: Set<string> = new Set()): Promise<DynamoDBStreamEvent> {
  const out = await dynamoClient().send(
    new QueryCommand({
      TableName: CHAT_THREADS_TABLE,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :itm)',
      ExpressionAttributeValues: { ':pk': { S: `THREAD#${threadId}` }, ':itm': { S: 'ITM#' } },
      ConsistentRead: true,
    }),
  );
  const rows = (out.Items ?? []).filter((r) => !seen.has(r.sk!.S!));
  return {
    Records: rows.map((row, n) => ({
      eventName: 'INSERT',
      eventSource: 'aws:dynamodb',
      dynamodb: { Keys: { pk: row.pk!, sk: row.sk! }, NewImage: row as any, SequenceNumber: String(1000 + n), StreamViewType: 'NEW_IMAGE' },
    })),
  } as DynamoDBStreamEvent;
}

async function formTurn(user: string) {
  const token = await chatToken(user);
  await admin.queueFunctionCall('show_callback_form');
  await admin.queue({ text: 'Here is a form to request a call.' });
  const r = await chatRequest({ type: 'threads.create', params: { input: text('My check engine light is on') } }, { token });
  const threadId = r.events[0].thread.id as string;
  const form = r.events.find((e: any) => e.type === 'thread.item.done' && e.item.type === 'widget').item;
  const bestTime = (form.widget.children[0].children as any[]).find((c) => c.name === 'best_time').options[1];
  return { token, threadId, form, bestTime };
}

it('sends the lead at once on every channel, the form’s phone first and the request said first', async () => {
  const { token, threadId, form, bestTime } = await formTurn('callback-lead');
  const scheduler = await loadScheduler();
  // The first turn (no contact yet): evaluated, nothing to send.
  await scheduler(await streamOf(threadId));
  expect(await emailsFor(threadId)).toHaveLength(0);
  const before = new Set((await streamOf(threadId)).Records.map((r) => r.dynamodb!.Keys!.sk!.S!));
  // The summary says "not handoff-ready": a callback request sends all the same.
  await admin.queue({ text: 'Thanks, the shop will call you.' });
  await admin.queueOutput(leadSummary({ customer_name: 'Ana Lopez', handoff_ready: false }), 2);
  const payload = { name: 'Ana Lopez', phone: '408 555 0142', best_time: bestTime.value, text_ok: true };
  const submitted = await chatRequest(
    { type: 'threads.custom_action', params: { thread_id: threadId, item_id: form.id, action: { type: 'callback.submit', payload } } },
    { token },
  );
  expect(submitted.status).toBe(200);
  // Only the request's record (and the acknowledgement) arrive on the stream; the request alone triggers the lead.
  const records = await streamOf(threadId, before);
  const requestOnly = { Records: records.Records.filter((r) => (r.dynamodb!.NewImage as any).data.S.includes('"hidden_context_item"')) };
  expect(requestOnly.Records).toHaveLength(1);
  await scheduler(requestOnly as DynamoDBStreamEvent);

  const emails = await emailsFor(threadId);
  expect(emails).toHaveLength(1);
  expect(emails[0]!.subject).toBe(`Callback requested: ${bestTime.label}: Ana Lopez - Check engine light on`);
  expect(emails[0]!.body.text).toContain('Phone: (408) 555-0142  tel:+14085550142  sms:+14085550142  (callback form)');
  expect(emails[0]!.body.text).toContain('Callback requested (form): name Ana Lopez, phone +14085550142');
  const alerts = await alertsFor(threadId, '(408) 555-0142');
  // One text per owner phone (the test's stage has two), each saying the request first on its last line.
  const owners = alertsEnv().LEAD_SMS_TO!.split(',');
  expect(alerts.sms.map((m) => m.to).sort()).toEqual([...owners].sort());
  for (const m of alerts.sms) expect(m.body.split('\n').at(-1)).toBe(`Callback requested: ${bestTime.label}. Call (408) 555-0142`);
  expect(alerts.webhooks).toHaveLength(1);
  const doc = JSON.parse(alerts.webhooks[0]!.body);
  expect(validate(doc)).toBe(true);
  expect(doc.data.callback_request).toEqual({ phone: '+14085550142', name: 'Ana Lopez', best_time: bestTime.label, text_ok: true });
  expect(doc.data.contacts.phones[0]).toBe('+14085550142');
  // The lead carried the request: recorded with it, and its update owes nothing.
  const requestId = JSON.parse((requestOnly.Records[0]!.dynamodb!.NewImage as any).data.S).id as string;
  expect(await ledgerRecord(threadId)).toMatchObject({ status: 'sent', requests: [requestId] });
  expect((await ledgerRecord(requestKey(threadId, requestId)))?.status).toBe('idle');

  // The acknowledgement's stream records, and any later trigger, find it sent: one lead.
  await scheduler(await streamOf(threadId, before));
  expect(await emailsFor(threadId)).toHaveLength(1);
  expect((await alertsFor(threadId, '(408) 555-0142')).sms).toHaveLength(owners.length);
});

it('a picked drop-off time sends the lead too, with the time in the subject and the webhook', async () => {
  const token = await chatToken('callback-visit');
  await admin.queueFunctionCall('offer_visit_times');
  await admin.queue({ text: 'Pick a time.' });
  const r = await chatRequest({ type: 'threads.create', params: { input: text('Can I drop off my car? Call 408-555-0143') } }, { token });
  const threadId = r.events[0].thread.id as string;
  const list = r.events.find((e: any) => e.type === 'thread.item.done' && e.item.type === 'widget').item;
  const slot = list.widget.children[1];
  await admin.queue({ text: 'Noted.' });
  await admin.queueOutput(leadSummary({ customer_name: 'Sam Ortiz', handoff_ready: false }), 2);
  await chatRequest(
    {
      type: 'threads.custom_action',
      params: { thread_id: threadId, item_id: list.id, action: { type: 'visit.pick', payload: slot.onClickAction.payload } },
    },
    { token },
  );
  const scheduler = await loadScheduler();
  const events = await streamOf(threadId);
  await scheduler({ Records: events.Records.filter((x) => (x.dynamodb!.NewImage as any).data.S.includes('"visit_request"')) } as any);
  const emails = await emailsFor(threadId);
  expect(emails).toHaveLength(1);
  expect(emails[0]!.subject).toBe(`Preferred drop-off: ${slot.children[0].value}: Sam Ortiz - Check engine light on`);
  const doc = JSON.parse((await alertsFor(threadId)).webhooks[0]!.body);
  expect(validate(doc)).toBe(true);
  expect(doc.data.drop_off_request).toEqual({ time: slot.onClickAction.payload.time, label: slot.children[0].value });
  expect(doc.data.callback_request).toBeNull();
});

/** A conversation whose lead already went out (a typed phone, handoff-ready), then the callback form in a later turn. */
async function leadThenForm(user: string, scheduler: (e: DynamoDBStreamEvent) => Promise<unknown>) {
  const token = await chatToken(user);
  await admin.queue({ text: 'Thanks, we will call you.' });
  await admin.queueOutput(leadSummary({ customer_name: 'Ana Lopez', handoff_ready: true }));
  const r = await chatRequest({ type: 'threads.create', params: { input: text('Brakes squeal, call me at 408-555-0143') } }, { token });
  const threadId = r.events[0].thread.id as string;
  await scheduler(await streamOf(threadId));
  const seen = new Set((await streamOf(threadId)).Records.map((x) => x.dynamodb!.Keys!.sk!.S!));
  await admin.queueFunctionCall('show_callback_form');
  await admin.queue({ text: 'Or pick a time for a call.' });
  const turn = await chatRequest(
    { type: 'threads.add_user_message', params: { thread_id: threadId, input: text('Actually call my other number') } },
    { token },
  );
  const form = turn.events.find((e: any) => e.type === 'thread.item.done' && e.item.type === 'widget').item;
  const bestTime = (form.widget.children[0].children as any[]).find((c) => c.name === 'best_time').options[0];
  await admin.queue({ text: 'Got it.' });
  const submitted = await chatRequest(
    {
      type: 'threads.custom_action',
      params: {
        thread_id: threadId,
        item_id: form.id,
        action: {
          type: 'callback.submit',
          payload: { name: 'Ana Lopez', phone: '408 555 0142', best_time: bestTime.value, text_ok: false },
        },
      },
    },
    { token },
  );
  expect(submitted.status).toBe(200);
  const request = requestsOf(await streamOf(threadId, seen));
  expect(request.Records).toHaveLength(1);
  const requestId = JSON.parse((request.Records[0]!.dynamodb!.NewImage as any).data.S).id as string;
  return { threadId, bestTime, request, requestId };
}

it('a callback after the lead went out sends one update (the email and the texts, not the webhook), never a second lead', async () => {
  const scheduler = await loadScheduler();
  const owners = alertsEnv().LEAD_SMS_TO!.split(',');
  const { threadId, bestTime, request, requestId } = await leadThenForm('callback-update', scheduler);
  expect(await emailsFor(threadId)).toHaveLength(1);
  expect((await alertsFor(threadId, '(408) 555-0143')).sms).toHaveLength(owners.length);
  const lead = await ledgerRecord(threadId);

  await scheduler(request);
  const emails = await emailsFor(threadId);
  expect(emails).toHaveLength(2);
  const update = emails.find((m) => m.subject.startsWith('Callback requested'))!;
  expect(update.subject).toMatch(new RegExp(`^Callback requested: ${bestTime.label}: Ana Lopez - update to the lead of `));
  expect(update.body.text).toContain('Update to a lead for');
  expect(update.body.text).toContain('Phone: (408) 555-0142  tel:+14085550142  sms:+14085550142  (callback form)');
  expect(update.body.text).toContain('not a new lead');
  // What was said since the lead (to the second: here, all of it), under its own heading.
  expect(update.body.text).toContain('SINCE THE LEAD');
  const texts = (await alertsFor(threadId, '(408) 555-0142')).sms;
  expect(texts.map((m) => m.to).sort()).toEqual([...owners].sort());
  for (const m of texts) {
    expect(m.body).toMatch(/^Update to the lead of .+: Ana Lopez\n/);
    expect(m.body).toContain(`Callback requested: ${bestTime.label}\nCall (408) 555-0142`);
  }
  // The webhook carries leads only (a receiver would take an update for a new lead).
  expect((await alertsFor(threadId)).webhooks).toHaveLength(1);
  // The lead's record is as it was; the update has its own.
  expect(await ledgerRecord(threadId)).toEqual(lead);
  expect((await ledgerRecord(requestKey(threadId, requestId)))?.status).toBe('sent');

  // The request's record delivered again (a stream retry), and the chat's later records: nothing more.
  await scheduler(request);
  await scheduler(await streamOf(threadId));
  expect(await emailsFor(threadId)).toHaveLength(2);
  expect((await alertsFor(threadId, '(408) 555-0142')).sms).toHaveLength(owners.length);
});

it('a callback while the lead is being sent from an earlier read: the update waits for it, then goes out once', async () => {
  const { scheduler, sweep } = await loadLead();
  const owners = alertsEnv().LEAD_SMS_TO!.split(',');
  const ledger = new Ledger(new DynamoLedgerStore({ tableName: await ledgerTableName(), client: dynamoClient() }), { leaseSeconds: 20 });
  // The conversation's lead is not out yet: another holder has it (it read the thread before the request).
  const token = await chatToken('callback-race');
  await admin.queueFunctionCall('show_callback_form');
  await admin.queue({ text: 'Here is a form.' });
  const r = await chatRequest({ type: 'threads.create', params: { input: text('Call me, my car will not start') } }, { token });
  const threadId = r.events[0].thread.id as string;
  const form = r.events.find((e: any) => e.type === 'thread.item.done' && e.item.type === 'widget').item;
  const got = await ledger.acquire(threadId, 'pagehide');
  if (got.kind !== 'acquired') throw new Error(`expected the lease, got ${got.kind}`);
  await admin.queue({ text: 'Thanks.' });
  const payload = { name: 'Ana Lopez', phone: '408 555 0142', best_time: '', text_ok: true };
  await chatRequest(
    { type: 'threads.custom_action', params: { thread_id: threadId, item_id: form.id, action: { type: 'callback.submit', payload } } },
    { token },
  );
  const request = requestsOf(await streamOf(threadId));
  const requestId = JSON.parse((request.Records[0]!.dynamodb!.NewImage as any).data.S).id as string;
  await scheduler(request);
  // The lead cannot say yet whether it carries the request: the update waits (an error with a cooldown, for the sweeper).
  expect(await emailsFor(threadId)).toHaveLength(0);
  const waiting = await ledgerRecord(requestKey(threadId, requestId));
  expect(waiting).toMatchObject({ status: 'error', last_error: 'request:lead_pending' });
  // The holder's lead goes out without the request (its transcript was read before it), texted to every owner.
  expect(await ledger.markSent(got.lease, 'earlier-lead', Object.fromEntries(owners.map((o) => [smsDeliveryKey(o), 'sms-id'])))).toBe(true);
  expect((await ledgerRecord(threadId))?.requests).toBeUndefined();

  // The sweeper takes the update once its cooldown ends: one email, one text per phone the lead was texted to.
  const deadline = Date.now() + 20_000;
  while ((await emailsFor(threadId)).length === 0 && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 300));
    await sweep();
  }
  const emails = await emailsFor(threadId);
  expect(emails).toHaveLength(1);
  expect(emails[0]!.subject).toMatch(/^Callback requested: as soon as possible: Ana Lopez - update to the lead of /);
  expect((await alertsFor(threadId, '(408) 555-0142')).sms).toHaveLength(owners.length);
  expect((await alertsFor(threadId)).webhooks).toHaveLength(0);
  await sweep();
  await scheduler(request);
  expect(await emailsFor(threadId)).toHaveLength(1);
  expect((await ledgerRecord(requestKey(threadId, requestId)))?.status).toBe('sent');
});
