import middy from '@middy/core';
import { assertTokenSecret } from '@lead-intake/chat-auth';
import { secrets, type SecretsContext } from '@lead-intake/config';
import { httpErrors, jsonBody, jsonResponse, methodGuard, originPolicy, parseAllowedOrigins } from '@lead-intake/http';
import { sendOnce, type LedgerContext } from '@lead-intake/dedupe';
import { leadRequest, type LeadRequestContext } from '@lead-intake/lead-pipeline/request';
import { injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import * as runtime from './runtime';
import { getLedger, logger, metrics } from './runtime';

type LeadContext = SecretsContext & LeadRequestContext & LedgerContext;

const selfHosted = runtime.chatkitMode === 'self-hosted';
const onMissingSecret = (e: Error) => logger.error(`configuration error: ${e.message}`);

/**
 * The pipeline: origin guard and CORS, body parsing (JSON, sendBeacon text, base64), validation
 * (self-hosted: the user from the client token, before anything is written), the send-once ledger
 * (its fast path answers duplicates with one DynamoDB call), secrets, lead.
 */
export const handler = middy<any, any, Error, LeadContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(originPolicy({ allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS), allowedHeaders: ['content-type', 'authorization'] }))
  .use(httpErrors({ onUnexpected: (e) => logger.error('request failed', { errorName: (e as Error)?.name }) }))
  .use(methodGuard(['POST']))
  .use(jsonBody({ maxBytes: 16 * 1024, acceptTextPlain: true }))
  // Self-hosted: the token's secret before the ledger, so a refused request touches nothing.
  .use(selfHosted ? secrets({ names: ['CHATKIT_TOKEN_SECRET'], ssmPath: process.env.SECRETS_SSM_PATH, onMissing: onMissingSecret }) : { before: function hostedNoTokenSecret() {} })
  .use(leadRequest<LeadContext>(selfHosted ? { tokenSecret: (c) => assertTokenSecret(c.secrets.CHATKIT_TOKEN_SECRET) } : {}))
  .use(
    sendOnce<LeadContext>({
      ledger: getLedger,
      subject: (c) => ({ threadId: c.leadRequest.threadId, reason: c.leadRequest.reason }),
      onBusy: (reason, _record, c) => {
        const m = metrics.singleMetric();
        m.addDimension('reason', reason);
        m.addMetric('DuplicatesSuppressed', MetricUnit.Count, 1);
        logger.info('lead answered by the ledger', { threadId: c.leadRequest.threadId, trigger: c.leadRequest.reason, answer: reason });
      },
      onUnavailable: (e, c) => {
        metrics.addMetric('LedgerUnavailable', MetricUnit.Count, 1);
        // Not silent: the runbook replays these thread ids once DynamoDB is back.
        logger.error('ledger unavailable: lead not processed', { threadId: c.leadRequest.threadId, trigger: c.leadRequest.reason, errorName: (e.cause as Error)?.name });
      },
      onCrash: (e, c, status) => {
        // Every terminal failure is counted, whatever path it took (the LeadsFailed alarm).
        if (status === 'failed') metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
        logger.error('lead attempt crashed; recorded as an error for retry', { threadId: c.leadRequest.threadId, errorName: (e as Error)?.name, ledgerStatus: status });
      },
    }),
  )
  .use(secrets({ names: ['OPENAI_API_KEY'], ssmPath: process.env.SECRETS_SSM_PATH, onMissing: onMissingSecret }))
  .handler(async (_event, context) => {
    const req = context.leadRequest;
    const log = { threadId: req.threadId, trigger: req.reason };
    const { runLead } = await import('./pipeline');
    return jsonResponse(200, await runLead(runtime, req, context.lease, context.secrets.OPENAI_API_KEY!, context.getRemainingTimeInMillis(), log));
  });
