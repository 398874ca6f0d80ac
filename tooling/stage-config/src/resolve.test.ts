import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuredChannels } from '@lead-intake/alerts';
import { resolveStage } from './index';

/** The stage rules that make a deploy refuse settings that would not tell the truth. */
function config(stages: Record<string, unknown>, defaults: Record<string, unknown> = {}) {
  const file = join(mkdtempSync(join(tmpdir(), 'stages-')), 'stages.config.json');
  const base = {
    allowedOrigins: ['https://craigs.autos'],
    alarmEmail: 'owner@craigs.autos',
    chatkitMode: 'self-hosted',
    chatTurnsPerMinute: 10,
    newUsersPerSourceIpPerHour: 20,
    chatDailyModelCalls: 2000,
    leadDailySummaries: 500,
    chatNetworkDailySharePercent: 10,
    chatNetworkHourlySharePercent: 3,
    chatRetentionDays: 365,
    leadIdleSeconds: 600,
    followUpHours: 24,
    attachments: { maxBytes: 10485760, maxPerMessage: 4, types: ['image/jpeg'], linkDays: 90 },
  };
  writeFileSync(file, JSON.stringify({ defaults: { ...base, ...defaults }, stages: { prod: {}, ...stages } }));
  return file;
}

it('the repository’s stages: prod is https only with an alarm subscriber; local adds the local origin', () => {
  const prod = resolveStage('prod');
  expect(prod.allowedOrigins.every((o) => o.startsWith('https://'))).toBe(true);
  expect(prod.alarmSubscriptionEmail).toMatch(/@/);
  expect(resolveStage('local').allowedOrigins).toEqual([...prod.allowedOrigins, 'http://localhost:4321']);
});

it('refuses a stage the file does not list, naming the ones it does (it would get prod’s settings)', () => {
  expect(() => resolveStage('dev')).toThrow(/stage 'dev' is not in stages.config.json \(known stages: prod, staging, local, bench\)/);
  expect(() => resolveStage('prdo', config({}))).toThrow(/known stages: prod\)/);
  expect(resolveStage('staging').stage).toBe('staging');
});

it('refuses a deployed stage whose origins are plain http or local', () => {
  for (const o of ['http://craigs.autos', 'http://localhost:4321', 'https://localhost:4321', 'https://127.0.0.1:8443']) {
    expect(() => resolveStage('prod', config({ prod: { allowedOrigins: ['https://craigs.autos', o] } }))).toThrow(
      /must be https and not local/,
    );
  }
  expect(() => resolveStage('prod', config({ prod: { localOrigins: ['http://localhost:4321'] } }))).toThrow(/local stages only/);
  // A local stage (secrets from the environment) may add them.
  expect(
    resolveStage('dev', config({ dev: { secretsFromEnvironment: true, localOrigins: ['http://localhost:3000'] } })).allowedOrigins,
  ).toEqual(['https://craigs.autos', 'http://localhost:3000']);
});

it('refuses a deployed stage without an address for its alarms, unless it opts out with "none"', () => {
  for (const alarmEmail of ['', 'not an address']) {
    expect(() => resolveStage('prod', config({ prod: { alarmEmail } }))).toThrow(/alarmEmail for the deployed stage 'prod'/);
  }
  // No alarmEmail at all (JSON leaves the undefined key out).
  expect(() => resolveStage('prod', config({}, { alarmEmail: undefined }))).toThrow(/alarmEmail for the deployed stage 'prod'/);
  expect(resolveStage('prod', config({ prod: { alarmEmail: 'none' } })).alarmSubscriptionEmail).toBe('');
  expect(resolveStage('prod', config({})).alarmSubscriptionEmail).toBe('owner@craigs.autos');
  expect(resolveStage('dev', config({ dev: { secretsFromEnvironment: true, alarmEmail: '' } })).alarmSubscriptionEmail).toBe('');
});

it('takes the idle window of server-scheduled leads as whole seconds, at most a day', () => {
  expect(resolveStage('prod').leadIdleSeconds).toBe(600);
  expect(resolveStage('local').leadIdleSeconds).toBeLessThanOrEqual(10); // tests and the bench wait for it
  for (const bad of [0, 1.5, '600', 86401])
    expect(() => resolveStage('prod', config({ prod: { leadIdleSeconds: bad } }))).toThrow(
      /leadIdleSeconds for stage 'prod' must be an integer/,
    );
});

it('gives the sweeper its schedule’s interval, and refuses a schedule that is not a rate it can know', () => {
  expect(resolveStage('prod').leadFunctionEnv).toMatchObject({ LEAD_SWEEP_INTERVAL_SECONDS: '60' });
  expect(resolveStage('prod', config({ prod: { sweeperSchedule: 'rate(5 minutes)' } })).leadFunctionEnv).toMatchObject({
    LEAD_SWEEP_INTERVAL_SECONDS: '300',
  });
  for (const bad of ['cron(0/5 * * * ? *)', 'rate(30 seconds)', 'rate(2 hours)', 'rate(0 minutes)'])
    expect(() => resolveStage('prod', config({ prod: { sweeperSchedule: bad } }))).toThrow(
      /sweeperSchedule for stage 'prod' must be a rate/,
    );
});

it('takes attachment limits the server and the signature can enforce', () => {
  expect(resolveStage('prod').attachments).toMatchObject({ maxBytes: 10 * 1024 * 1024, maxPerMessage: 4 });
  expect(resolveStage('prod').attachmentTypesCsv).toBe('image/jpeg,image/png,image/webp,image/gif,application/pdf');
  const bad = (attachments: unknown) => () => resolveStage('prod', config({ prod: { attachments } }));
  const ok = { maxBytes: 1000, maxPerMessage: 4, types: ['image/jpeg'], linkDays: 90 };
  expect(bad(ok)).not.toThrow();
  for (const over of [{ maxBytes: 0 }, { maxPerMessage: 11 }, { types: [] }, { types: ['Image/JPEG'] }, { linkDays: 0 }])
    expect(bad({ ...ok, ...over })).toThrow(/attachments for stage 'prod' needs/);
});

describe('alerts (the owner’s channels beside email)', () => {
  const sms = { to: ['+14085550100'], originationIdentity: 'arn:aws:sms-voice:us-west-2:123456789012:phone-number/phone-abc' };
  it('flattens a configured stage for the templates; none configured: every channel off', () => {
    const s = resolveStage(
      'prod',
      config({ prod: { alerts: { sms: { ...sms, leads: 'urgent' }, webhook: { url: 'https://hooks.zapier.com/x' } } } }),
    );
    expect(s.alertsEnv).toEqual({
      LEAD_SMS_TO: '+14085550100',
      LEAD_SMS_ORIGINATION_IDENTITY: sms.originationIdentity,
      LEAD_SMS_LEADS: 'urgent',
      LEAD_SMS_TIMEOUT_MS: '',
      LEAD_WEBHOOK_URL: 'https://hooks.zapier.com/x',
      LEAD_WEBHOOK_LEADS: 'all',
      LEAD_WEBHOOK_TIMEOUT_MS: '',
    });
    expect(resolveStage('prod', config({ prod: {} })).alertsEnv).toMatchObject({
      LEAD_SMS_TO: '',
      LEAD_SMS_ORIGINATION_IDENTITY: '',
      LEAD_WEBHOOK_URL: '',
    });
  });
  it.each([
    [{ sms: { ...sms, to: ['4085550100'] } }, /E\.164/],
    // The project's one phone rule (7 to 15 digits), the same the contacts and the runtime use: 6 digits are refused.
    [{ sms: { ...sms, to: ['+123456'] } }, /E\.164/],
    [{ sms: { ...sms, to: [] } }, /1 to 5 owner phones/],
    [{ sms: { ...sms, to: ['+14085550100', '+14085550101', '+14085550102', '+14085550103', '+14085550104', '+14085550105'] } }, /1 to 5/],
    [{ sms: { ...sms, originationIdentity: '+14085550199' } }, /ARN/],
    [{ sms: { ...sms, leads: 'some' } }, /'all' or 'urgent'/],
    [{ webhook: { url: 'http://hooks.example.com/x' } }, /https/],
    [{ webhook: { url: 'https://localhost:8443/x' } }, /not local/],
    [{ webhook: { url: 'https://127.0.0.1/x' } }, /not local/],
    [{ webhook: { url: 'https://user:pw@hooks.example.com/x' } }, /credentials/],
    [{ webhook: { url: 'https://hooks.example.com/x', leads: 'most' } }, /'all' or 'urgent'/],
    [{ webhook: { url: 'local-alerts-url:webhooks/lead' } }, /https/], // the local stand-in is for local stages only
    [{ pager: {} }, /unknown channels/],
  ])('refuses %j on a deployed stage', (alerts, why) => {
    expect(() => resolveStage('prod', config({ prod: { alerts } }))).toThrow(why);
  });
  it('lets a local stage post to the local stand-in', () => {
    const local = resolveStage(
      'local',
      config({ local: { secretsFromEnvironment: true, alerts: { webhook: { url: 'local-alerts-url:webhooks/lead' } } } }),
    );
    expect(local.alertsEnv.LEAD_WEBHOOK_URL).toBe('local-alerts-url:webhooks/lead');
  });
  it('checks a stage with the same rule the lead functions run at cold start (the channel registry)', () => {
    // The cold-start rule refuses what the stage rule refuses: the same function.
    expect(() => configuredChannels({ LEAD_SMS_TO: '+123456', LEAD_SMS_ORIGINATION_IDENTITY: sms.originationIdentity })).toThrow(/E\.164/);
    expect(() => configuredChannels({ LEAD_SMS_TO: '+14085550100', LEAD_SMS_ORIGINATION_IDENTITY: 'arn:aws:sns:x' })).toThrow(/ARN/);
    const ok = resolveStage('prod', config({ prod: { alerts: { sms } } })).alertsEnv;
    expect(configuredChannels(ok).map((c) => c.channel.name)).toEqual(['sms']);
  });
});
