/**
 * What the lead endpoint and the sweeper share, built once per instance: settings (read at cold
 * start: a bad value fails it with the variable's name), logger, metrics and the ledger. Only
 * what the duplicate fast path needs is here; the pipeline itself (./wiring over
 * @lead-intake/lead-pipeline) is loaded by `loadLead` on the first request that gets past the ledger.
 */
import { chatkitModeSetting, ConfigError, intSetting, listSetting, openaiBudgetSetting, secrets, stringSetting } from '@lead-intake/config';
import { DynamoLedgerStore, Ledger, ledgerConfigFromEnv, TriggerSpool, type Requester } from '@lead-intake/dedupe';
import { createLogger, createMetrics } from '@lead-intake/observability';
import { httpUrlOrNull } from '@lead-intake/http/fields';
import { isE164 } from '@lead-intake/transcript/address';
import { assertAddresses } from '@lead-intake/ses-mailer';
// The URL check only (the fast path loads neither the SMS text nor the email renderer it uses).
import { assertWebhookUrl } from '@lead-intake/alerts/webhook';
import type { ChannelLeads } from '@lead-intake/alerts';

export const logger = createLogger('lead');
export const metrics = createMetrics('lead');

export const settings = (() => {
  const to = listSetting(process.env, 'LEAD_TO_EMAIL', ['victor@craigs.autos']);
  const from = stringSetting(process.env, 'LEAD_FROM_EMAIL', 'victor@craigs.autos');
  try {
    assertAddresses('To', to);
    assertAddresses('From', [from]);
  } catch {
    throw new ConfigError(
      'LEAD_TO_EMAIL/LEAD_FROM_EMAIL',
      'LEAD_TO_EMAIL (comma-separated) and LEAD_FROM_EMAIL must be plain email addresses',
    );
  }
  return {
    to,
    from,
    model: stringSetting(process.env, 'LEAD_SUMMARY_MODEL', 'gpt-5.2-2025-12-11'),
    // Transcript reads: small and quick. Summary: the slow call. Both sit inside the 30 s function
    // timeout, and a deadline signal keeps LEAD_SEND_RESERVE_MS for the email whatever they do.
    threads: openaiBudgetSetting(process.env, 4000),
    summary: {
      timeoutMs: intSetting(process.env, 'LEAD_SUMMARY_TIMEOUT_MS', 12000, { min: 100, max: 120000 }),
      maxRetries: intSetting(process.env, 'LEAD_SUMMARY_MAX_RETRIES', 1, { min: 0, max: 5 }),
    },
    sendReserveMs: intSetting(process.env, 'LEAD_SEND_RESERVE_MS', 5000, { min: 0, max: 60000 }),
    // SES must answer well inside the send reserve: a hung SES is a failed (retried) send, not a
    // function timeout past the lease.
    sesTimeoutMs: intSetting(process.env, 'LEAD_SES_TIMEOUT_MS', 3000, { min: 100, max: 30000 }),
    // One alert per customer: an earlier lead of the same contact within this window makes a "follow-up".
    contacts: {
      table: process.env.LEAD_CONTACTS_TABLE_NAME || null,
      windowSeconds: intSetting(process.env, 'LEAD_FOLLOW_UP_HOURS', 24, { min: 1, max: 24 * 90 }) * 3600,
    },
    // Customers' files in the email: links through the `files` function (signed, linkDays long).
    attachments: {
      // Not an http(s) URL (a local stage under \`sls invoke local\`): emails list files without links.
      filesUrl: httpUrlOrNull(process.env.LEAD_FILES_URL),
      bucket: process.env.LEAD_ATTACHMENTS_BUCKET || null,
      linkDays: intSetting(process.env, 'LEAD_FILE_LINK_DAYS', 90, { min: 1, max: 3650 }),
    },
    // A bound of their own on what summaries spend: at most this many per UTC day (stages.config.json
    // leadDailySummaries), counted in the lead's limits table; past it a lead goes out without one.
    summaryBudget: {
      table: process.env.LEAD_LIMITS_TABLE_NAME || null,
      perDay: intSetting(process.env, 'LEAD_DAILY_SUMMARIES', 500, { min: 1, max: 10000000 }),
    },
    alerts: alertSettings(process.env),
  };
})();

function leadsSetting(env: NodeJS.ProcessEnv, name: string): ChannelLeads {
  const v = env[name] || 'all';
  if (v !== 'all' && v !== 'urgent') throw new ConfigError(name, `${name} must be 'all' or 'urgent'`);
  return v;
}

/**
 * The owner's channels beside email (stages.config.json `alerts`). Each is off when its variable is
 * empty. Both answer within the send reserve (they run beside SES, not after it).
 */
function alertSettings(env: NodeJS.ProcessEnv) {
  const to = (env.LEAD_SMS_TO ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (!to.every(isE164)) throw new ConfigError('LEAD_SMS_TO', 'LEAD_SMS_TO must be comma-separated E.164 phone numbers');
  const origin = env.LEAD_SMS_ORIGINATION_IDENTITY ?? '';
  if (to.length && !origin.startsWith('arn:'))
    throw new ConfigError('LEAD_SMS_ORIGINATION_IDENTITY', 'LEAD_SMS_ORIGINATION_IDENTITY must be the ARN texts are sent from');
  // Not a URL (a local stage's marker under `sls invoke local`): no webhook there.
  const url = httpUrlOrNull(env.LEAD_WEBHOOK_URL);
  if (url) {
    try {
      assertWebhookUrl(url);
    } catch (e) {
      throw new ConfigError('LEAD_WEBHOOK_URL', `LEAD_WEBHOOK_URL: ${(e as Error).message}`);
    }
  }
  return {
    sms: to.length
      ? {
          to,
          originationIdentity: origin,
          leads: leadsSetting(env, 'LEAD_SMS_LEADS'),
          timeoutMs: intSetting(env, 'LEAD_SMS_TIMEOUT_MS', 3000, { min: 100, max: 30000 }),
        }
      : null,
    webhook: url
      ? {
          url,
          leads: leadsSetting(env, 'LEAD_WEBHOOK_LEADS'),
          timeoutMs: intSetting(env, 'LEAD_WEBHOOK_TIMEOUT_MS', 3000, { min: 100, max: 30000 }),
        }
      : null,
  };
}

/** Where conversations live: our own store (services/chat; the default), or OpenAI's hosted threads (legacy). */
export const chatkitMode = chatkitModeSetting(process.env);
export const chatThreadsTable = chatkitMode === 'self-hosted' ? stringSetting(process.env, 'CHAT_THREADS_TABLE_NAME') : null;

const ledgerConfig = ledgerConfigFromEnv(process.env);
let ledger: Ledger | undefined;
/** Created on first use: the fast path pays only for the DynamoDB client. */
export const getLedger = (): Ledger => (ledger ??= new Ledger(new DynamoLedgerStore({ tableName: ledgerConfig.tableName }), ledgerConfig));

/**
 * Where triggers go while the ledger is down, by queue name (the deploy always sets it; without
 * it such a trigger is refused with 503 as before, and the log says so).
 */
export const spool = (() => {
  const name = process.env.LEAD_SPOOL_QUEUE_NAME;
  if (!name) return null;
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(name))
    throw new ConfigError('LEAD_SPOOL_QUEUE_NAME', 'LEAD_SPOOL_QUEUE_NAME must be an SQS queue name');
  return new TriggerSpool(name);
})();

/**
 * The clients ./wiring makes on first use, kept here so that warm requests reuse them. Per-instance
 * state lives in this module (loaded at cold start) and ./wiring (loaded later) keeps none of its
 * own, so each instance, and each test's isolated instance, has its own. Types only: the duplicate
 * fast path loads none of these libraries.
 */
export const clients: {
  openai?: (apiKey: string, budget: import('@lead-intake/openai-client').ClientBudget) => import('openai').default;
  threadStore?: import('@lead-intake/thread-store').DynamoThreadStore;
  ses?: ReturnType<typeof import('@lead-intake/ses-mailer').createSesClient>;
  contactIndex?: import('@lead-intake/dedupe').ContactIndex;
  summaryBudget?: import('@lead-intake/usage-limits').DailyBudget;
  sms?: Promise<import('@aws-sdk/client-pinpoint-sms-voice-v2').PinpointSMSVoiceV2Client>;
  /** The webhook's signing secret (SSM, read on first use and kept 15 minutes). */
  webhookSecret?: { value: string; until: number };
  /** Hosted threads' owners (or null: no such thread), kept a while: unknown ids do not reach OpenAI every time. */
  hostedOwners?: Map<string, { owner: string | null; until: number }>;
} = {};

/**
 * The secrets every lead function reads (one GetParameters call): the OpenAI key, and self-hosted
 * the token secret (client tokens; it also keys the email's file links and the follow-up index).
 */
export const leadSecrets = () =>
  secrets({
    names: chatkitMode === 'self-hosted' ? ['CHATKIT_TOKEN_SECRET', 'OPENAI_API_KEY'] : ['OPENAI_API_KEY'],
    ssmPath: process.env.SECRETS_SSM_PATH,
    onMissing: (e) => logger.error(`configuration error: ${e.message}`),
  });

/** The lead pipeline and its wiring, loaded on the first request that gets past the ledger. */
export const loadLead = () => import('./wiring');

/**
 * Who asks, for the ledger's owner check (none in hosted mode without a user). The proof reads
 * the conversation, so the wiring is loaded only if the ledger has to ask.
 */
export function requesterFor(rt: typeof import('./runtime'), apiKey: string, threadId: string, user: string | null): Requester | undefined {
  return user ? { user, verify: async () => (await loadLead()).ownsThread(rt, apiKey, threadId, user) } : undefined;
}
