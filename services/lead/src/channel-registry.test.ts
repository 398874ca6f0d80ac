import { CHANNELS, ChannelError, type ChannelModule } from '@lead-intake/alerts';
import {
  applyEnv,
  clearFollowUps,
  clearSes,
  emailsFor,
  emulator,
  lambdaContext,
  leadEnv,
  leadSummary,
  ledgerRecord,
  threads,
  useOwnLedgerTable,
} from '@lead-intake/testkit';

/**
 * A channel is one module in the registry (packages/alerts/src/channels): this one, a pager the
 * product does not ship, is registered beside the shipped ones and goes through what every lead
 * goes through: concurrent triggers, its own failures, the ledger's retries. Delivered exactly once.
 */
const admin = emulator();
useOwnLedgerTable('registry');

interface PagerSettings {
  to: string;
  leads: 'all' | 'urgent';
}
function pagerChannel(failFirst: number) {
  const pages: string[] = [];
  let calls = 0;
  const channel: ChannelModule<PagerSettings> = {
    name: 'pager',
    variables: ['LEAD_PAGER_TO'],
    settings: (env) => (env.LEAD_PAGER_TO ? { to: env.LEAD_PAGER_TO, leads: 'all' } : null),
    deliveries: (s, alert, ctx) => [
      {
        key: 'pager',
        send: async () => {
          calls++;
          if (calls <= failFirst) throw new ChannelError('pager', 'http_503');
          pages.push(`${s.to}:${alert.threadId}:${ctx.record.resendSeq}`);
          return `page-${calls}`;
        },
      },
    ],
  };
  return { channel, pages, calls: () => calls };
}

beforeEach(async () => {
  await admin.reset();
  await clearSes();
  await clearFollowUps();
});

it('a registered channel the product does not ship is delivered exactly once through triggers, its failures and retries', async () => {
  applyEnv(
    await leadEnv({
      LEAD_PAGER_TO: 'night-shift',
      LEAD_DEDUPE_LEASE_SECONDS: '5',
      LEAD_FUNCTION_TIMEOUT_SECONDS: '1',
      LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS: '1',
      LEAD_DEDUPE_MAX_ATTEMPTS: '8',
    }),
  );
  const pager = pagerChannel(2);
  // Loaded now: the module makes its own instance from the environment set above.
  const { LeadInstance } = await import('./instance');
  const instance = new LeadInstance(process.env, [...CHANNELS, pager.channel]);
  expect(instance.settings.channels.map((c) => c.channel.name)).toEqual(['pager']); // sms and webhook are off here
  const id = await threads.seedThread({
    user: 'u-pager',
    items: [
      { role: 'user', text: 'Check engine light is flashing, call 415-555-0640' },
      { role: 'assistant', text: 'We will call you.' },
    ],
  });
  await admin.queueOutput(leadSummary({ customer_name: 'Pat Pager' }));
  const secrets = { OPENAI_API_KEY: 'sk-test-lead' };
  const run = (reason: string) =>
    instance
      .ledger()
      .runHeld(id, reason, {}, async (lease) =>
        (await instance.pipeline()).run({ threadId: id, user: null, pageUrl: null, lease }, secrets, 20_000, { trigger: reason }),
      );
  // A burst of triggers: one holds the lease, the others are answered by the ledger (or recorded as pending).
  const first = await Promise.all(['auto', 'pagehide', 'close', 'pagehide'].map(run));
  expect(first.filter((o) => o.kind === 'processed')).toHaveLength(1);
  // The pager failed: the email went out, the record waits for a retry of the pager alone.
  expect(await ledgerRecord(id)).toMatchObject({ status: 'error', last_error: expect.stringMatching(/^pager:/) });
  // The sweeper's retries (after each cooldown) until it is settled; each retry sends only what is missing.
  const sweepOnce = () =>
    instance.ledger().sweep(async (lease) =>
      (await instance.pipeline()).run(
        { threadId: id, user: null, pageUrl: null, lease },
        secrets,
        lambdaContext(20_000).getRemainingTimeInMillis(),
        {
          trigger: lease.effectiveReason,
          source: 'sweeper',
        },
      ),
    );
  for (let round = 0; round < 20 && (await ledgerRecord(id))!.status !== 'sent'; round++) {
    await new Promise((r) => setTimeout(r, 1100));
    await sweepOnce();
  }
  expect((await ledgerRecord(id))!.status).toBe('sent');
  expect(pager.calls()).toBe(3); // two failures, then the one that went out
  expect(pager.pages).toEqual([`night-shift:${id}:0`]);
  expect(await emailsFor(id)).toHaveLength(1);
  // More triggers and sweeps change nothing: it is sent.
  expect((await run('close')).kind).toBe('busy');
  await sweepOnce();
  expect(pager.pages).toHaveLength(1);
  expect(await emailsFor(id)).toHaveLength(1);
}, 60_000);
