import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { HttpError, jsonResponse } from '@lead-intake/http';
import type { Ledger, Lease, Requester } from './ledger';
import type { LedgerRecord } from './record';
import { LedgerUnavailableError } from './store';

export interface LedgerContext extends Context {
  lease: Lease;
}

export interface SendOnceOptions<C extends Context> {
  ledger: () => Ledger;
  /** The thread and trigger of this request (from the validated body), and who asks (checked before anything is written). */
  subject: (context: C) => { threadId: string; reason: string; requester?: Requester; pageUrl?: string | null };
  /** Told about every request the ledger answers itself (metrics, logs). */
  onBusy?: (reason: string, record: LedgerRecord, context: C) => void;
  /**
   * The ledger could not take the trigger. Answer a response to end the request with it (the
   * trigger was kept elsewhere, e.g. spooled); answer nothing to refuse it with 503.
   */
  onUnavailable?: (error: LedgerUnavailableError, context: C) => unknown | Promise<unknown>;
  /** The attempt crashed; `status` is what the ledger recorded (`failed` after the last attempt), if it could. */
  onCrash?: (error: unknown, context: C, status?: 'error' | 'failed') => void;
}

/**
 * The send-once step. `before` takes the thread's lease with one conditional write, or ends the
 * chain with the ledger's own answer: `already_sent` (the fast path: no transcript, no OpenAI),
 * `in_progress`, `cooldown`, `failed`. If the handler then throws while holding the lease, the
 * attempt is recorded as an error so a later trigger or the sweeper retries it.
 */
export function sendOnce<C extends Context & Partial<LedgerContext>>(opts: SendOnceOptions<C>): MiddlewareObj<unknown, unknown, Error, C> {
  return {
    before: async function sendOnceBefore(request) {
      const { threadId, reason, requester, pageUrl } = opts.subject(request.context);
      let result;
      try {
        result = await opts.ledger().acquire(threadId, reason, { requester, pageUrl });
      } catch (e) {
        if (e instanceof LedgerUnavailableError) {
          // Fail closed: without the ledger we cannot promise one email, so nothing is run now; the
          // trigger is either kept (the spool) or refused with 503 for the client to retry.
          const kept = await opts.onUnavailable?.(e, request.context);
          if (kept !== undefined) return kept;
          throw new HttpError(
            503,
            'The lead ledger is unavailable; retry in a few seconds.',
            'ledger_unavailable',
            { 'retry-after': '5' },
            { cause: e, expose: true },
          );
        }
        throw e;
      }
      // Not the caller's thread (or no such thread): refused before anything is written or told.
      if (result.kind === 'not_owner') throw new HttpError(404, 'Thread not found.', 'thread_not_found');
      if (result.kind === 'busy') {
        opts.onBusy?.(result.reason, result.record, request.context);
        return jsonResponse(200, { sent: result.reason === 'already_sent', reason: result.reason });
      }
      request.context.lease = result.lease;
    },
    onError: async function sendOnceOnError(request) {
      const lease = request.context.lease;
      if (!lease || lease.finished) return;
      let status: 'error' | 'failed' | undefined;
      try {
        status = (await opts.ledger().markError(lease, `crash:${request.error?.name ?? 'Error'}`)).status;
      } catch {
        // The lease will expire and the sweeper will pick the record up.
      }
      opts.onCrash?.(request.error, request.context, status);
    },
  };
}
