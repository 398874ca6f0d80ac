/**
 * The lead pipeline as the endpoint and the sweeper run it. Loaded lazily by the endpoint (after
 * the ledger's fast path), so a duplicate trigger never pays for OpenAI, zod, libphonenumber or SES.
 */
import OpenAI from 'openai';
import { ISSUED_USER_ID } from '@lead-intake/chat-auth';
import { HttpError } from '@lead-intake/http';
import type { Lease } from '@lead-intake/dedupe';
import { processLead, type LeadAnswer, type LeadRequest, type ProcessDeps } from '@lead-intake/lead-pipeline';
import { MetricUnit } from '@lead-intake/observability';
import { openaiClientCache, type ClientBudget } from '@lead-intake/openai-client';
import { createSesClient, sendEmail } from '@lead-intake/ses-mailer';
import { loadShopProfile } from '@lead-intake/shop-hours';
import { StoreTranscriptSource, DynamoThreadStore } from '@lead-intake/thread-store';
import { FallbackTranscriptSource, HostedChatKitSource, ThreadNotFoundError, type TranscriptSource } from '@lead-intake/transcript';
import type * as Runtime from './runtime';

// This module keeps no state: the instance's settings, ledger and clients come in as `rt`.
type Rt = typeof Runtime;

/** The instance's OpenAI clients (kept in the runtime module, which holds per-instance state). */
const openai = (rt: Rt, apiKey: string, b: ClientBudget) => rt.memo('openai', openaiClientCache)(apiKey, b);

function transcriptSource(rt: Rt, apiKey: string): TranscriptSource {
  const hosted = new HostedChatKitSource(openai(rt, apiKey, rt.settings.threads));
  if (rt.chatkitMode !== 'self-hosted') return hosted;
  const store = rt.memo('threadStore', () => new DynamoThreadStore({ tableName: rt.chatThreadsTable! }));
  // Self-hosted threads first; one never imported is read from the hosted API (migration period).
  return new FallbackTranscriptSource(new StoreTranscriptSource(store), hosted);
}

/** Hosted threads' owners (or null: no such thread), kept a while: unknown ids do not reach OpenAI every time. */
const hostedOwners = new Map<string, { owner: string | null; until: number }>();

/**
 * Whether `user` owns the thread, read from the conversation itself (before any ledger write):
 * the self-hosted store; a thread not there is a hosted one only for a user that is not
 * server-issued (those never had hosted threads), so an unknown id costs no OpenAI call.
 */
export async function ownsThread(rt: Rt, apiKey: string, threadId: string, user: string): Promise<boolean> {
  if (rt.chatkitMode === 'self-hosted') {
    const owner = await rt.memo('threadStore', () => new DynamoThreadStore({ tableName: rt.chatThreadsTable! })).threadOwner(threadId);
    if (owner) return owner === user;
    if (ISSUED_USER_ID.test(user)) return false;
  }
  const now = Date.now();
  let known = hostedOwners.get(threadId);
  if (!known || known.until < now) {
    let owner: string | null = null;
    try {
      owner = (await openai(rt, apiKey, rt.settings.threads).beta.chatkit.threads.retrieve(threadId)).user ?? null;
    } catch (e) {
      if (!(e instanceof OpenAI.NotFoundError)) throw e;
    }
    known = { owner, until: now + 10 * 60_000 };
    hostedOwners.set(threadId, known);
    if (hostedOwners.size > 5000) hostedOwners.delete(hostedOwners.keys().next().value!);
  }
  return known.owner === user;
}

/** Runs the pipeline for a lease holder; an unknown thread (or another user's) becomes a 404. */
export async function runLead(rt: Rt, req: LeadRequest, lease: Lease, apiKey: string, remainingMs: number, log: Record<string, unknown>): Promise<LeadAnswer> {
  try {
    return await processLead(req, lease, processDeps(rt, apiKey, remainingMs, log));
  } catch (e) {
    if (e instanceof ThreadNotFoundError) throw new HttpError(404, 'Thread not found.', 'thread_not_found');
    throw e;
  }
}

/** The pipeline's dependencies for one invocation; `remainingMs` is the invocation's time left. */
export function processDeps(rt: Rt, apiKey: string, remainingMs: number, log: Record<string, unknown>): ProcessDeps {
  const { settings, logger, metrics } = rt;
  return {
    ledger: rt.getLedger(),
    source: transcriptSource(rt, apiKey),
    openai: openai(rt, apiKey, settings.summary),
    profile: loadShopProfile(),
    model: settings.model,
    // Whatever OpenAI does, LEAD_SEND_RESERVE_MS stays for the email and the ledger write.
    signal: AbortSignal.timeout(Math.max(1, remainingMs - settings.sendReserveMs)),
    deadline: Date.now() + remainingMs - 500,
    send: (email, replyTo) =>
      sendEmail(rt.memo('ses', createSesClient), { from: settings.from, to: settings.to, replyTo: replyTo ? [replyTo] : [], subject: email.subject, text: email.text, html: email.html }, { signal: AbortSignal.timeout(settings.sesTimeoutMs) }),
    hooks: {
      evaluated: (ev, effective) => {
        const summaryFailure = ev.kind === 'no_contact' || ev.summary.ok ? undefined : ev.summary.failure;
        if (summaryFailure) metrics.addMetric('SummaryFailures', MetricUnit.Count, 1);
        logger.info('lead evaluated', {
          ...log,
          effectiveTrigger: effective,
          decision: ev.kind,
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
        else logger.warn('lead sent but the ledger could not record it (lease lost or DynamoDB error): one duplicate is possible', { ...log, messageId });
      },
      sendFailed: (e, status) => {
        metrics.addMetric('SesFailures', MetricUnit.Count, 1);
        if (status === 'failed') metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
        logger.error('lead email failed', { ...log, sesError: e.sesError, ledgerStatus: status });
      },
      transcriptFailed: (e) => logger.error('transcript unavailable; recorded for retry', { ...log, errorName: (e as Error)?.name, status: (e as { status?: number })?.status }),
      leaseLost: () => logger.warn('lease lost before release', log),
    },
  };
}
