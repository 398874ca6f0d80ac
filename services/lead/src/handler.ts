import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { assertTokenSecret } from '@lead-intake/chat-auth';
import type { SecretsContext } from '@lead-intake/config';
import { httpErrors, jsonBody, jsonResponse, methodGuard, originPolicy } from '@lead-intake/http';
import { sendOnce } from '@lead-intake/ledger';
import type { LeadAnswer } from '@lead-intake/lead-pipeline';
import { leadRequest, type LeadRequestContext } from '@lead-intake/lead-pipeline/request';
import { answerClasses, correlate, injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { lead } from './instance';
import { reportHeld } from './outcome';

type LeadContext = SecretsContext & LeadRequestContext;

const { logger, metrics, settings } = lead;

/**
 * The lead endpoint, in the order of the steps (packages/lead-pipeline/src/lead.ts lists them):
 * origin guard and CORS, body parsing (JSON, sendBeacon text, base64), 1 validate (self-hosted:
 * the user from the client token), 2 the send-once ledger with the owner check as the chain's
 * handler (`sendOnce` over `Ledger.runHeld`: a duplicate from the owner is answered with one
 * DynamoDB call; anyone else gets 404 and writes nothing; while DynamoDB is down the trigger goes
 * to the spool: 202 `queued`), then steps 3-9 on the lease (the pipeline, loaded only now).
 */
export const handler = middy<LambdaFunctionURLEvent, LambdaFunctionURLResult, Error, LeadContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(answerClasses(metrics))
  .use(originPolicy({ allowedOrigins: settings.allowedOrigins, allowedHeaders: ['content-type', 'authorization'] }))
  .use(httpErrors({ onUnexpected: (e) => logger.error('request failed', { errorName: (e as Error)?.name }) }))
  .use(methodGuard(['POST']))
  .use(jsonBody({ maxBytes: 16 * 1024, acceptTextPlain: true }))
  // Before the ledger, so that a refused request touches nothing: the token's secret (self-hosted),
  // and the OpenAI key that proves a hosted thread's owner (one GetParameters call for both).
  .use(lead.secrets())
  .use(
    leadRequest<LeadContext>(
      settings.chatkitMode === 'self-hosted' ? { tokenSecret: (c) => assertTokenSecret(c.secrets.CHATKIT_TOKEN_SECRET) } : {},
    ),
  )
  // From here every log line names the conversation and (hashed) the customer.
  .use({ before: (r) => correlate(logger, { threadId: r.context.leadRequest.threadId, user: r.context.leadRequest.user }) })
  .handler(
    sendOnce<LeadContext, LeadAnswer>({
      ledger: () => lead.ledger(),
      // The owner is checked before the ledger writes anything: a wrong user gets 404 and changes nothing.
      subject: (c) => {
        const { threadId, reason, user, pageUrl } = c.leadRequest;
        return { threadId, reason, pageUrl, requester: lead.requester(c.secrets.OPENAI_API_KEY!, threadId, user) };
      },
      run: async (lease, c) => {
        const { threadId, reason, user, pageUrl } = c.leadRequest;
        const pipeline = await lead.pipeline();
        return pipeline.run({ threadId, user, pageUrl, lease }, c.secrets, c.getRemainingTimeInMillis(), { trigger: reason });
      },
      onOutcome: (outcome, c) => reportHeld(lead, 'endpoint', { threadId: c.leadRequest.threadId, trigger: c.leadRequest.reason }, outcome),
      onUnavailable: async (e, c) => {
        metrics.addMetric('LedgerUnavailable', MetricUnit.Count, 1);
        const { threadId, reason, user, pageUrl } = c.leadRequest;
        const log = { threadId, trigger: reason, errorName: (e.cause as Error)?.name };
        if (!lead.spool) {
          logger.error('ledger unavailable and no spool configured (LEAD_SPOOL_QUEUE_NAME): trigger refused with 503', log);
          return undefined;
        }
        try {
          // Kept, not refused: a beacon is never retried. The sweeper runs it once the ledger is back.
          await lead.spool.put({ threadId, reason, user, pageUrl, at: Date.now() });
        } catch (se) {
          metrics.addMetric('SpoolUnavailable', MetricUnit.Count, 1);
          logger.error('ledger and trigger spool unavailable: trigger refused with 503', {
            ...log,
            spoolErrorName: ((se as Error).cause as Error)?.name,
          });
          return undefined;
        }
        metrics.addMetric('TriggersSpooled', MetricUnit.Count, 1);
        logger.warn('ledger unavailable: trigger kept in the spool for the sweeper', log);
        return jsonResponse(202, { sent: false, reason: 'queued' });
      },
    }),
  );
