import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { resolveStage } from '@lead-intake/stage-config';
import { localFunction } from '@lead-intake/local-stack';
import {
  alertsEndpoint,
  alertsEnv,
  leadEnv,
  alertsFor,
  chatRequest,
  clearAlerts,
  clearSes,
  clientTokenFor,
  ledgerTableName,
  documentClient,
  dynamoClient,
  emulator,
  ledgerRecord,
  leadAuth,
  ownerOf,
  postJson,
  sesEmails,
  stackUrls,
  tableEndingWith,
  threads,
} from '@lead-intake/testkit';
import { InboxStore } from '@lead-intake/inbox-store';
import { TEST_STACK_ENV } from './jest/stack-env';

/** `npm run lead -- preview|status|resend` against the local stack the tests run. */
const JPEG_START = new Uint8Array([0xff, 0xd8, 0xff, 0xe0]); // a JPEG's first bytes (the chat checks them)
const ROOT = join(__dirname, '..');
const admin = emulator();
const env = { ...process.env, ...TEST_STACK_ENV, OPENAI_API_KEY: '' };
delete (env as Record<string, unknown>).OPENAI_API_KEY;
const cli = (args: string[]) => promisify(execFile)('npx', ['tsx', 'scripts/lead-cli.ts', ...args], { cwd: ROOT, env, timeout: 60_000 });

beforeEach(async () => {
  await admin.reset();
  await clearSes();
});

async function sentThread(user = 'u', phone = '415-555-2671') {
  const id = await threads.seedThread({
    user,
    items: [
      { role: 'user', text: `Brakes squeal, call ${phone}` },
      { role: 'assistant', text: 'Will do!' },
    ],
  });
  expect((await postJson(stackUrls().lead, { threadId: id, reason: 'close' }, leadAuth(id))).body).toEqual({ sent: true, reason: 'sent' });
  return id;
}

it('status shows the record (no summary text); resend --yes reopens it and the sweeper sends the lead again, with no trigger', async () => {
  await clearAlerts();
  // A number no other file uses: the sweeper below also finishes any due record other files left in
  // the shared ledger (with this test's channels), and texts are told apart by the customer's number.
  const id = await sentThread('u-cli-resend', '415-555-0611');
  const status = await cli(['status', id]);
  const shown = JSON.parse(status.stdout);
  expect(shown).toMatchObject({ thread_id: id, status: 'sent', message_id: expect.any(String) });
  expect(String(shown.sent_at)).toMatch(/^\d+ \(2\d{3}-/);
  const resend = await cli(['resend', id, '--yes']);
  expect(resend.stdout).toContain(`Reopened ${id} (was 'sent'): the sweeper sends the lead again on every channel`);
  expect(await ledgerRecord(id)).toMatchObject({ status: 'error', due_shard: 'due', pending_reason: 'manual', resend_seq: 1 });
  // Self-hosted, nothing triggers again once the customer has gone: the scheduled sweeper (the
  // deploy's bundle, with the stage's channels) is what sends it, run until the record is settled.
  const sweeper = await localFunction('lead', 'sweeper', {
    env: await leadEnv({
      ...alertsEnv({ LEAD_SMS_TO: '+15555550100', LEAD_WEBHOOK_URL: `${alertsEndpoint()}/webhooks/lead` }),
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    }),
  });
  try {
    for (let run = 0; run < 10 && (await ledgerRecord(id))!.status !== 'sent'; run++)
      expect((await sweeper.invoke({ 'detail-type': 'Scheduled Event' })).kind).toBe('result');
  } finally {
    await sweeper.stop();
  }
  expect((await ledgerRecord(id))!.status).toBe('sent');
  expect((await sesEmails()).filter((m) => m.body.text?.includes(id))).toHaveLength(2);
  const { sms, webhooks } = await alertsFor(id, '(415) 555-0611');
  expect(sms).toHaveLength(2);
  expect(webhooks).toHaveLength(2);
  expect(new Set(webhooks.map((w) => w.headers['webhook-id'])).size).toBe(2); // the receiver takes the resend
}, 120_000);

it('--help prints the usage and exits 0', async () => {
  const out = await cli(['--help']);
  expect(out.stdout).toContain('resend  <threadId>');
});

it('resend asks first, and answering no changes nothing', async () => {
  const id = await sentThread();
  const child = spawn('npx', ['tsx', 'scripts/lead-cli.ts', 'resend', id], { cwd: ROOT, env });
  let err = '';
  let out = '';
  child.stderr.on('data', (d) => {
    err += d;
    if (err.includes('[y/N]')) child.stdin.end('n\n');
  });
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('exit', r));
  expect(code).toBe(0);
  expect(err).toContain('again on every channel');
  expect(out).toContain('Nothing changed.');
  expect(JSON.parse((await cli(['status', id])).stdout).status).toBe('sent');
}, 90_000);

it('preview renders the email to a file without sending or touching the ledger', async () => {
  const id = await threads.seedThread({ user: 'u', items: [{ role: 'user', text: 'Oil change for my Civic please, 415-555-2671' }] });
  const out = join(mkdtempSync(join(tmpdir(), 'preview-')), 'lead.html');
  const res = await cli(['preview', id, '--out', out]);
  expect(res.stdout).toContain(`Wrote ${out}`);
  expect(res.stdout).toContain("Decision for a 'manual' trigger: send");
  const html = readFileSync(out, 'utf8');
  expect(html).toContain('Oil change for my Civic please');
  expect(html).toContain('href="tel:+14155552671"');
  expect(await sesEmails()).toEqual([]);
  expect((await cli(['status', id])).stdout).toContain('No ledger record');
}, 90_000);

it('preview without --out writes under .local/previews (ignored by git), never the repository root', async () => {
  const id = await threads.seedThread({ user: 'u', items: [{ role: 'user', text: 'Tires, 415-555-2671' }] });
  const res = await cli(['preview', id]);
  const file = join(ROOT, '.local', 'previews', `lead-preview-${id}.html`);
  expect(res.stdout).toContain(`Wrote ${file}`);
  expect(readFileSync(file, 'utf8')).toContain('href="tel:+14155552671"');
  expect(existsSync(join(ROOT, `lead-preview-${id}.html`))).toBe(false);
}, 90_000);

it('rejects bad usage with a clear message', async () => {
  const err = await cli(['status', 'not-a-thread']).catch((e) => e);
  expect(err.code).toBe(2);
  expect(err.stderr).toContain('a thread id like cthr_... is required');
  const err2 = await cli(['explode', 'cthr_x']).catch((e) => e);
  expect(err2.stderr).toContain('usage: npm run lead --');
}, 60_000);

it('without AWS credentials, a deployed stage fails in one line that says so (not "ledger unavailable")', async () => {
  const bare: NodeJS.ProcessEnv = {
    ...env,
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_CONFIG_FILE: '/nonexistent',
    // No instance metadata lookup: nothing leaves this machine.
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete bare[k];
  const err = await promisify(execFile)('npx', ['tsx', 'scripts/lead-cli.ts', 'status', 'cthr_x', '--stage', 'prod'], {
    cwd: ROOT,
    env: bare,
    timeout: 90_000,
  }).catch((e) => e);
  expect(err.code).toBe(1);
  const lines = String(err.stderr).trim().split('\n');
  expect(lines.at(-1)).toMatch(/^lead: no usable AWS credentials for stage 'prod': set AWS_PROFILE/);
  expect(err.stderr).not.toMatch(/ledger unavailable/i);
}, 120_000);

it('forget deletes every conversation of the thread’s customer (asking first), and the ledger keeps no summary', async () => {
  const id = await sentThread(`forgotten-${Date.now()}`);
  const other = await threads.seedThread({ user: ownerOf(id), items: [{ role: 'user', text: 'A second chat, 415-555-2671' }] });
  const stranger = await threads.seedThread({ user: 'someone-else', items: [{ role: 'user', text: 'not theirs' }] });
  // The customer also shared a photo in the second chat.
  const owner = clientTokenFor(ownerOf(id));
  const photo = (
    await chatRequest({ type: 'attachments.create', params: { name: 'plate.jpg', size: 4, mime_type: 'image/jpeg' } }, { token: owner })
  ).json;
  expect(
    (await fetch(photo.upload_descriptor.url, { method: 'PUT', headers: photo.upload_descriptor.headers, body: JPEG_START })).status,
  ).toBe(200);
  const input = { content: [{ type: 'input_text', text: 'my plate' }], attachments: [photo.id], inference_options: {} };
  expect((await chatRequest({ type: 'threads.add_user_message', params: { thread_id: other, input } }, { token: owner })).status).toBe(200);
  // The owner's inbox holds the lead and a note about it (the customer's name and contacts).
  const inbox = new InboxStore({ tableName: await tableEndingWith('-leads'), client: dynamoClient() });
  await inbox.change('craigs-autos', id, { note: 'Called back, wants a quote' }, 'victor@craigs.autos');
  expect((await inbox.get('craigs-autos', id))?.history).toHaveLength(1);
  const res = await cli(['forget', id, '--yes']);
  expect(res.stdout).toContain('Deleted 2 conversation(s) of the customer of');
  expect(res.stdout).toContain(', 1 file(s) they shared and 2 inbox row(s)');
  expect(await inbox.get('craigs-autos', id)).toBeNull();
  // The photo's bytes and its record are gone too.
  expect((await fetch(photo.preview_url)).status).toBe(404);
  expect((await chatRequest({ type: 'attachments.delete', params: { attachment_id: photo.id } }, { token: owner })).status).toBe(404);
  const token = clientTokenFor(ownerOf(id));
  for (const t of [id, other])
    expect((await chatRequest({ type: 'threads.get_by_id', params: { thread_id: t } }, { token })).status).toBe(404);
  expect(
    (await chatRequest({ type: 'threads.get_by_id', params: { thread_id: stranger } }, { token: clientTokenFor('someone-else') })).status,
  ).toBe(200);
  const record = JSON.parse((await cli(['status', id])).stdout);
  expect(record).toMatchObject({ status: 'sent' });
  expect(record.summary).toBeUndefined();
  // Triggers for a forgotten conversation find nothing to send.
  expect((await postJson(stackUrls().lead, { threadId: id, reason: 'close' }, leadAuth(id))).body).toEqual({
    sent: true,
    reason: 'already_sent',
  });
}, 90_000);

it('rearm arms the idle evaluation of every conversation with activity in a window (the scheduler’s work, redone)', async () => {
  const since = new Date().toISOString();
  const id = await threads.seedThread({
    user: 'u-rearm',
    items: [
      { role: 'user', text: 'Tires, call 415-555-0123' },
      { role: 'assistant', text: 'Sure.' },
    ],
  });
  const until = new Date().toISOString();
  expect(await ledgerRecord(id)).toBeUndefined();
  const out = await cli(['rearm', '--since', since, '--until', until, '--yes']);
  expect(out.stdout).toMatch(/^Armed 1 of 1 conversation/);
  const rec = (await ledgerRecord(id))!;
  expect(rec).toMatchObject({ status: 'idle', idle_shard: 'idle' });
  expect(rec.idle_at - rec.activity_at).toBe(Number(resolveStage('local').leadIdleSeconds));
  expect(rec.activity_at).toBeGreaterThanOrEqual(Math.floor(Date.parse(since) / 1000));
  // Again: newer activity is already armed, nothing changes.
  expect((await cli(['rearm', '--since', since, '--until', until, '--yes'])).stdout).toMatch(/^Armed 0 of 1 conversation/);
  // Armed and due: removed so that other files' sweeps in this shared stack do not run it.
  await documentClient().send(new DeleteCommand({ TableName: await ledgerTableName(), Key: { thread_id: id } }));
  await expect(cli(['rearm', '--since', 'yesterday'])).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringMatching(/--since <ISO time>/),
  });
});

it('status shows each channel; resend --channel webhook sends the webhook again (a new webhook-id) and nothing else', async () => {
  await clearAlerts();
  const id = await sentThread('u-cli-channels', '415-555-0612');
  const shown = JSON.parse((await cli(['status', id])).stdout);
  // The email, one text, the webhook, and the lead's record in the owner's inbox.
  expect(Object.keys(shown.channels)).toHaveLength(4);
  expect(shown.channels.inbox).toMatch(/^delivered .* \(craigs-autos\/cthr_.+\)$/);
  expect(shown.channels.email).toMatch(/^delivered 2\d{3}-.* \(.+\)$/);
  expect(shown.channels.webhook).toMatch(/^delivered .* \(msg_.+\)$/);
  expect(Object.keys(shown.channels).filter((k) => k.startsWith('sms_'))).toHaveLength(1);
  expect(JSON.stringify(shown)).not.toContain('5555550100'); // no owner phone in the record

  await expect(cli(['resend', id, '--channel', 'fax', '--yes'])).rejects.toMatchObject({
    stderr: expect.stringContaining('--channel must be one of'),
  });
  const out = await cli(['resend', id, '--channel', 'webhook', '--yes']);
  expect(out.stdout).toContain(`Reopened ${id} for webhook`);
  expect(await ledgerRecord(id)).toMatchObject({ status: 'error', due_shard: 'due', resend_seq: 1 });
  // The next run (here a trigger; deployed, the sweeper within a minute) sends only the webhook.
  expect((await postJson(stackUrls().lead, { threadId: id, reason: 'close' }, leadAuth(id))).body).toEqual({ sent: true, reason: 'sent' });
  const { sms, webhooks } = await alertsFor(id, '(415) 555-0612');
  expect(sms).toHaveLength(1);
  expect(webhooks).toHaveLength(2);
  expect(new Set(webhooks.map((w) => w.headers['webhook-id'])).size).toBe(2);
  expect((await sesEmails()).filter((m) => m.body.text?.includes(id))).toHaveLength(1);
  expect((await ledgerRecord(id))!.status).toBe('sent');
}, 120_000);
