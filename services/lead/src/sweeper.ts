import middy from '@middy/core';
import { intSetting, secrets, type SecretsContext } from '@lead-intake/config';
import { injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { HttpError } from '@lead-intake/http';
import { runLead } from './pipeline';
import * as runtime from './runtime';
import { getLedger, logger, metrics } from './runtime';

// How many due records one run takes (each is one lead pipeline run, inside the 60 s timeout).
const batch = intSetting(process.env, 'LEAD_SWEEP_BATCH', 10, { min: 1, max: 100 });

/**
 * The ledger sweeper, on a schedule: finishes the work nobody will call again for (an abandoned
 * lease, a recorded pagehide whose holder died, an error past its cooldown) through the same
 * pipeline, fencing and send-once guarantee as the endpoint. It never takes a live lease.
 */
export const handler = middy<unknown, unknown, Error, SecretsContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(secrets({ names: ['OPENAI_API_KEY'], ssmPath: process.env.SECRETS_SSM_PATH, onMissing: (e) => logger.error(`configuration error: ${e.message}`) }))
  .handler(async (_event, context) => {
    const key = context.secrets.OPENAI_API_KEY!;
    const result = await getLedger().sweep(async (lease) => {
      const log = { threadId: lease.threadId, trigger: 'sweeper' };
      try {
        const answer = await runLead(runtime, { threadId: lease.threadId, reason: 'auto', user: null, pageUrl: null }, lease, key, context.getRemainingTimeInMillis(), log);
        logger.info('sweeper finished a record', { ...log, answer: answer.reason });
      } catch (e) {
        if (e instanceof HttpError && e.statusCode === 404) {
          logger.warn('sweeper: thread no longer exists; record released', log);
          return;
        }
        throw e;
      }
    }, { limit: batch });
    if (result.due) metrics.addMetric('SweeperProcessed', MetricUnit.Count, result.processed);
    logger.info('sweep done', { ...result });
    return result;
  });
