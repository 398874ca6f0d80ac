/**
 * Every variable the lead functions read, with its default and its rule, parsed once (at cold
 * start: a bad value fails it with the variable's name) into one typed object. Nothing else in
 * this service reads `process.env`. The deploy sets these from stages.config.json
 * (services/lead/serverless.yml); the sweeper's and scheduler's tuning knobs have defaults only.
 */
import { chatkitModeSetting, ConfigError, intSetting, listSetting, openaiBudgetSetting, stringSetting } from '@lead-intake/config';
import { ledgerConfigFromEnv } from '@lead-intake/ledger';
import { httpUrlOrNull } from '@lead-intake/http/fields';
import { parseAllowedOrigins } from '@lead-intake/http';
import { assertAddresses } from '@lead-intake/ses-mailer';
// The registry's settings only (the fast path loads no channel's sender).
import { CHANNELS, channelSecretsFromEnv, configuredChannels, type ChannelModule } from '@lead-intake/alerts/channels';

type Env = Record<string, string | undefined>;

export type LeadSettings = ReturnType<typeof readSettings>;

/** `channels`: the registry's (a test may register one the product does not ship). */
export function readSettings(env: Env = process.env, channels: readonly ChannelModule<any>[] = CHANNELS) {
  const functionTimeoutSeconds = intSetting(env, 'LEAD_FUNCTION_TIMEOUT_SECONDS', 30, { min: 1, max: 900 });
  const chatkitMode = chatkitModeSetting(env); // CHATKIT_MODE
  const idleSeconds = intSetting(env, 'LEAD_IDLE_SECONDS', 600, { min: 1, max: 7 * 86400 });
  return {
    stage: env.STAGE ?? 'local',
    /** ALLOWED_ORIGINS: the browsers the endpoint answers (the stage's origins). */
    allowedOrigins: parseAllowedOrigins(env.ALLOWED_ORIGINS),
    /** SECRETS_SSM_PATH: where the secrets live when deployed; unset: the environment (local). */
    secretsSsmPath: env.SECRETS_SSM_PATH || undefined,
    email: emailSettings(env),
    model: stringSetting(env, 'LEAD_SUMMARY_MODEL', 'gpt-5.2-2025-12-11'),
    // Transcript reads (OPENAI_TIMEOUT_MS, OPENAI_MAX_RETRIES): small and quick. Summary: the slow
    // call. Both sit inside the function timeout, and a deadline signal keeps sendReserveMs for
    // the email whatever they do.
    threads: openaiBudgetSetting(env, 4000),
    summary: {
      timeoutMs: intSetting(env, 'LEAD_SUMMARY_TIMEOUT_MS', 12000, { min: 100, max: 120000 }),
      maxRetries: intSetting(env, 'LEAD_SUMMARY_MAX_RETRIES', 1, { min: 0, max: 5 }),
    },
    sendReserveMs: intSetting(env, 'LEAD_SEND_RESERVE_MS', 5000, { min: 0, max: 60000 }),
    // SES must answer well inside the send reserve: a hung SES is a failed (retried) send, not a
    // function timeout past the lease.
    sesTimeoutMs: intSetting(env, 'LEAD_SES_TIMEOUT_MS', 3000, { min: 100, max: 30000 }),
    functionTimeoutSeconds,
    /** Where conversations live: our own store (services/chat; the default), or OpenAI's hosted threads (legacy). */
    chatkitMode,
    chatThreadsTable: chatkitMode === 'self-hosted' ? stringSetting(env, 'CHAT_THREADS_TABLE_NAME') : null,
    /** The send-once ledger (LEAD_DEDUPE_*; its lease must outlive the function timeout). */
    ledger: ledgerConfigFromEnv(env),
    /** LEAD_SPOOL_QUEUE_NAME: triggers the ledger could not take wait here (by name; without it they are refused with 503). */
    spoolQueue: spoolQueueSetting(env),
    // One alert per customer: an earlier lead of the same contact within this window makes a "follow-up".
    contacts: {
      table: env.LEAD_CONTACTS_TABLE_NAME || null,
      windowSeconds: intSetting(env, 'LEAD_FOLLOW_UP_HOURS', 24, { min: 1, max: 24 * 90 }) * 3600,
    },
    // A bound of their own on what summaries spend: at most this many per UTC day (stages.config.json
    // leadDailySummaries), counted in the lead's limits table; past it a lead goes out without one.
    summaryBudget: {
      table: env.LEAD_LIMITS_TABLE_NAME || null,
      perDay: intSetting(env, 'LEAD_DAILY_SUMMARIES', 500, { min: 1, max: 10000000 }),
    },
    // Customers' files in the email: links through the `files` function (signed, linkDays long).
    attachments: {
      // Not an http(s) URL (a local stage under `sls invoke local`): emails list files without links.
      filesUrl: httpUrlOrNull(env.LEAD_FILES_URL),
      bucket: env.LEAD_ATTACHMENTS_BUCKET || null,
      linkDays: intSetting(env, 'LEAD_FILE_LINK_DAYS', 90, { min: 1, max: 3650 }),
    },
    // The owner's inbox (services/inbox): each lead's record, kept as long as the conversation.
    inbox: {
      table: env.LEAD_INBOX_TABLE || null,
      retentionDays: intSetting(env, 'LEAD_RETENTION_DAYS', 365, { min: 1, max: 3650 }),
      // The inbox's address for the links to a lead: given (local stages), else the SSM parameter
      // INBOX_URL (deployed: the inbox stack writes it), else none (no link).
      url: httpUrlOrNull(env.LEAD_INBOX_URL),
    },
    /**
     * The owner's channels beside email this stage has on (stages.config.json `alerts`; each
     * channel module in packages/alerts/src/channels reads and checks its own variables).
     */
    channels: configuredChannels(env, channels),
    /** Locally (no SECRETS_SSM_PATH): the channels' secrets (LEAD_WEBHOOK_SECRET) from the environment. */
    channelSecrets: channelSecretsFromEnv(env, channels),
    /** Self-hosted: an abandoned conversation with a contact is evaluated this long after its last activity. */
    idleSeconds,
    sweeper: {
      // How many due records one run takes (each is one lead pipeline run, inside the 60 s timeout).
      batch: intSetting(env, 'LEAD_SWEEP_BATCH', 10, { min: 1, max: 100 }),
      // Lead runs at once within a sweep (idle evaluations arrive in bursts; each is mostly waiting on I/O).
      parallel: intSetting(env, 'LEAD_SWEEP_PARALLEL', 5, { min: 1, max: 25 }),
      // A spooled trigger or an idle evaluation is started only with this much of the run left.
      reserveMs: intSetting(env, 'LEAD_SPOOL_RESERVE_MS', functionTimeoutSeconds * 1000 + 2000, { min: 0, max: 900_000 }),
      // The schedule's interval (stages.config.json `sweeperSchedule`; locally LOCAL_SCHEDULE_SECONDS). A run keeps
      // taking idle evaluations as they come due for three quarters of it (the rest lets its last leads end before
      // the next tick), so a lead goes out at its time, not up to one interval later.
      takeForMs: intSetting(env, 'LEAD_SWEEP_INTERVAL_SECONDS', 60, { min: 1, max: 86_400 }) * 750,
    },
    scheduler: {
      // Older items are not activity: an import of hosted threads, or a stream record far behind (the stream keeps 24 h).
      maxActivityAgeSeconds: intSetting(env, 'LEAD_SCHEDULE_MAX_AGE_SECONDS', 86400, { min: 60, max: 3650 * 86400 }),
      // Threads evaluated at once in one batch (each may ask OpenAI for a summary): the batch size, so none waits for another.
      parallel: intSetting(env, 'LEAD_SCHEDULE_PARALLEL', 25, { min: 1, max: 50 }),
    },
  };
}

function emailSettings(env: Env) {
  const to = listSetting(env, 'LEAD_TO_EMAIL', ['victor@craigs.autos']);
  const from = stringSetting(env, 'LEAD_FROM_EMAIL', 'victor@craigs.autos');
  try {
    assertAddresses('To', to);
    assertAddresses('From', [from]);
  } catch {
    throw new ConfigError(
      'LEAD_TO_EMAIL/LEAD_FROM_EMAIL',
      'LEAD_TO_EMAIL (comma-separated) and LEAD_FROM_EMAIL must be plain email addresses',
    );
  }
  return { to, from };
}

function spoolQueueSetting(env: Env): string | null {
  const name = env.LEAD_SPOOL_QUEUE_NAME;
  if (!name) return null;
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(name))
    throw new ConfigError('LEAD_SPOOL_QUEUE_NAME', 'LEAD_SPOOL_QUEUE_NAME must be an SQS queue name');
  return name;
}
