import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { SecretsContext } from '@lead-intake/config';
import { LedgerUnavailableError, nowSeconds, requestKey } from '@lead-intake/ledger';
import { injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { activityByThread, earliestFailure, type ThreadActivity } from './activity';
import { lead } from './instance';
import { reportHeld } from './outcome';
import type { LeadSecrets } from './pipeline';

const { logger, metrics, settings } = lead;

/**
 * One conversation's activity: the idle evaluation (re)armed on the ledger first, so that nothing
 * after it can lose the schedule; then, after a completed assistant turn, an `auto` evaluation
 * through the same held run and pipeline as a browser's `auto` (none while no customer line could
 * hold a contact; a summary kept for this transcript state: not paid again), or after a recorded
 * request (a callback, a drop-off time: handoff-ready, so it sends) a `request` one, followed by
 * the request's update when the lead had already gone out without it. Throws only when the ledger or the thread store
 * cannot be reached: the batch is retried from this thread's first record.
 */
async function scheduleThread(t: ThreadActivity, secrets: LeadSecrets, remainingMs: () => number): Promise<void> {
  const { threadId } = t;
  const pipeline = await lead.pipeline();
  // From the item's row when it carries it (no read); a thread deleted meanwhile is then found
  // gone by the evaluation, which releases its record.
  const owner = t.owner ?? (await pipeline.threadOwner(threadId));
  if (!owner) {
    logger.info('scheduler: the thread no longer exists', { threadId, source: 'scheduler' });
    return;
  }
  const ledger = lead.ledger();
  const idleAt = t.activityAt + settings.idleSeconds;
  const { armed, mayHaveContact } = await ledger.scheduleIdle(threadId, {
    owner,
    activityAt: t.activityAt,
    idleAt,
    mayHaveContact: t.mayHaveContact,
  });
  if (armed) metrics.addMetric('IdleArmed', MetricUnit.Count, 1);
  // After a completed turn, or at once when the customer asked for a call back or a drop-off time.
  if (!t.turnDone && !t.requests.length) return;
  // No customer line so far could hold a contact: the evaluation could only find none (no
  // contact, no lead). Spared; the idle evaluation armed above still looks at the whole thread.
  if (!t.requests.length && !mayHaveContact) {
    metrics.addMetric('AutoSkippedNoContact', MetricUnit.Count, 1);
    return;
  }
  // A request is a strong trigger: a lease held meanwhile (an evaluation that read the thread
  // before it) evaluates again with it before letting go, instead of waiting for the idle window.
  const trigger = t.requests.length ? 'request' : 'auto';
  // The owner comes from the thread itself (this is the server, not a request): nothing to prove.
  const outcome = await ledger.runHeld(threadId, trigger, { requester: { user: owner, verify: async () => true } }, (lease) =>
    pipeline.run({ threadId, user: owner, pageUrl: null, lease }, secrets, remainingMs(), { trigger, source: 'scheduler' }),
  );
  // A failure is recorded on the ledger (or its lease expires): the sweeper retries it, and the idle evaluation stays armed.
  reportHeld(lead, 'scheduler', { threadId, trigger }, outcome);
  // Then each request's update, owed if the lead went out without it (its own record: once per request).
  for (const requestId of t.requests) {
    const update = await ledger.runHeld(requestKey(threadId, requestId), 'auto', {}, (lease) =>
      pipeline.update({ threadId, requestId, lease }, secrets, remainingMs(), { source: 'scheduler' }),
    );
    reportHeld(lead, 'scheduler', { threadId, trigger: 'update' }, update);
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
  .use(lead.secrets())
  .handler(async (event, context) => {
    if (settings.chatkitMode !== 'self-hosted') {
      // Hosted conversations are not in the table: their leads come from the browser's triggers.
      logger.warn('scheduler: CHATKIT_MODE is hosted; stream records ignored', { records: event.Records.length });
      return { batchItemFailures: [] };
    }
    const { threads, ignored } = activityByThread(event.Records, { notBefore: nowSeconds() - settings.scheduler.maxActivityAgeSeconds });
    const secrets = context.secrets;
    const failed: ThreadActivity[] = [];
    const queue = [...threads];
    await Promise.all(
      Array.from({ length: Math.min(settings.scheduler.parallel, queue.length) }, async () => {
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
