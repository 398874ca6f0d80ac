import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import {
  alertsEndpoint,
  clearSes,
  ledgerTableName,
  documentClient,
  dynamoEndpoint,
  ledgerRecord,
  emulator,
  emulatorBaseURL,
  sesEmails,
  sesEndpoint,
  sqsEndpoint,
  threads,
} from '@lead-intake/testkit';

/** `sls invoke local` with the service's sample events, against the local stack's services. */
const admin = emulator();
const invoke = async (event: string, fn = 'lead', extra: string[] = []) => {
  const { stdout } = await promisify(execFile)(
    'npx',
    ['sls', 'invoke', 'local', '-f', fn, '--path', `events/${event}`, '--stage', 'local', ...extra],
    {
      cwd: join(__dirname, '..'),
      env: {
        ...process.env,
        OPENAI_BASE_URL: emulatorBaseURL(),
        OPENAI_API_KEY: 'sk-invoke-local',
        AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint(),
        AWS_ENDPOINT_URL_SES: sesEndpoint(),
        AWS_ENDPOINT_URL_SQS: sqsEndpoint(),
        // The local stage texts the owner: through the alerts stand-in (its webhook marker is no URL here: off).
        AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: alertsEndpoint(),
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        // The sample events carry client tokens signed with the local development secret.
        CHATKIT_TOKEN_SECRET: LOCAL_TOKEN_SECRET,
        SLS_TELEMETRY_DISABLED: '1',
      },
      timeout: 120_000,
    },
  );
  const result = JSON.parse(stdout.slice(stdout.lastIndexOf('\n{\n') + 1));
  return fn === 'lead' ? { status: result.statusCode, body: JSON.parse(result.body) } : result;
};

it('invokes the lead function with the sample events: the manual trigger sends, the beacon (base64) finds it sent', async () => {
  await admin.reset();
  await clearSes();
  await threads.seedThread({
    id: 'cthr_sample_demo',
    user: 'u_demoCustomer0000000001',
    items: [
      { role: 'user', text: 'My AC blows warm air. Call me at 415-555-2671.' },
      { role: 'assistant', text: 'Thanks, the shop will call you.' },
    ],
  });
  expect(await invoke('lead-manual.json')).toEqual({ status: 200, body: { sent: true, reason: 'sent' } });
  expect(await invoke('lead-pagehide-beacon.json')).toEqual({ status: 200, body: { sent: true, reason: 'already_sent' } });
  expect((await sesEmails()).filter((m) => m.body.text?.includes('cthr_sample_demo'))).toHaveLength(1);
}, 180_000);

it('invokes the sweeper with the sample scheduled event: one sweep, its counts as the result', async () => {
  const result = await invoke('sweeper-schedule.json', 'sweeper');
  expect(result).toEqual({
    due: expect.any(Number),
    idle: expect.any(Number),
    processed: expect.any(Number),
    skipped: expect.any(Number),
    failed: 0,
    peak: expect.any(Number),
    spool: { received: expect.any(Number), done: expect.any(Number), kept: 0, invalid: 0 },
  });
}, 180_000);

it('invokes the scheduler with the sample stream record: the conversation’s idle evaluation is armed on the ledger', async () => {
  await threads.seedThread({ id: 'cthr_sample_scheduled', user: 'u_demoCustomer0000000002', items: [] });
  // The sample item is from 2026-11-27: older than the scheduler takes by default (imports), so the age limit is lifted.
  const result = await invoke('scheduler-stream.json', 'scheduler', ['--env', 'LEAD_SCHEDULE_MAX_AGE_SECONDS=315360000']);
  expect(result).toEqual({ batchItemFailures: [] });
  expect(await ledgerRecord('cthr_sample_scheduled')).toMatchObject({
    status: 'idle',
    activity_at: Date.parse('2026-11-27T12:00:00Z') / 1000,
    idle_at: Date.parse('2026-11-27T12:00:00Z') / 1000 + 5,
  });
  // Armed and already due: removed so that other files' sweeps in this shared stack do not run it.
  await documentClient().send(new DeleteCommand({ TableName: await ledgerTableName(), Key: { thread_id: 'cthr_sample_scheduled' } }));
}, 180_000);
