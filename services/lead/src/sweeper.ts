import middy from '@middy/core';
import { intSetting, type SecretsContext } from '@lead-intake/config';
import { injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { HttpError } from '@lead-intake/http';
import { LedgerUnavailableError, nowSeconds, type Lease, type SpooledTrigger, type SpoolOutcome } from '@lead-intake/dedupe';
import { runLeadJob, type LeadSecrets } from './wiring';
import * as runtime from './runtime';
import { getLedger, loadLead, logger, metrics, requesterFor } from './runtime';

// The idle window (stages.config.json leadIdleSeconds), as the scheduler arms it.
const idleSeconds = intSetting(process.env, 'LEAD_IDLE_SECONDS', 600, { min: 1, max: 7 * 86400 });
// How many due records one run takes (each is one lead pipeline run, inside the 60 s timeout).
const batch = intSetting(process.env, 'LEAD_SWEEP_BATCH', 10, { min: 1, max: 100 });
// Lead runs at once within a sweep (idle evaluations arrive in bursts; each is mostly waiting on I/O).
const parallel = intSetting(process.env, 'LEAD_SWEEP_PARALLEL', 5, { min: 1, max: 25 });
// A spooled trigger (or another page of idle evaluations) is started only with this much of the run left (one lead run fits in it).
const spoolReserveMs = intSetting(
  process.env,
  'LEAD_SPOOL_RESERVE_MS',
  (Number(process.env.LEAD_FUNCTION_TIMEOUT_SECONDS) || 30) * 1000 + 2000,
  { min: 0, max: 900_000 },
);

/**
 * An idle evaluation whose conversation is not idle after all: the schedule armed it from an
 * earlier turn, and the newer turn's re-arm is still on its way (the scheduler behind, under load).
 * Evaluating now would send the lead while the customer is still talking: let go and arm it again
 * from the newest activity. Answers whether it did (false: evaluate, e.g. a strong trigger arrived).
 */
async function stillActive(lease: Lease): Promise<boolean> {
  // Only the server's own arm: a browser's `idle` (or any trigger recorded on a due record) is
  // what someone asked for, and is evaluated now.
  if (!lease.armed || lease.effectiveReason !== 'idle') return false;
  const wiring = await loadLead();
  const last = await wiring.lastActivityAt(runtime, lease.threadId);
  if (last === null || last + idleSeconds <= nowSeconds()) return false;
  const ledger = getLedger();
  const released = await ledger.release(lease, lease.cached ?? { evalState: '' });
  if (released.kind === 'pending') return false; // a strong trigger came meanwhile: it is served now
  if (released.kind === 'released') {
    const owner = await wiring.threadOwner(runtime, lease.threadId);
    if (owner) await ledger.scheduleIdle(lease.threadId, { owner, activityAt: last, idleAt: last + idleSeconds });
  }
  logger.info('sweeper: the conversation is still active; its idle evaluation is armed again', {
    threadId: lease.threadId,
    source: 'sweeper',
    idleInSeconds: last + idleSeconds - nowSeconds(),
  });
  return true;
}

/**
 * One spooled trigger, as the endpoint would have run it: the owner proven before anything is
 * written, the ledger's answer, then the pipeline. `retry` when the ledger is down again.
 */
async function runSpooled(t: SpooledTrigger, secrets: LeadSecrets, remainingMs: () => number): Promise<SpoolOutcome> {
  const log = { threadId: t.threadId, trigger: t.reason, source: 'spool', waitedMs: Date.now() - t.at };
  const { threadId, user, pageUrl } = t;
  const requester = requesterFor(runtime, secrets.OPENAI_API_KEY!, threadId, user);
  let outcome;
  try {
    outcome = await getLedger().runTrigger(
      t.threadId,
      t.reason,
      requester,
      async (lease) => {
        const answer = await runLeadJob(runtime, { threadId, user, pageUrl, lease }, secrets, remainingMs(), {
          trigger: t.reason,
          source: 'spool',
        });
        logger.info('sweeper ran a spooled trigger', { ...log, answer: answer.reason });
      },
      pageUrl,
    );
  } catch (e) {
    if (e instanceof LedgerUnavailableError) return 'retry';
    throw e;
  }
  if (outcome.kind === 'not_owner') logger.warn('spooled trigger refused: not the thread’s owner, or no such thread', log);
  else if (outcome.kind === 'busy') logger.info('spooled trigger answered by the ledger', { ...log, answer: outcome.reason });
  else if (outcome.kind === 'failed') {
    // The ledger recorded the failed attempt (or the lease will expire): the due sweep owns it now.
    if (outcome.status === 'failed') metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
    const e = outcome.error;
    if (e instanceof HttpError && e.statusCode === 404) logger.warn('spooled trigger: thread no longer exists', log);
    else
      logger.error('spooled trigger failed; recorded on the ledger for retry', {
        ...log,
        errorName: (e as Error)?.name,
        ledgerStatus: outcome.status,
      });
  }
  return 'done';
}

/**
 * The ledger sweeper, on a schedule: finishes the work nobody will call again for (an abandoned
 * lease, a recorded pagehide whose holder died, an error past its cooldown) through the same
 * pipeline, fencing and send-once guarantee as the endpoint. It never takes a live lease.
 * Then it drains the trigger spool (triggers kept while DynamoDB was down), which it reaches only
 * once the due query has shown that the ledger answers again.
 */
export const handler = middy<unknown, unknown, Error, SecretsContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(runtime.leadSecrets())
  .handler(async (_event, context) => {
    const secrets = context.secrets;
    const result = await getLedger().sweep(
      async (lease) => {
        const log = { threadId: lease.threadId, trigger: lease.effectiveReason, source: 'sweeper' };
        if (await stillActive(lease)) return;
        try {
          const answer = await runLeadJob(
            runtime,
            // The page the browser named when it triggered (kept on the record); self-hosted threads also keep their own.
            { threadId: lease.threadId, user: null, pageUrl: lease.pageUrl, lease },
            secrets,
            context.getRemainingTimeInMillis(),
            { trigger: lease.effectiveReason, source: 'sweeper' },
          );
          logger.info('sweeper finished a record', { ...log, answer: answer.reason });
        } catch (e) {
          if (e instanceof HttpError && e.statusCode === 404) {
            logger.warn('sweeper: thread no longer exists; record released', log);
            return;
          }
          throw e;
        }
      },
      { limit: batch, parallel, more: () => context.getRemainingTimeInMillis() > spoolReserveMs },
    );
    if (result.due) metrics.addMetric('SweeperProcessed', MetricUnit.Count, result.processed);
    let spool;
    if (runtime.spool) {
      spool = await runtime.spool.drain((t) => runSpooled(t, secrets, () => context.getRemainingTimeInMillis()), {
        more: () => context.getRemainingTimeInMillis() > spoolReserveMs,
        onInvalid: (messageId) => logger.error('spool: a message that is not a trigger was dropped', { messageId }),
      });
      if (spool.received) metrics.addMetric('SpoolDrained', MetricUnit.Count, spool.done);
    }
    logger.info('sweep done', { ...result, spool });
    return { ...result, spool };
  });
