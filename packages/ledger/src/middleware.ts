import type { Context } from 'aws-lambda';
import { HttpError, jsonResponse } from '@lead-intake/http';
import type { HeldOutcome, Ledger, Lease, Requester } from './ledger';
import { LedgerUnavailableError } from './store';

export interface SendOnceOptions<C extends Context, R> {
  ledger: () => Ledger;
  /** The thread and trigger of this request (from the validated body), and who asks (checked before anything is written). */
  subject: (context: C) => { threadId: string; reason: string; requester?: Requester; pageUrl?: string | null };
  /** The lead, on the lease: its answer is the response's JSON body. */
  run: (lease: Lease, context: C) => Promise<R>;
  /** Every outcome (the run's answer, the ledger's own, a crash recorded for retry): for the logs and metrics. */
  onOutcome?: (outcome: HeldOutcome<R>, context: C) => void;
  /**
   * The ledger could not take the trigger. Answer a response to end the request with it (the
   * trigger was kept elsewhere, e.g. spooled); answer nothing to refuse it with 503.
   */
  onUnavailable?: (error: LedgerUnavailableError, context: C) => unknown | Promise<unknown>;
}

/**
 * The send-once step, as the endpoint chain's handler (after validation): `Ledger.runHeld` takes
 * the thread's lease with one conditional write, or answers with the ledger's own state
 * (`already_sent`, the fast path: no transcript, no OpenAI; `in_progress`, `cooldown`, `failed`).
 * On the lease it runs the lead; a crash is recorded as an error (a later trigger or the sweeper
 * retries it) and rethrown for the chain's error answer.
 */
export function sendOnce<C extends Context, R>(opts: SendOnceOptions<C, R>): (event: unknown, context: C) => Promise<any> {
  return async function sendOnceHandler(_event, context) {
    const { threadId, reason, requester, pageUrl } = opts.subject(context);
    let outcome;
    try {
      outcome = await opts.ledger().runHeld(threadId, reason, { requester, pageUrl }, (lease) => opts.run(lease, context));
    } catch (e) {
      if (!(e instanceof LedgerUnavailableError)) throw e;
      // Fail closed: without the ledger we cannot promise one email, so nothing is run now; the
      // trigger is either kept (the spool) or refused with 503 for the client to retry.
      const kept = await opts.onUnavailable?.(e, context);
      if (kept !== undefined) return kept;
      throw new HttpError(
        503,
        'The lead ledger is unavailable; retry in a few seconds.',
        'ledger_unavailable',
        { 'retry-after': '5' },
        {
          cause: e,
          expose: true,
        },
      );
    }
    opts.onOutcome?.(outcome, context);
    switch (outcome.kind) {
      case 'processed':
        return jsonResponse(200, outcome.value);
      case 'not_owner': // not the caller's thread (or no such thread): refused before anything is written or told
        throw new HttpError(404, 'Thread not found.', 'thread_not_found');
      case 'busy':
        return jsonResponse(200, { sent: outcome.reason === 'already_sent', reason: outcome.reason });
      case 'failed': // recorded for retry (`status`), answered by the chain's error step
        throw outcome.error;
    }
  };
}
