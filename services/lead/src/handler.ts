import middy from '@middy/core';
import { assertTokenSecret } from '@lead-intake/chat-auth';
import type { SecretsContext } from '@lead-intake/config';
import { httpErrors, jsonBody, jsonResponse, methodGuard, originPolicy, parseAllowedOrigins } from '@lead-intake/http';
import { sendOnce, type LedgerContext } from '@lead-intake/dedupe';
import { leadRequest, type LeadRequestContext } from '@lead-intake/lead-pipeline/request';
import { answerClasses, correlate, injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import * as runtime from './runtime';
import { getLedger, loadLead, logger, metrics, requesterFor } from './runtime';

type LeadContext = SecretsContext & LeadRequestContext & LedgerContext;

const selfHosted = runtime.chatkitMode === 'self-hosted';

/**
 * The lead endpoint, in the order of the steps (packages/lead-pipeline/src/lead.ts lists them):
 * origin guard and CORS, body parsing (JSON, sendBeacon text, base64), 1 validate (self-hosted:
 * the user from the client token), 2 fast path: the send-once ledger with the owner check (a
 * duplicate from the owner is answered with one DynamoDB call; anyone else gets 404 and writes
 * nothing; while DynamoDB is down the trigger goes to the spool: 202 `queued`), then steps 3-9 on
 * the lease (`runLead`, loaded only now).
 */
export const handler = middy<any, any, Error, LeadContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(answerClasses(metrics))
  .use(
    originPolicy({ allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS), allowedHeaders: ['content-type', 'authorization'] }),
  )
  .use(httpErrors({ onUnexpected: (e) => logger.error('request failed', { errorName: (e as Error)?.name }) }))
  .use(methodGuard(['POST']))
  .use(jsonBody({ maxBytes: 16 * 1024, acceptTextPlain: true }))
  // Before the ledger, so that a refused request touches nothing: the token's secret (self-hosted),
  // and the OpenAI key that proves a hosted thread's owner (one GetParameters call for both).
  .use(runtime.leadSecrets())
  .use(leadRequest<LeadContext>(selfHosted ? { tokenSecret: (c) => assertTokenSecret(c.secrets.CHATKIT_TOKEN_SECRET) } : {}))
  // From here every log line names the conversation and (hashed) the customer.
  .use({ before: (r) => correlate(logger, { threadId: r.context.leadRequest.threadId, user: r.context.leadRequest.user }) })
  .use(
    sendOnce<LeadContext>({
      ledger: getLedger,
      // The owner is checked before the ledger writes anything: a wrong user gets 404 and changes nothing.
      subject: (c) => {
        const { threadId, reason, user, pageUrl } = c.leadRequest;
        return { threadId, reason, pageUrl, requester: requesterFor(runtime, c.secrets.OPENAI_API_KEY!, threadId, user) };
      },
      onBusy: (reason, _record, c) => {
        const m = metrics.singleMetric();
        m.addDimension('reason', reason);
        m.addMetric('DuplicatesSuppressed', MetricUnit.Count, 1);
        logger.info('lead answered by the ledger', { threadId: c.leadRequest.threadId, trigger: c.leadRequest.reason, answer: reason });
      },
      onUnavailable: async (e, c) => {
        metrics.addMetric('LedgerUnavailable', MetricUnit.Count, 1);
        const { threadId, reason, user, pageUrl } = c.leadRequest;
        const log = { threadId, trigger: reason, errorName: (e.cause as Error)?.name };
        if (!runtime.spool) {
          logger.error('ledger unavailable and no spool configured (LEAD_SPOOL_QUEUE_NAME): trigger refused with 503', log);
          return undefined;
        }
        try {
          // Kept, not refused: a beacon is never retried. The sweeper runs it once the ledger is back.
          await runtime.spool.put({ threadId, reason, user, pageUrl, at: Date.now() });
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
      onCrash: (e, c, status) => {
        // Every terminal failure is counted, whatever path it took (the LeadsFailed alarm).
        if (status === 'failed') metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
        logger.error('lead attempt crashed; recorded as an error for retry', {
          threadId: c.leadRequest.threadId,
          errorName: (e as Error)?.name,
          ledgerStatus: status,
        });
      },
    }),
  )
  .handler(async (_event, context) => {
    const { threadId, reason, user, pageUrl } = context.leadRequest;
    const { runLeadJob } = await loadLead();
    const job = { threadId, user, pageUrl, lease: context.lease };
    return jsonResponse(200, await runLeadJob(runtime, job, context.secrets, context.getRemainingTimeInMillis(), { trigger: reason }));
  });
