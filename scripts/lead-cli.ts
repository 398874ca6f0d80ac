/**
 * Operations on leads: `npm run lead -- <command> <threadId> [--stage <stage>] [options]`
 *
 *   preview <threadId> [--out <file>] [--reason <reason>]   render the email into a local HTML file (default
 *                                                          .local/previews/, ignored by git: it holds the
 *                                                          customer's details); sends nothing, never touches the ledger
 *   status  <threadId>                                     show the ledger record
 *   resend  <threadId> [--channel email|sms|webhook] [--yes] after confirmation, reopen a sent, error or
 *                                                          failed record due now: the sweeper sends the lead
 *                                                          again on every channel within its next run; with
 *                                                          --channel, that channel only and nothing else
 *   forget  <threadId> [--yes]                             after confirmation, delete every self-hosted
 *                                                          conversation of that thread's customer, and the
 *                                                          summaries the ledger kept for them (a deletion request)
 *   rearm   --since <ISO time> [--until <ISO time>] [--yes] after confirmation, arm the idle evaluation of every
 *                                                          self-hosted conversation with activity in that window
 *                                                          (the scheduler's work, redone: SchedulerFailedAlarm)
 *
 * `--stage local` (the default) works against `npm run dev`; any other stage against AWS with your
 * credentials (the OpenAI key then comes from SSM unless OPENAI_API_KEY is set).
 */
import { failure, helpIfAsked } from './cli';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { channelNames, keysOf } from '@lead-intake/alerts';
import { objectKey, S3FileStore } from '@lead-intake/attachments';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import OpenAI from 'openai';
import { chatkitModeSetting } from '@lead-intake/config/settings';
import { InboxStore } from '@lead-intake/inbox-store';
import { deliveriesOf, DynamoLedgerStore, Ledger, mayClearForResend, RESENDABLE, type LedgerRecord } from '@lead-intake/ledger';
import { LEAD_REASONS, previewLead, THREAD_ID, type LeadReason } from '@lead-intake/lead-pipeline';
import { loadShopProfile } from '@lead-intake/shop';
import { attachmentsBucketFor, resolveStage } from '@lead-intake/stage-config';
import { StoreTranscriptSource, DynamoThreadStore } from '@lead-intake/thread-store';
import { FallbackTranscriptSource, HostedChatKitSource } from '@lead-intake/transcript';
import { configFromEnv } from '@lead-intake/local-stack/config';
import { LOCAL_DIR, REPO_ROOT } from '@lead-intake/local-stack/paths';
import { resolveService } from '@lead-intake/local-stack/service-config';

// The Lambdas run Node 22; this tool runs on the machine's Node (20.19+), where the AWS SDK warns
// about its own future Node requirement on every run. Not actionable here: silenced.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE =
  'usage: npm run lead -- <preview|status|resend|forget> <threadId> [--stage <stage>] [--out <file>] [--reason <reason>] [--yes]\n' +
  `       npm run lead -- resend <threadId> --channel <${channelNames().join('|')}> [--stage <stage>] [--yes]\n` +
  '       npm run lead -- rearm --since <ISO time> [--until <ISO time>] [--stage <stage>] [--yes]';

class UsageError extends Error {}

function parse(argv: string[]) {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--') && a !== '--yes') flags[a.slice(2)] = argv[++i]!;
      else flags[a.slice(2)] = true;
    } else positional.push(a);
  }
  const [command, threadId = ''] = positional;
  if (!command || !['preview', 'status', 'resend', 'forget', 'rearm'].includes(command)) throw new UsageError(USAGE);
  if (command !== 'rearm' && (!threadId || !THREAD_ID.test(threadId)))
    throw new UsageError(`a thread id like cthr_... is required\n${USAGE}`);
  return { command, threadId, stage: typeof flags.stage === 'string' ? flags.stage : 'local', flags };
}

/** Where this stage's ledger and OpenAI are: the same resolved serverless config the deploy uses. */
async function target(stage: string) {
  const svc = await resolveService(join(REPO_ROOT, 'services', 'lead'), stage, join(LOCAL_DIR, 'cache'));
  // The lead function's own environment, as the deploy sets it: tables, mode, model, idle window.
  const env = svc.functions.find((f) => f.name === 'lead')?.environment ?? {};
  const table = env.LEAD_DEDUPE_TABLE_NAME;
  if (!table) throw new Error('services/lead/serverless.yml sets no LEAD_DEDUPE_TABLE_NAME');
  if (stage === 'local') {
    const cfg = configFromEnv(process.env, '');
    return {
      table,
      env,
      files: async () =>
        new S3FileStore(
          attachmentsBucketFor(resolveStage(stage), '000000000000'),
          () =>
            new S3Client({
              endpoint: `http://${cfg.host}:${cfg.s3Port}`,
              region: 'us-west-2',
              forcePathStyle: true,
              credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
            }),
        ),
      dynamo: new DynamoDBClient({
        endpoint: `http://${cfg.host}:${cfg.dynamoPort}`,
        region: 'us-west-2',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      openai: async () =>
        process.env.OPENAI_API_KEY
          ? new OpenAI()
          : new OpenAI({ apiKey: 'local-emulator-key', baseURL: `http://${cfg.host}:${cfg.openaiPort}/v1` }),
    };
  }
  const region = process.env.AWS_REGION ?? resolveStage(stage).region;
  return {
    table,
    env,
    files: async () => {
      const account = (await new STSClient({ region }).send(new GetCallerIdentityCommand({}))).Account!;
      return new S3FileStore(attachmentsBucketFor(resolveStage(stage), account), () => new S3Client({ region }));
    },
    dynamo: new DynamoDBClient({ region }),
    openai: async () => {
      if (process.env.OPENAI_API_KEY) return new OpenAI();
      const name = `/chatkit-lead-intake/${stage}/OPENAI_API_KEY`;
      const p = await new SSMClient({ region }).send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      if (!p.Parameter?.Value) throw new Error(`SSM parameter ${name} is empty`);
      return new OpenAI({ apiKey: p.Parameter.Value });
    },
  };
}

/** The record without the AI summary's text (customer details): the operator sees that one exists. */
function printable(r: LedgerRecord) {
  const out: Record<string, unknown> = { ...r };
  if (r.summary) out.summary = `<${r.summary.length} bytes, not shown>`;
  // Each channel's state: what went out (and when), and what is still to go (status error/failed).
  const delivered = deliveriesOf(r);
  for (const k of Object.keys(delivered)) delete out[`delivered_${k}`];
  const failing = r.last_error?.split(':')[0];
  out.channels = {
    ...Object.fromEntries(Object.entries(delivered).map(([k, d]) => [k, `delivered ${new Date(d.at * 1000).toISOString()} (${d.id})`])),
    ...(r.status === 'error' || r.status === 'failed'
      ? { [failing === 'ses' ? 'email' : (failing ?? 'unknown')]: `${r.status === 'failed' ? 'gave up' : 'to retry'}: ${r.last_error}` }
      : {}),
  };
  for (const k of [
    'lock_expires_at',
    'sent_at',
    'cooldown_until',
    'due_at',
    'idle_at',
    'activity_at',
    'created_at',
    'updated_at',
    'ttl',
  ] as const) {
    if (typeof r[k] === 'number') out[k] = `${r[k]} (${new Date(r[k]! * 1000).toISOString()})`;
  }
  return out;
}

// The email and the registry's owner channels (packages/alerts/src/channels).
const CHANNEL_NAMES = channelNames();

/** One channel again: its deliveries forgotten on a settled record, which the sweeper then finishes (the others stay delivered). */
async function resendChannel(store: DynamoLedgerStore, table: string, threadId: string, flags: Record<string, string | true>) {
  const channel = flags.channel;
  if (typeof channel !== 'string' || !CHANNEL_NAMES.includes(channel))
    throw new UsageError(`--channel must be one of ${CHANNEL_NAMES.join(', ')}\n${USAGE}`);
  const rec = await store.get(threadId);
  if (!rec) throw new Error(`No ledger record for ${threadId}: nothing went out yet (the next trigger sends every channel).`);
  if (!mayClearForResend(rec))
    throw new Error(
      `The record is '${rec.status}' (a lease is held or nothing was decided yet): only ${RESENDABLE.join(', ')} records are reopened.`,
    );
  const keys = keysOf(channel, Object.keys(deliveriesOf(rec)));
  if (
    flags.yes !== true &&
    !(await confirm(
      `Send the ${channel} alert of ${threadId} again (${keys.length} delivery record(s) in ${table} forgotten), and nothing else?`,
    ))
  ) {
    console.log('Nothing changed.');
    return;
  }
  const res = await new Ledger(store).reopen(threadId, keys);
  if (!res.ok) throw new Error(`The record changed meanwhile (now '${res.current?.status ?? 'gone'}'); nothing changed.`);
  console.log(
    `Reopened ${threadId} for ${channel}: the sweeper sends it within its next run (the channel's stage settings apply; ` +
      `a webhook gets a new webhook-id so the receiver takes it). Other channels are not sent again.`,
  );
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function main() {
  const { command, threadId, stage, flags } = parse(process.argv.slice(2));
  const t = await target(stage);
  const store = new DynamoLedgerStore({ tableName: t.table, client: t.dynamo });

  if (command === 'status') {
    const rec = await store.get(threadId);
    if (!rec) {
      console.log(`No ledger record for ${threadId} in ${t.table}: no trigger has reached the lead endpoint for it (or its TTL passed).`);
      return;
    }
    console.log(JSON.stringify(printable(rec), null, 2));
    return;
  }

  if (command === 'resend' && flags.channel !== undefined) {
    await resendChannel(store, t.table, threadId, flags);
    return;
  }

  if (command === 'resend') {
    const rec = await store.get(threadId);
    if (!rec) throw new Error(`No ledger record for ${threadId}: nothing to clear (the next trigger already sends).`);
    if (!mayClearForResend(rec)) {
      throw new Error(
        `The record is '${rec.status}'${rec.status === 'sending' ? ' (a lease is held; wait for it to finish or expire)' : ''}: ` +
          `only ${RESENDABLE.join(', ')} records are cleared.`,
      );
    }
    // Reopened due now, every delivery forgotten: the sweeper sends the whole lead again within its
    // next run. (Clearing the record and waiting for "the next trigger" never resent a self-hosted
    // lead: nothing triggers again once the customer has gone.)
    const keys = Object.keys(deliveriesOf(rec));
    if (
      flags.yes !== true &&
      !(await confirm(
        `Send the lead of ${threadId} again on every channel (its '${rec.status}' record in ${t.table} reopened; ` +
          'the sweeper sends it within its next run)?',
      ))
    ) {
      console.log('Nothing changed.');
      return;
    }
    const res = await new Ledger(store).reopen(threadId, keys);
    if (!res.ok) throw new Error(`The record changed meanwhile (now '${res.current?.status ?? 'gone'}'); nothing changed.`);
    console.log(
      `Reopened ${threadId} (was '${rec.status}'): the sweeper sends the lead again on every channel within its next run ` +
        '(a webhook gets a new webhook-id so the receiver takes it).',
    );
    return;
  }

  if (command === 'rearm') {
    await rearm(t, store, flags);
    return;
  }

  if (command === 'forget') {
    const tableName = t.env.CHAT_THREADS_TABLE_NAME;
    if (!tableName) throw new Error('services/lead/serverless.yml sets no CHAT_THREADS_TABLE_NAME');
    const threads = new DynamoThreadStore({ tableName, client: t.dynamo });
    const owner = await threads.threadOwner(threadId);
    if (!owner)
      throw new Error(
        `${threadId} is not in ${tableName} (a hosted thread is deleted with the OpenAI API: DELETE /v1/chatkit/threads/${threadId}).`,
      );
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const page = await threads.loadThreads(owner, { limit: 100, after, order: 'asc' });
      ids.push(...page.data.map((x) => x.id));
      after = page.has_more ? page.after : undefined;
    } while (after);
    if (
      flags.yes !== true &&
      !(await confirm(
        `Delete ${ids.length} conversation(s) of this customer from ${tableName} ` +
          `(${ids.join(', ')}), the summaries the ledger kept for them, and their records in the owner's inbox? This cannot be undone.`,
      ))
    ) {
      console.log('Nothing changed.');
      return;
    }
    const files = await t.files();
    let removed = 0;
    for (const id of ids) {
      // The customer's photos and files first: a run cut short leaves the thread to delete again.
      for (const item of await threads.allItems(id)) {
        if (item.type !== 'user_message') continue;
        for (const a of item.attachments) {
          await files.remove(objectKey(a.id));
          await threads.deleteAttachment(a.id, owner).catch(() => undefined); // imported or already gone: no record
          removed++;
        }
      }
      await threads.deleteThread(id, owner);
      await store.forgetSummary(id);
    }
    // The owner's inbox: each lead's record and its history of outcomes and notes (they hold the customer's name and contacts).
    const inboxTable = t.env.LEAD_INBOX_TABLE;
    const inboxRows = inboxTable ? await new InboxStore({ tableName: inboxTable, client: t.dynamo }).forget(loadShopProfile().id, ids) : 0;
    console.log(
      `Deleted ${ids.length} conversation(s) of the customer of ${threadId}, ${removed} file(s) they shared and ` +
        `${inboxRows} inbox row(s) (leads and their history); the ledger keeps ` +
        `only whether each lead was sent. Lead emails already delivered are in the shop's mailbox.`,
    );
    return;
  }

  const reason = (typeof flags.reason === 'string' ? flags.reason : 'manual') as LeadReason;
  if (!LEAD_REASONS.includes(reason)) throw new UsageError(`--reason must be one of ${LEAD_REASONS.join(', ')}`);
  const openai = await t.openai();
  // Read the thread where the lead function would: the self-hosted store first in that mode.
  const hosted = new HostedChatKitSource(openai);
  const source =
    chatkitModeSetting(t.env) === 'self-hosted' && t.env.CHAT_THREADS_TABLE_NAME
      ? new FallbackTranscriptSource(
          new StoreTranscriptSource(new DynamoThreadStore({ tableName: t.env.CHAT_THREADS_TABLE_NAME, client: t.dynamo })),
          hosted,
        )
      : hosted;
  const model = t.env.LEAD_SUMMARY_MODEL;
  if (!model) throw new Error('services/lead/serverless.yml sets no LEAD_SUMMARY_MODEL');
  const result = await previewLead({ threadId, reason, user: null, pageUrl: null }, { source, openai, profile: loadShopProfile(), model });
  // It holds the customer's details: by default under .local/ (ignored by git), never the repository root.
  const out = typeof flags.out === 'string' ? flags.out : join(LOCAL_DIR, 'previews', `lead-preview-${threadId}.html`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, result.email.html);
  console.log(`Wrote ${out}`);
  console.log(`Subject: ${result.email.subject}`);
  const summaryNote = !result.summary
    ? ' (no summary: no contact)'
    : result.summary.ok
      ? ''
      : ` (AI summary unavailable: ${result.summary.failure})`;
  console.log(`Decision for a '${reason}' trigger: ${result.decision}${summaryNote}`);
}

/**
 * The scheduler's work for a time window, redone (its stream batches were set aside:
 * SchedulerFailedAlarm). Finds the self-hosted conversations with items created in the window (a
 * Scan of the thread table filtered on the item keys, which begin with their creation time: an
 * operator's tool, not a request path) and arms each one's idle evaluation from its latest item
 * there. The ledger decides as always: a sent or failed conversation, or one with newer activity,
 * is left as it is; the sweeper runs what is armed and due.
 */
async function rearm(t: Awaited<ReturnType<typeof target>>, store: DynamoLedgerStore, flags: Record<string, string | true>) {
  const since = typeof flags.since === 'string' ? Date.parse(flags.since) : NaN;
  const until = typeof flags.until === 'string' ? Date.parse(flags.until) : Date.now();
  if (Number.isNaN(since) || Number.isNaN(until) || until < since)
    throw new UsageError(`rearm needs --since <ISO time> (and --until after it, if given)\n${USAGE}`);
  const tableName = t.env.CHAT_THREADS_TABLE_NAME;
  if (!tableName) throw new Error('services/lead/serverless.yml sets no CHAT_THREADS_TABLE_NAME (rearm is for self-hosted stages)');
  const idleSeconds = Number(t.env.LEAD_IDLE_SECONDS);
  if (!(idleSeconds > 0)) throw new Error('services/lead/serverless.yml sets no LEAD_IDLE_SECONDS');
  const key = (ms: number) => `ITM#${ms.toString(36).padStart(9, '0')}`;
  const latest = new Map<string, number>();
  let start: Record<string, any> | undefined;
  do {
    const page = await t.dynamo.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':from': { S: key(since) }, ':to': { S: `${key(until)}~` } },
        ProjectionExpression: 'pk, sk',
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const threadId = item.pk?.S?.replace(/^THREAD#/, '');
      const ms = parseInt(item.sk?.S?.slice(4, 13) ?? '', 36);
      if (threadId && Number.isFinite(ms)) latest.set(threadId, Math.max(latest.get(threadId) ?? 0, ms));
    }
    start = page.LastEvaluatedKey;
  } while (start);
  if (!latest.size) {
    console.log(`No self-hosted conversation has activity between ${new Date(since).toISOString()} and ${new Date(until).toISOString()}.`);
    return;
  }
  if (
    flags.yes !== true &&
    !(await confirm(
      `Arm the idle evaluation of ${latest.size} conversation(s) with activity in that window (a lead goes out for those with a contact)?`,
    ))
  ) {
    console.log('Nothing changed.');
    return;
  }
  const threads = new DynamoThreadStore({ tableName, client: t.dynamo });
  const ledger = new Ledger(store);
  let armed = 0;
  for (const [threadId, ms] of latest) {
    const owner = await threads.threadOwner(threadId);
    if (!owner) continue;
    const activityAt = Math.floor(ms / 1000);
    if ((await ledger.scheduleIdle(threadId, { owner, activityAt, idleAt: activityAt + idleSeconds })).armed) armed++;
  }
  console.log(
    `Armed ${armed} of ${latest.size} conversation(s); the others are sent, failed, or have newer activity. ` +
      'The sweeper runs them once their idle time has come.',
  );
}

helpIfAsked(__filename);
main().catch((e) => {
  if (e instanceof UsageError) {
    console.error(e.message);
    process.exit(2);
  }
  const i = process.argv.indexOf('--stage');
  failure('lead', e, i >= 0 ? process.argv[i + 1] : 'local');
});
