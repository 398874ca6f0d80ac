/**
 * The lead pipeline (@lead-intake/lead-pipeline `runLead`) wired to this instance: its clients,
 * settings, logs and metrics. Loaded lazily (runtime `loadLead`) after the ledger's fast path, so
 * a duplicate trigger never pays for OpenAI, zod, libphonenumber or SES.
 */
import OpenAI from 'openai';
import { ISSUED_USER_ID } from '@lead-intake/chat-auth';
import { ContactIndex } from '@lead-intake/dedupe';
import { runLead, type LeadAnswer, type LeadJob, type LeadPorts } from '@lead-intake/lead-pipeline';
import { MetricUnit } from '@lead-intake/observability';
import { openaiClientCache, type ClientBudget } from '@lead-intake/openai-client';
import { signedLink } from '@lead-intake/attachments';
import {
  ChannelError,
  createSmsClient,
  deliverWebhook,
  leadDocument,
  leadSmsText,
  sendSms,
  smsDeliveryKey,
  webhookId,
  webhookKey,
  type LeadAlert,
} from '@lead-intake/alerts';
import type { Delivery } from '@lead-intake/lead-pipeline';
import type { Lease } from '@lead-intake/dedupe';
import { createSesClient, sendEmail } from '@lead-intake/ses-mailer';
import { loadShopProfile } from '@lead-intake/shop-hours';
import { StoreTranscriptSource, DynamoThreadStore } from '@lead-intake/thread-store';
import { DailyBudget } from '@lead-intake/usage-limits';
import { FallbackTranscriptSource, HostedChatKitSource, type TranscriptSource } from '@lead-intake/transcript';
import type * as Runtime from './runtime';

// This module keeps no state: the instance's settings, ledger and clients come in as `rt`.
type Rt = typeof Runtime;

const openai = (rt: Rt, apiKey: string, b: ClientBudget) => (rt.clients.openai ??= openaiClientCache())(apiKey, b);
const threadStore = (rt: Rt) => (rt.clients.threadStore ??= new DynamoThreadStore({ tableName: rt.chatThreadsTable! }));

function transcriptSource(rt: Rt, apiKey: string): TranscriptSource {
  const hosted = new HostedChatKitSource(openai(rt, apiKey, rt.settings.threads));
  if (rt.chatkitMode !== 'self-hosted') return hosted;
  // Self-hosted threads first; one never imported is read from the hosted API (migration period).
  return new FallbackTranscriptSource(new StoreTranscriptSource(threadStore(rt)), hosted);
}

/**
 * The day's summaries (one conditional write per summary: a summary is a model call of seconds).
 * Past the ceiling a lead goes out without one (counted: SummaryBudgetAlarm); the counter
 * unreachable does not hold a lead back (logged).
 */
function summaryBudget(rt: Rt): LeadPorts['summaryBudget'] {
  const { table, perDay } = rt.settings.summaryBudget;
  if (!table) return undefined;
  const budget = (rt.clients.summaryBudget ??= new DailyBudget({ tableName: table, key: 'summaries#day', ceiling: perDay, block: 1 }));
  return {
    take: async () => {
      try {
        const got = await budget.take();
        if (!got.ok) rt.metrics.addMetric('SummariesOverBudget', MetricUnit.Count, 1);
        return got.ok;
      } catch (e) {
        rt.logger.warn('summary budget unavailable; summarized anyway', { errorName: (e as Error)?.name });
        return true;
      }
    },
  };
}

/** The owner of a self-hosted thread (read from the thread itself), or null: no such thread. */
export const threadOwner = (rt: Rt, threadId: string): Promise<string | null> => threadStore(rt).threadOwner(threadId);

/** When the conversation last had activity (its newest item, epoch seconds); null without a thread or items. */
export async function lastActivityAt(rt: Rt, threadId: string): Promise<number | null> {
  const page = await threadStore(rt)
    .loadThreadItems(threadId, { order: 'desc', limit: 1 })
    .catch((e) => {
      if ((e as Error)?.name === 'NotFoundError') return null;
      throw e;
    });
  const at = page?.data[0]?.created_at;
  return at ? Math.floor(Date.parse(at) / 1000) : null;
}

/**
 * Whether `user` owns the thread, read from the conversation itself (before any ledger write):
 * the self-hosted store; a thread not there is a hosted one only for a user that is not
 * server-issued (those never had hosted threads), so an unknown id costs no OpenAI call.
 */
export async function ownsThread(rt: Rt, apiKey: string, threadId: string, user: string): Promise<boolean> {
  if (rt.chatkitMode === 'self-hosted') {
    const owner = await threadStore(rt).threadOwner(threadId);
    if (owner) return owner === user;
    if (ISSUED_USER_ID.test(user)) return false;
  }
  const owners = (rt.clients.hostedOwners ??= new Map());
  const now = Date.now();
  let known = owners.get(threadId);
  if (!known || known.until < now) {
    let owner: string | null = null;
    try {
      owner = (await openai(rt, apiKey, rt.settings.threads).beta.chatkit.threads.retrieve(threadId)).user ?? null;
    } catch (e) {
      if (!(e instanceof OpenAI.NotFoundError)) throw e;
    }
    known = { owner, until: now + 10 * 60_000 };
    owners.set(threadId, known);
    if (owners.size > 5000) owners.delete(owners.keys().next().value!);
  }
  return known.owner === user;
}

/**
 * Runs one job for a lease holder (the endpoint, the sweeper, a spooled trigger); an unknown
 * thread (or another user's) is a ThreadNotFoundError, answered 404. `log` names where it came from.
 */
export function runLeadJob(
  rt: Rt,
  job: LeadJob,
  secrets: LeadSecrets,
  remainingMs: number,
  log: { trigger: string; source?: string },
): Promise<LeadAnswer> {
  return runLead(job, leadPorts(rt, secrets, remainingMs, { threadId: job.threadId, ...log }));
}

/** The invocation's secrets: the OpenAI key, and (self-hosted) the token secret that also signs the email's file links. */
export interface LeadSecrets {
  OPENAI_API_KEY?: string;
  CHATKIT_TOKEN_SECRET?: string;
}

/** The steps' ports for one invocation; `remainingMs` is the invocation's time left. */
function leadPorts(rt: Rt, secrets: LeadSecrets, remainingMs: number, log: Record<string, unknown>): LeadPorts {
  const { settings, logger, metrics } = rt;
  const apiKey = secrets.OPENAI_API_KEY!;
  const { filesUrl, linkDays } = settings.attachments;
  const linkSecret = secrets.CHATKIT_TOKEN_SECRET;
  const { table: contactsTable, windowSeconds } = settings.contacts;
  // Keyed with a stage secret: the token secret (self-hosted), else the OpenAI key (hosted).
  const contactKey = secrets.CHATKIT_TOKEN_SECRET ?? secrets.OPENAI_API_KEY;
  const followUps =
    contactsTable && contactKey
      ? (rt.clients.contactIndex ??= new ContactIndex({ tableName: contactsTable, key: contactKey, windowSeconds }))
      : undefined;
  return {
    followUps,
    alerts: (alert, lease) => alertDeliveries(rt, alert, lease),
    fileLink:
      filesUrl && linkSecret
        ? (threadId, attachmentId) =>
            signedLink(filesUrl, linkSecret, { threadId, attachmentId, expires: Math.floor(Date.now() / 1000) + linkDays * 86400 })
        : undefined,
    ledger: rt.getLedger(),
    source: transcriptSource(rt, apiKey),
    openai: openai(rt, apiKey, settings.summary),
    summaryBudget: summaryBudget(rt),
    profile: loadShopProfile(),
    model: settings.model,
    // Whatever OpenAI does, LEAD_SEND_RESERVE_MS stays for the email and the ledger write.
    signal: AbortSignal.timeout(Math.max(1, remainingMs - settings.sendReserveMs)),
    deadline: Date.now() + remainingMs - 500,
    send: (email, replyTo) =>
      sendEmail(
        (rt.clients.ses ??= createSesClient()),
        {
          from: settings.from,
          to: settings.to,
          replyTo: replyTo ? [replyTo] : [],
          subject: email.subject,
          text: email.text,
          html: email.html,
        },
        { signal: AbortSignal.timeout(settings.sesTimeoutMs) },
      ),
    hooks: {
      evaluated: (ev, effective) => {
        const summaryFailure = ev.summary && !ev.summary.ok ? ev.summary.failure : undefined;
        // Summaries asked of the model (failed ones too): the denominator of SummaryFailureRateAlarm.
        // One not asked for the day's budget is neither (SummariesOverBudget counts it).
        if (ev.summary && !ev.summaryFromCache && summaryFailure !== 'over_budget') {
          metrics.addMetric('Summaries', MetricUnit.Count, 1);
          if (summaryFailure) metrics.addMetric('SummaryFailures', MetricUnit.Count, 1);
        }
        logger.info('lead evaluated', {
          ...log,
          effectiveTrigger: effective,
          decision: ev.decision,
          urgency: ev.summary?.ok ? ev.summary.summary.urgency : undefined,
          leadKind: ev.summary?.ok ? ev.summary.summary.lead_kind : undefined,
          lines: ev.transcript.lines.length,
          phones: ev.contacts.phones.length,
          emails: ev.contacts.emails.length,
          summaryFromCache: ev.summaryFromCache,
          summaryFailure,
        });
      },
      sent: (messageId, recorded) => {
        metrics.addMetric('LeadsSent', MetricUnit.Count, 1);
        if (recorded) logger.info('lead sent', { ...log, messageId });
        else
          logger.warn('lead sent but the ledger could not record it (lease lost or DynamoDB error): one duplicate is possible', {
            ...log,
            messageId,
          });
      },
      sendFailed: (e, status) => {
        metrics.addMetric('SesFailures', MetricUnit.Count, 1);
        if (status === 'failed') metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
        logger.error('lead email failed', { ...log, sesError: e.sesError, ledgerStatus: status });
      },
      transcriptFailed: (e) =>
        logger.error('transcript unavailable; recorded for retry', {
          ...log,
          errorName: (e as Error)?.name,
          status: (e as { status?: number })?.status,
        }),
      leaseLost: () => logger.warn('lease lost before release', log),
      delivered: (channel, id, recorded) => {
        metrics.addMetric('AlertsSent', MetricUnit.Count, 1);
        if (recorded) logger.info('alert delivered', { ...log, channel, id });
        else logger.warn('alert delivered but the ledger could not record it: one duplicate is possible', { ...log, channel, id });
      },
      deliveryFailed: (channel, code, status) => {
        metrics.addMetric('AlertFailures', MetricUnit.Count, 1);
        if (status === 'failed') metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
        logger.error('alert failed; retried without resending the others', { ...log, channel, code, ledgerStatus: status });
      },
      followUpFailed: (e, step) => {
        metrics.addMetric('FollowUpLookupFailures', MetricUnit.Count, 1);
        logger.warn('follow-up index unavailable; the lead is treated as new', { ...log, step, errorName: (e as Error)?.name });
      },
    },
  };
}

/**
 * The stage's channels beside the email for one lead: a text to each owner phone (each its own
 * delivery) and the webhook, each only for the leads it takes (all, or urgent ones).
 */
function alertDeliveries(rt: Rt, alert: LeadAlert, lease: Lease): Delivery[] {
  const { sms, webhook } = rt.settings.alerts;
  const wants = (leads: 'all' | 'urgent') => leads === 'all' || alert.urgent;
  const out: Delivery[] = [];
  if (sms && wants(sms.leads)) {
    const text = leadSmsText(alert);
    for (const to of sms.to)
      out.push({
        key: smsDeliveryKey(to),
        channel: 'sms',
        send: async () =>
          sendSms(await (rt.clients.sms ??= createSmsClient()), {
            originationIdentity: sms.originationIdentity,
            to,
            text,
            timeoutMs: sms.timeoutMs,
          }),
      });
  }
  if (webhook && wants(webhook.leads)) {
    // The same id for every retry of this lead: a receiver that saw it drops the repeat.
    const id = webhookId(alert.threadId, lease.createdAt, lease.resendSeq);
    out.push({
      key: 'webhook',
      channel: 'webhook',
      send: async () => {
        const secret = await webhookSecret(rt);
        await deliverWebhook(
          { url: webhook.url, secret, timeoutMs: webhook.timeoutMs },
          id,
          JSON.stringify(leadDocument(alert, new Date())),
        );
        return id;
      },
    });
  }
  return out;
}

/**
 * The webhook's signing secret: SSM `<SECRETS_SSM_PATH>LEAD_WEBHOOK_SECRET` when deployed (read
 * when a webhook is first sent, not with the other secrets: a missing one fails the webhook alone,
 * never the email), the environment locally.
 */
async function webhookSecret(rt: Rt): Promise<string> {
  const kept = rt.clients.webhookSecret;
  if (kept && kept.until > Date.now()) return kept.value;
  const path = process.env.SECRETS_SSM_PATH;
  let value: string | undefined;
  if (!path) value = process.env.LEAD_WEBHOOK_SECRET;
  else {
    const { SSMClient, GetParametersCommand } = await import('@aws-sdk/client-ssm');
    try {
      const out = await new SSMClient({ maxAttempts: 2 }).send(
        new GetParametersCommand({ Names: [`${path.endsWith('/') ? path : `${path}/`}LEAD_WEBHOOK_SECRET`], WithDecryption: true }),
      );
      value = out.Parameters?.[0]?.Value;
    } catch (e) {
      throw new ChannelError('webhook', 'secret_unavailable', { cause: e });
    }
  }
  if (!value) throw new ChannelError('webhook', 'secret_missing');
  try {
    webhookKey(value);
  } catch {
    throw new ChannelError('webhook', 'secret_invalid');
  }
  rt.clients.webhookSecret = { value, until: Date.now() + 15 * 60_000 };
  return value;
}
