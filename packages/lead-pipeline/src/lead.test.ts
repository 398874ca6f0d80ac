import OpenAI from 'openai';
import { assistantMessageItem, outputText, userMessageItem } from '@lead-intake/chatkit-protocol';
import { Ledger, LedgerUnavailableError, MemoryLedgerStore, type LeaseRef } from '@lead-intake/ledger';
import { loadShopProfile } from '@lead-intake/shop';
import { emulator, emulatorBaseURL } from '@lead-intake/testkit';
import { MemoryThreadStore, StoreTranscriptSource } from '@lead-intake/thread-store';
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
