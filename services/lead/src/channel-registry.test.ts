import { CHANNELS, ChannelError, channelsFromStage, type ChannelModule } from '@lead-intake/alerts';
import { ConfigError } from '@lead-intake/config';
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
    // stages.config.json `alerts.pager: {"to": "pager:<id>"}` at package time; the same rule at cold start.
    stageVariables: (entry) => ({ LEAD_PAGER_TO: String(entry.to ?? '') }),
    settings: (env) => {
      if (!env.LEAD_PAGER_TO) return null;
      if (!/^pager:\d+$/.test(env.LEAD_PAGER_TO)) throw new ConfigError('LEAD_PAGER_TO', 'LEAD_PAGER_TO must be pager:<digits>');
      return { to: env.LEAD_PAGER_TO, leads: 'all' };
    },
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
  const pager = pagerChannel(2);
  const channels = [...CHANNELS, pager.channel];
  // Its stage settings: stages.config.json `alerts` as the deploy resolves it, with the channel's own rule.
  const stage = { name: 'prod', deployed: true };
  expect(() => channelsFromStage({ pager: { to: 'night-shift' } }, stage, channels)).toThrow(
    "alerts for stage 'prod': pager: LEAD_PAGER_TO must be pager:<digits>",
  );
  const { env } = channelsFromStage({ pager: { to: 'pager:42' } }, stage, channels);
  expect(env).toMatchObject({ LEAD_PAGER_TO: 'pager:42', LEAD_SMS_TO: '', LEAD_WEBHOOK_URL: '' });
  applyEnv(
    await leadEnv({
      LEAD_PAGER_TO: env.LEAD_PAGER_TO,
      LEAD_DEDUPE_LEASE_SECONDS: '5',
      LEAD_FUNCTION_TIMEOUT_SECONDS: '1',
      LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS: '1',
      LEAD_DEDUPE_MAX_ATTEMPTS: '8',
    }),
  );
  // Loaded now: the module makes its own instance from the environment set above.
  const { LeadInstance } = await import('./instance');
  const instance = new LeadInstance(process.env, channels);
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
  expect(pager.pages).toEqual([`pager:42:${id}:0`]);
  expect(await emailsFor(id)).toHaveLength(1);
  // More triggers and sweeps change nothing: it is sent.
  expect((await run('close')).kind).toBe('busy');
  await sweepOnce();
  expect(pager.pages).toHaveLength(1);
  expect(await emailsFor(id)).toHaveLength(1);
}, 60_000);
