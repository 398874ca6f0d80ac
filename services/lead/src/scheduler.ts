import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { intSetting, type SecretsContext } from '@lead-intake/config';
import { LedgerUnavailableError, nowSeconds } from '@lead-intake/dedupe';
import { HttpError } from '@lead-intake/http';
import { injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { activityByThread, earliestFailure, type ThreadActivity } from './activity';
import type { LeadSecrets } from './wiring';
import * as runtime from './runtime';
import { getLedger, loadLead, logger, metrics } from './runtime';

// The idle window (stages.config.json leadIdleSeconds): an abandoned conversation is evaluated this long after its last activity.
const idleSeconds = intSetting(process.env, 'LEAD_IDLE_SECONDS', 600, { min: 1, max: 7 * 86400 });
// Older items are not activity: an import of hosted threads, or a stream record far behind (the stream keeps 24 h).
const maxActivityAgeSeconds = intSetting(process.env, 'LEAD_SCHEDULE_MAX_AGE_SECONDS', 86400, { min: 60, max: 3650 * 86400 });
// Threads evaluated at once in one batch (each may ask OpenAI for a summary).
const parallel = intSetting(process.env, 'LEAD_SCHEDULE_PARALLEL', 8, { min: 1, max: 50 });

/**
 * One conversation's activity: the idle evaluation (re)armed on the ledger first, so that nothing
 * after it can lose the schedule; then, after a completed assistant turn, an `auto` evaluation
 * through the same ledger and pipeline as a browser's `auto` (no contact: no summary; a summary
 * kept for this transcript state: not paid again). Throws only when the ledger or the thread store
 * cannot be reached: the batch is retried from this thread's first record.
 */
async function scheduleThread(t: ThreadActivity, secrets: LeadSecrets, remainingMs: () => number): Promise<void> {
  const log = { threadId: t.threadId, source: 'scheduler' };
  const wiring = await loadLead();
  const owner = await wiring.threadOwner(runtime, t.threadId);
  if (!owner) {
    logger.info('scheduler: the thread no longer exists', log);
    return;
  }
  const ledger = getLedger();
  const { armed } = await ledger.scheduleIdle(t.threadId, { owner, activityAt: t.activityAt, idleAt: t.activityAt + idleSeconds });
  if (armed) metrics.addMetric('IdleArmed', MetricUnit.Count, 1);
  if (!t.turnDone) return;
  // The owner comes from the thread itself (this is the server, not a request): nothing to prove.
  const outcome = await ledger.runTrigger(t.threadId, 'auto', { user: owner, verify: async () => true }, async (lease) => {
    const answer = await wiring.runLeadJob(runtime, { threadId: t.threadId, user: owner, pageUrl: null, lease }, secrets, remainingMs(), {
      trigger: 'auto',
      source: 'scheduler',
    });
    logger.info('scheduler evaluated a turn', { ...log, answer: answer.reason });
  });
  if (outcome.kind === 'busy') logger.info('scheduler: answered by the ledger', { ...log, answer: outcome.reason });
  else if (outcome.kind === 'not_owner') logger.warn('scheduler: the ledger record names another owner', log);
  else if (outcome.kind === 'failed') {
    // Recorded on the ledger (or its lease expires): the sweeper retries it, and the idle evaluation stays armed.
    if (outcome.status === 'failed') metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
    const e = outcome.error;
    if (!(e instanceof HttpError && e.statusCode === 404))
      logger.error('scheduler: evaluation failed; recorded on the ledger for retry', {
        ...log,
        errorName: (e as Error)?.name,
        ledgerStatus: outcome.status,
      });
  }
}

/**
 * Server-scheduled leads (self-hosted conversations; docs/idempotency.md, "Leads the server
 * schedules"): the thread table's DynamoDB stream, filtered to item inserts, arrives here through
 * an event source mapping. The chat never waits for any of it: its turn is over when it stored
 * the item. Exactly once stays the ledger's: these evaluations meet the browser's triggers and
 * the sweeper's in the same records.
 */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse, Error, SecretsContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(runtime.leadSecrets())
  .handler(async (event, context) => {
    if (runtime.chatkitMode !== 'self-hosted') {
      // Hosted conversations are not in the table: their leads come from the browser's triggers.
      logger.warn('scheduler: CHATKIT_MODE is hosted; stream records ignored', { records: event.Records.length });
      return { batchItemFailures: [] };
    }
    const { threads, ignored } = activityByThread(event.Records, { notBefore: nowSeconds() - maxActivityAgeSeconds });
    const secrets = context.secrets;
    const failed: ThreadActivity[] = [];
    const queue = [...threads];
    await Promise.all(
      Array.from({ length: Math.min(parallel, queue.length) }, async () => {
        for (let t = queue.shift(); t; t = queue.shift()) {
          try {
            await scheduleThread(t, secrets, () => context.getRemainingTimeInMillis());
          } catch (e) {
            failed.push(t);
            logger.error('scheduler: could not schedule; the batch is retried from this thread', {
              threadId: t.threadId,
              errorName: (e as Error)?.name,
              ledgerUnavailable: e instanceof LedgerUnavailableError,
            });
          }
        }
      }),
    );
    metrics.addMetric('ScheduledThreads', MetricUnit.Count, threads.length - failed.length);
    if (failed.length) metrics.addMetric('ScheduleFailures', MetricUnit.Count, failed.length);
    logger.info('scheduler batch done', { records: event.Records.length, threads: threads.length, ignored, failed: failed.length });
    const first = earliestFailure(failed);
    return { batchItemFailures: first ? [{ itemIdentifier: first }] : [] };
  });
