import type { Lease, Ledger } from '@lead-intake/dedupe';
import type { RenderedEmail } from '@lead-intake/email-template';
import { LeadSummarySchema } from '@lead-intake/lead-summary';
import { EmailSendError } from '@lead-intake/ses-mailer';
import { ThreadNotFoundError, type Transcript } from '@lead-intake/transcript';
import { evaluateLead, transcriptState, type EvaluateDeps, type Evaluation, type LeadAnswer, type SummaryResult } from './pipeline';
import type { LeadReason, LeadRequest } from './request';

export interface ProcessHooks {
  evaluated?(e: Evaluation & { summaryFromCache: boolean }, effectiveReason: string): void;
  sent?(messageId: string, recorded: boolean): void;
  sendFailed?(error: EmailSendError, status: 'error' | 'failed'): void;
  transcriptFailed?(error: unknown): void;
  leaseLost?(stage: 'release'): void;
}

export interface ProcessDeps extends Omit<EvaluateDeps, 'cachedSummary'> {
  ledger: Ledger;
  /** Sends the email; returns SES's MessageId or throws EmailSendError. */
  send(email: RenderedEmail, replyTo: string | null): Promise<string>;
  signal?: AbortSignal;
  /** When the invocation must be done (epoch ms): how long recording a sent email may be retried. */
  deadline?: number;
  hooks?: ProcessHooks;
}

/**
 * The email is out: recording it is worth waiting for through a short DynamoDB outage, because
 * once the lease expires another holder would send it again. Retried with backoff until the
 * lease (or the invocation) is about to end; `false` if it never got through or the lease was lost.
 */
async function recordSent(ledger: Ledger, lease: Lease, messageId: string, deadline = Infinity): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await ledger.markSent(lease, messageId);
    } catch {
      const wait = Math.min(200 * 2 ** attempt, 2000);
      if (Date.now() + wait >= Math.min(deadline, lease.expiresAt * 1000 - 1000)) return false;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** A summary already paid for on this exact transcript state, if the ledger remembers one. */
function cachedFor(lease: Lease, t: Transcript): SummaryResult | undefined {
  if (!lease.cached || lease.cached.evalState !== transcriptState(t)) return undefined;
  try {
    const parsed = LeadSummarySchema.safeParse(JSON.parse(lease.cached.summary));
    return parsed.success ? { ok: true, summary: parsed.data } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Everything a lease holder does: evaluate with the strongest trigger known, then send and mark
 * `sent`, or let go remembering what it evaluated. A strong trigger that arrives meanwhile makes
 * the release fail, and the holder evaluates again with it before letting go (no lost trigger).
 */
export async function processLead(req: LeadRequest, lease: Lease, deps: ProcessDeps): Promise<LeadAnswer> {
  const { ledger, hooks } = deps;
  for (let round = 0; round < 4; round++) {
    let ev;
    try {
      ev = await evaluateLead({ ...req, reason: lease.effectiveReason as LeadReason }, { ...deps, cachedSummary: (t) => cachedFor(lease, t) }, deps.signal);
    } catch (e) {
      if (e instanceof ThreadNotFoundError) {
        await ledger.release(lease, { evalState: 'not_found' });
        throw e;
      }
      // Unknown whether it qualifies: record an error so a retry (trigger or sweeper) reads it again.
      hooks?.transcriptFailed?.(e);
      await ledger.markError(lease, `transcript:${(e as Error)?.name ?? 'Error'}`);
      return { sent: false, reason: 'error' };
    }
    hooks?.evaluated?.(ev, lease.effectiveReason);
    const cache = { evalState: transcriptState(ev.transcript), summary: ev.kind !== 'no_contact' && ev.summary.ok ? JSON.stringify(ev.summary.summary) : undefined };
    // A re-evaluation in this invocation (a strong trigger arrived) reuses what was just paid for.
    if (cache.summary) lease.cached = { evalState: cache.evalState, summary: cache.summary };

    if (ev.kind === 'send') {
      // Never start a send on a lease that is about to expire: past it, another holder may send too.
      // (A live invocation cannot outrun its lease: the lease outlives the function timeout.)
      if (lease.expiresAt * 1000 - Date.now() < 1000) {
        await ledger.markError(lease, 'lease:expiring', cache);
        return { sent: false, reason: 'error' };
      }
      let messageId: string;
      try {
        messageId = await deps.send(ev.email, ev.replyTo);
      } catch (e) {
        if (!(e instanceof EmailSendError)) throw e;
        const marked = await ledger.markError(lease, `ses:${e.sesError}`, cache);
        hooks?.sendFailed?.(e, marked.status);
        return { sent: false, reason: 'error' };
      }
      // If it cannot be recorded before the lease ends, the record stays `sending` until the lease
      // expires: the documented at-least-once window (a later attempt may send one duplicate).
      const recorded = await recordSent(ledger, lease, messageId, deps.deadline);
      hooks?.sent?.(messageId, recorded);
      return { sent: true, reason: 'sent' };
    }

    const released = await ledger.release(lease, cache);
    if (released.kind === 'released') return { sent: false, reason: ev.kind };
    if (released.kind === 'lost') {
      hooks?.leaseLost?.('release');
      return { sent: false, reason: 'in_progress' };
    }
    // A strong trigger arrived while we evaluated: evaluate again with it (fresh transcript).
  }
  // Still busy after several rounds: keep the lease; it expires and the sweeper finishes the work.
  return { sent: false, reason: 'in_progress' };
}
