import OpenAI from 'openai';
import { assistantMessageItem, outputText, userMessageItem } from '@lead-intake/chatkit-protocol';
import { deliveriesOf, Ledger, LedgerUnavailableError, MemoryLedgerStore, type LeaseRef } from '@lead-intake/ledger';
import { loadShopProfile } from '@lead-intake/shop';
import { emulator, emulatorBaseURL } from '@lead-intake/testkit';
import { MemoryThreadStore, StoreTranscriptSource } from '@lead-intake/thread-store';
import { ChannelError } from '@lead-intake/alerts';
import { runLead, type LeadPorts } from './index';

/**
 * Steps 3-9 through their real parts (the in-memory thread store and ledger, the OpenAI emulator
 * over HTTP), with DynamoDB's failure injected at the ledger store: the `sent` write failing
 * after SES accepted the email.
 */
const admin = emulator();
beforeEach(() => admin.reset());

/** The in-memory ledger store, whose `sent` write fails the first `failures` times (DynamoDB down). */
class FlakySentStore extends MemoryLedgerStore {
  calls = 0;
  constructor(private failures: number) {
    super();
  }
  override async finishSent(lease: LeaseRef, messageId: string, now: number, ttl: number) {
    this.calls++;
    if (this.failures-- > 0) throw new LedgerUnavailableError(Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error' }));
    return super.finishSent(lease, messageId, now, ttl);
  }
}

async function setup(store: FlakySentStore, leaseSeconds: number) {
  const threads = new MemoryThreadStore();
  const threadId = threads.generateThreadId();
  await threads.saveThread(
    { id: threadId, title: null, created_at: new Date().toISOString(), status: { type: 'active' }, metadata: {} },
    'u1',
  );
  const at = new Date().toISOString();
  await threads.addThreadItem(
    threadId,
    userMessageItem({
      id: threads.generateItemId('message'),
      threadId,
      createdAt: at,
      content: [{ type: 'input_text', text: 'Brakes. Call 415-555-2671.' }],
    }),
  );
  await threads.addThreadItem(
    threadId,
    assistantMessageItem({ id: threads.generateItemId('message'), threadId, createdAt: at, content: [outputText('Will do.')] }),
  );
  const ledger = new Ledger(store, { leaseSeconds });
  const got = await ledger.acquire(threadId, 'close');
  if (got.kind !== 'acquired') throw new Error('setup');
  const sent: string[] = [];
  const recorded: boolean[] = [];
  const ports: LeadPorts = {
    source: new StoreTranscriptSource(threads),
    openai: new OpenAI({ apiKey: 'sk-test-lead', baseURL: emulatorBaseURL(), maxRetries: 0 }),
    profile: loadShopProfile(),
    model: 'gpt-test',
    ledger,
    send: async (email) => (sent.push(email.subject), `ses-${sent.length}`),
    hooks: { sent: (_id, ok) => recorded.push(ok) },
  };
  return { threadId, lease: got.lease, ports, sent, recorded };
}

it('a `sent` write that fails while DynamoDB blips is retried within the lease: one email, recorded `sent`', async () => {
  const store = new FlakySentStore(2);
  const { threadId, lease, ports, sent, recorded } = await setup(store, 60);
  expect(await runLead({ threadId, user: 'u1', pageUrl: null, lease }, ports)).toEqual({ sent: true, reason: 'sent' });
  expect(sent).toHaveLength(1);
  expect(store.calls).toBe(3);
  expect(recorded).toEqual([true]);
  expect(await store.get(threadId)).toMatchObject({ status: 'sent', message_id: 'ses-1' });
});

it('an outage that outlasts the lease gives up before the lease ends: the record stays `sending` (the documented window)', async () => {
  const store = new FlakySentStore(1000);
  const { threadId, lease, ports, sent, recorded } = await setup(store, 3);
  expect(await runLead({ threadId, user: 'u1', pageUrl: null, lease }, ports)).toEqual({ sent: true, reason: 'sent' });
  expect(Date.now()).toBeLessThan(lease.expiresAt * 1000); // stopped retrying before the lease ended
  expect(store.calls).toBeGreaterThan(1); // but did retry
  expect(sent).toHaveLength(1);
  expect(recorded).toEqual([false]);
  expect(await store.get(threadId)).toMatchObject({ status: 'sending' });
});

/** Records which deliveries were written on their own and which came with the `sent` write. */
class RecordingStore extends FlakySentStore {
  ownWrites: string[] = [];
  withSent: string[] = [];
  constructor() {
    super(0);
  }
  override async markDelivered(...args: Parameters<MemoryLedgerStore['markDelivered']>) {
    this.ownWrites.push(args[1]);
    return super.markDelivered(...args);
  }
  override async finishSent(...args: Parameters<MemoryLedgerStore['finishSent']>) {
    this.withSent.push(...Object.keys(args[4] ?? {}));
    return MemoryLedgerStore.prototype.finishSent.apply(this, args);
  }
}

const after = (ms: number, id: string) => () => new Promise<string>((r) => setTimeout(() => r(id), ms));

it('several deliveries: each recorded as it goes out, the last one out by the `sent` write itself', async () => {
  const store = new RecordingStore();
  const { threadId, lease, ports } = await setup(store, 60);
  // The email goes out first, then the webhook; the text is the last one out.
  ports.send = after(5, 'ses-1');
  ports.alerts = () => [
    { key: 'sms', channel: 'sms', send: after(120, 'sms-1') },
    { key: 'webhook', channel: 'webhook', send: after(40, 'wh-1') },
  ];
  expect(await runLead({ threadId, user: 'u1', pageUrl: null, lease }, ports)).toEqual({ sent: true, reason: 'sent' });
  expect(store.ownWrites).toEqual(['email', 'webhook']);
  expect(store.withSent).toEqual(['sms']);
  const rec = (await store.get(threadId))!;
  expect(rec).toMatchObject({ status: 'sent', message_id: 'ses-1' });
  expect(Object.fromEntries(Object.entries(deliveriesOf(rec)).map(([k, d]) => [k, d.id]))).toEqual({
    email: 'ses-1',
    webhook: 'wh-1',
    sms: 'sms-1',
  });
});

it('a delivery that fails: the others are recorded on their own (no `sent` write), so a retry sends only the missing one', async () => {
  const store = new RecordingStore();
  const { threadId, lease, ports } = await setup(store, 60);
  ports.send = after(60, 'ses-1'); // the last one out, after the failure
  ports.alerts = () => [
    { key: 'sms', channel: 'sms', send: after(30, 'sms-1') },
    { key: 'webhook', channel: 'webhook', send: () => Promise.reject(new ChannelError('webhook', 'http_503')) },
  ];
  expect(await runLead({ threadId, user: 'u1', pageUrl: null, lease }, ports)).toEqual({ sent: true, reason: 'sent' });
  expect(store.ownWrites.sort()).toEqual(['email', 'sms']);
  expect(store.withSent).toEqual([]);
  const rec = (await store.get(threadId))!;
  expect(rec.status).toBe('error');
  expect(Object.keys(deliveriesOf(rec)).sort()).toEqual(['email', 'sms']);
});

it('another delivery’s record never gets through: the last one out is recorded on its own (no `sent` write to carry it)', async () => {
  // The webhook's record fails until the lease is about to end (DynamoDB refusing that write).
  class WebhookRecordFails extends RecordingStore {
    override async markDelivered(...args: Parameters<MemoryLedgerStore['markDelivered']>) {
      if (args[1] === 'webhook') throw new LedgerUnavailableError(Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error' }));
      return super.markDelivered(...args);
    }
  }
  const store = new WebhookRecordFails();
  const { threadId, lease, ports, recorded } = await setup(store, 3);
  ports.send = after(60, 'ses-1'); // the last one out
  ports.alerts = () => [{ key: 'webhook', channel: 'webhook', send: after(5, 'wh-1') }];
  expect(await runLead({ threadId, user: 'u1', pageUrl: null, lease }, ports)).toEqual({ sent: true, reason: 'sent' });
  expect(store.ownWrites).toEqual(['email']);
  expect(store.withSent).toEqual([]);
  expect(recorded).toEqual([false]); // the lead is not settled: the documented window
  const rec = (await store.get(threadId))!;
  expect(rec.status).toBe('sending');
  expect(Object.keys(deliveriesOf(rec))).toEqual(['email']); // a later attempt sends the webhook only
});

/** The owner's inbox as the pipeline sees it: its record made after `ms`, or failing. */
const inboxAfter = (ms: number, fail = false): NonNullable<LeadPorts['inbox']> => ({
  record: () =>
    new Promise((resolve, reject) =>
      setTimeout(() => (fail ? reject(new ChannelError('inbox', 'unavailable')) : resolve('shop/thread')), ms),
    ),
  filtered: async () => undefined,
  link: () => null,
});

it('the inbox record (made again, it changes nothing) is never written on its own: the `sent` write carries it', async () => {
  const store = new RecordingStore();
  const { threadId, lease, ports } = await setup(store, 60);
  // The inbox record goes out first, then the text; the email is the last one out.
  ports.send = after(60, 'ses-1');
  ports.alerts = () => [{ key: 'sms', channel: 'sms', send: after(20, 'sms-1') }];
  ports.inbox = inboxAfter(1);
  expect(await runLead({ threadId, user: 'u1', pageUrl: null, lease }, ports)).toEqual({ sent: true, reason: 'sent' });
  expect(store.ownWrites).toEqual(['sms']);
  expect(store.withSent).toEqual(['email', 'inbox']);
  expect(Object.keys(deliveriesOf((await store.get(threadId))!)).sort()).toEqual(['email', 'inbox', 'sms']);
});

it('an inbox record that fails after the last one out: that one is recorded on its own, and only the inbox is made again', async () => {
  const store = new RecordingStore();
  const { threadId, lease, ports } = await setup(store, 60);
  ports.send = after(5, 'ses-1');
  ports.alerts = () => [{ key: 'sms', channel: 'sms', send: after(20, 'sms-1') }]; // the last one out of those that count
  ports.inbox = inboxAfter(80, true);
  expect(await runLead({ threadId, user: 'u1', pageUrl: null, lease }, ports)).toEqual({ sent: true, reason: 'sent' });
  expect(store.ownWrites).toEqual(['email', 'sms']);
  expect(store.withSent).toEqual([]);
  const rec = (await store.get(threadId))!;
  expect(rec.status).toBe('error');
  // A later attempt sends no second text and no second email.
  expect(Object.keys(deliveriesOf(rec)).sort()).toEqual(['email', 'sms']);
});
