import middy from '@middy/core';
import type { SecretsContext } from '@lead-intake/config';
import {
  LedgerUnavailableError,
  type DrainResult,
  nowSeconds,
  parseRequestKey,
  type Lease,
  type SpooledTrigger,
  type SpoolOutcome,
} from '@lead-intake/ledger';
import { injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { lead } from './instance';
import { ThreadNotFoundError } from '@lead-intake/transcript/errors';
import type { Transcript } from '@lead-intake/transcript';
import { reportHeld } from './outcome';
import type { LeadSecrets } from './pipeline';

const { logger, metrics, settings } = lead;

/**
 * An idle evaluation whose conversation is not idle after all: the schedule armed it from an
 * earlier turn, and the newer turn's re-arm is still on its way (the scheduler behind, under load).
 * Evaluating now would send the lead while the customer is still talking: let go and arm it again
 * from the newest activity. Asked by the pipeline once it has read the thread (no read of its own);
 * answers whether it let go (false: evaluate, e.g. a strong trigger arrived).
 */
async function stillActive(lease: Lease, transcript: Transcript): Promise<boolean> {
  // Only the server's own arm: a browser's `idle` (or any trigger recorded on a due record) is
  // what someone asked for, and is evaluated now.
  if (!lease.armed || lease.effectiveReason !== 'idle') return false;
  const last = transcript.lastActivityAt;
  if (last === null || last + settings.idleSeconds <= nowSeconds()) return false;
  const ledger = lead.ledger();
  const released = await ledger.release(lease, lease.cached ?? { evalState: '' });
  if (released.kind === 'pending') return false; // a strong trigger came meanwhile: it is served now
  if (released.kind === 'released' && transcript.user)
    await ledger.scheduleIdle(lease.threadId, { owner: transcript.user, activityAt: last, idleAt: last + settings.idleSeconds });
  logger.info('sweeper: the conversation is still active; its idle evaluation is armed again', {
    threadId: lease.threadId,
    source: 'sweeper',
    idleInSeconds: last + settings.idleSeconds - nowSeconds(),
  });
  return true;
}

/**
 * One spooled trigger, as the endpoint would have run it: the owner proven before anything is
 * written, the ledger's answer, then the pipeline. `retry` when the ledger is down again.
 */
async function runSpooled(t: SpooledTrigger, secrets: LeadSecrets, remainingMs: () => number): Promise<SpoolOutcome> {
  const { threadId, user, pageUrl, reason } = t;
  const log = { threadId, trigger: reason, waitedMs: Date.now() - t.at };
  try {
    const outcome = await lead
      .ledger()
      .runHeld(threadId, reason, { requester: lead.requester(secrets.OPENAI_API_KEY!, threadId, user), pageUrl }, async (lease) =>
        (await lead.pipeline()).run({ threadId, user, pageUrl, lease }, secrets, remainingMs(), { trigger: reason, source: 'spool' }),
      );
    // Failed: recorded on the ledger (or its lease expires): the due sweep owns it now.
    reportHeld(lead, 'spool', log, outcome);
  } catch (e) {
    if (e instanceof LedgerUnavailableError) return 'retry';
    throw e;
  }
  return 'done';
}

/**
 * The ledger sweeper, on a schedule: finishes the work nobody will call again for (an abandoned
 * lease, a recorded pagehide whose holder died, an error past its cooldown) and runs the idle
 * evaluations as they come due during its run, through the same held run, pipeline and send-once
 * guarantee as the endpoint, a few at once (packages/ledger/src/sweep.ts). It never takes a live lease.
 * Beside them it drains the trigger spool (triggers kept while DynamoDB was down), which it starts
 * only once the due query has shown that the ledger answers again.
 */
export const handler = middy<unknown, unknown, Error, SecretsContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(lead.secrets())
  .handler(async (_event, context) => {
    const secrets = context.secrets;
    const more = () => context.getRemainingTimeInMillis() > settings.sweeper.reserveMs;
    const triggers = new Map<string, string>();
    // The spool is drained beside the idle evaluations once the due query has shown the ledger
    // answers: a trigger kept during an outage does not wait behind the run's window.
    let draining: Promise<DrainResult> | undefined;
    const drain = () => {
      draining = lead.spool!.drain((t) => runSpooled(t, secrets, () => context.getRemainingTimeInMillis()), {
        more,
        onInvalid: (messageId) => logger.error('spool: a message that is not a trigger was dropped', { messageId }),
      });
      draining.catch(() => undefined); // awaited below; not unhandled while the sweep still runs
    };
    const runLease = async (lease: Lease) => {
      triggers.set(lease.threadId, lease.effectiveReason);
      // A request's update (its own record): retried here like a lead.
      const update = parseRequestKey(lease.threadId);
      if (update)
        return (await lead.pipeline()).update({ ...update, lease }, secrets, context.getRemainingTimeInMillis(), { source: 'sweeper' });
      try {
        // The page the browser named when it triggered (kept on the record); self-hosted threads also keep their own.
        const job = {
          threadId: lease.threadId,
          user: null,
          pageUrl: lease.pageUrl,
          lease,
          stillActive: (t: Transcript) => stillActive(lease, t),
        };
        return await (
          await lead.pipeline()
        ).run(job, secrets, context.getRemainingTimeInMillis(), { trigger: lease.effectiveReason, source: 'sweeper' });
      } catch (e) {
        // The conversation was deleted: its record is released (runLead did), which is the sweep's job done.
        if (!(e instanceof ThreadNotFoundError)) throw e;
        logger.warn('sweeper: the thread no longer exists; record released', { threadId: lease.threadId, source: 'sweeper' });
        return undefined;
      }
    };
    const swept = lead.ledger().sweep(runLease, {
      limit: settings.sweeper.batch,
      parallel: settings.sweeper.parallel,
      takeForMs: settings.sweeper.takeForMs,
      afterDue: lead.spool ? drain : undefined,
      more,
      onOutcome: (threadId, outcome) =>
        reportHeld(lead, 'sweeper', { threadId, trigger: triggers.get(threadId) ?? 'auto' }, outcome as Parameters<typeof reportHeld>[3]),
    });
    // The ledger failed: the drain (if it started) ends before the invocation does.
    const result = await swept.catch(async (e: unknown) => {
      await draining?.catch(() => undefined);
      throw e;
    });
    if (result.due) metrics.addMetric('SweeperProcessed', MetricUnit.Count, result.processed);
    const spool = await draining;
    if (spool?.received) metrics.addMetric('SpoolDrained', MetricUnit.Count, spool.done);
    logger.info('sweep done', { ...result, spool });
    return { ...result, spool };
  });
