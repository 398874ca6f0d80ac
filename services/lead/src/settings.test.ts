import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHANNELS } from '@lead-intake/alerts';
import { ConfigError } from '@lead-intake/config';
import { readSettings } from './settings';

/** The lead functions' settings: one list, parsed once, every bad value refused with its variable's name. */
const base = { LEAD_DEDUPE_TABLE_NAME: 'ledger', CHAT_THREADS_TABLE_NAME: 'threads' };

it('reads the owner channels from the registry: each on when its variables are set, checked by its own rule', () => {
  const s = readSettings({
    ...base,
    LEAD_SMS_TO: '+14155550100,+14155550111',
    LEAD_SMS_ORIGINATION_IDENTITY: 'arn:aws:sms-voice:us-west-2:123456789012:phone-number/p',
    LEAD_WEBHOOK_URL: 'https://hooks.example.com/lead',
    LEAD_WEBHOOK_LEADS: 'urgent',
  });
  expect(s.channels.map((c) => [c.channel.name, c.settings.leads])).toEqual([
    ['sms', 'all'],
    ['webhook', 'urgent'],
  ]);
});

it('has a default for everything a deploy may leave out', () => {
  const s = readSettings(base);
  expect(s).toMatchObject({
    chatkitMode: 'self-hosted',
    chatThreadsTable: 'threads',
    email: { to: ['victor@craigs.autos'], from: 'victor@craigs.autos' },
    ledger: { tableName: 'ledger', leaseSeconds: 90 },
    functionTimeoutSeconds: 30,
    idleSeconds: 600,
    spoolQueue: null,
    summaryBudget: { table: null, perDay: 500 },
    sweeper: { batch: 10, parallel: 5, reserveMs: 32000 },
    scheduler: { maxActivityAgeSeconds: 86400, parallel: 25 },
    channels: [],
  });
  // Hosted (legacy) mode needs no thread table.
  expect(readSettings({ LEAD_DEDUPE_TABLE_NAME: 'l', CHATKIT_MODE: 'hosted' }).chatThreadsTable).toBeNull();
});

it.each([
  ['LEAD_DEDUPE_TABLE_NAME', undefined],
  ['CHAT_THREADS_TABLE_NAME', undefined],
  ['CHATKIT_MODE', 'agent-builder'],
  ['LEAD_TO_EMAIL', 'owner at shop'],
  ['LEAD_SWEEP_PARALLEL', '0'],
  ['LEAD_DAILY_SUMMARIES', 'many'],
  ['LEAD_IDLE_SECONDS', '1.5'],
  ['LEAD_SPOOL_QUEUE_NAME', 'https://sqs.example/queue'],
  ['LEAD_SMS_TO', '415-555-0100'],
  ['LEAD_WEBHOOK_URL', 'http://hooks.example.com/lead'],
  ['LEAD_SMS_ORIGINATION_IDENTITY', 'arn:aws:sns:us-west-2:123456789012:topic'],
  ['LEAD_DEDUPE_LEASE_SECONDS', '20'],
])('refuses %s=%s with a ConfigError naming it', (name, value) => {
  // The origination identity is read when texts are on (a phone to text).
  const on = name === 'LEAD_SMS_ORIGINATION_IDENTITY' ? { LEAD_SMS_TO: '+14155550100' } : {};
  const env: Record<string, string | undefined> = { ...base, ...on, [name]: value };
  let error: unknown;
  try {
    readSettings(env);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).variable).toContain(name === 'LEAD_TO_EMAIL' ? 'LEAD_TO_EMAIL' : name);
});

it('is the one place the lead functions read their environment, and reads every LEAD_ variable the deploy sets', () => {
  const dir = __dirname;
  const readers = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'settings.ts')
    .filter((f) =>
      /process\.env\b(?!\))/.test(
        readFileSync(join(dir, f), 'utf8').replace(/env: Record<string, string \| undefined> = process\.env/g, ''),
      ),
    );
  expect(readers).toEqual([]);
  // This file, the ledger's own settings, and each registered channel's (packages/alerts/src/channels).
  const source =
    readFileSync(join(dir, 'settings.ts'), 'utf8') +
    readFileSync(require.resolve('@lead-intake/ledger/src/config.ts'), 'utf8') +
    CHANNELS.flatMap((c) => [...c.variables, ...(c.secrets ?? [])].map((v) => `'${v}'`)).join(' ');
  const deployed = [...readFileSync(join(dir, '../serverless.yml'), 'utf8').matchAll(/^\s+(LEAD_[A-Z_]+):/gm)].map((m) => m[1]!);
  expect(deployed.length).toBeGreaterThan(10);
  expect(deployed.filter((v) => !source.includes(`'${v}'`) && !source.includes(`.${v}`))).toEqual([]);
});
