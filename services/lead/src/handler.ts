import middy from '@middy/core';
import { ConfigError, intSetting, listSetting, secrets, stringSetting, type SecretsContext } from '@lead-intake/config';
import { httpErrors, HttpError, jsonBody, jsonResponse, methodGuard, originPolicy, parseAllowedOrigins } from '@lead-intake/http';
import { Ledger, LedgerStore, ledgerConfigFromEnv, sendOnce, type LedgerContext } from '@lead-intake/dedupe';
import { leadRequest, processLead, type LeadAnswer, type LeadRequestContext } from '@lead-intake/lead-pipeline';
import { createLogger, createMetrics, injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { openaiClient } from '@lead-intake/openai-client';
import { assertAddresses, sendEmail, sesClient } from '@lead-intake/ses-mailer';
import { loadShopProfile } from '@lead-intake/shop-hours';
import { HostedChatKitSource, ThreadNotFoundError } from '@lead-intake/transcript';

const logger = createLogger('lead');
const metrics = createMetrics('lead');

// Read once per instance; a bad value fails the cold start with the variable's name.
const settings = (() => {
  const to = listSetting(process.env, 'LEAD_TO_EMAIL', ['victor@craigs.autos']);
  const from = stringSetting(process.env, 'LEAD_FROM_EMAIL', 'victor@craigs.autos');
  try {
    assertAddresses('To', to);
    assertAddresses('From', [from]);
  } catch {
    throw new ConfigError('LEAD_TO_EMAIL/LEAD_FROM_EMAIL', 'LEAD_TO_EMAIL (comma-separated) and LEAD_FROM_EMAIL must be plain email addresses');
  }
  return {
    to,
    from,
    model: stringSetting(process.env, 'LEAD_SUMMARY_MODEL', 'gpt-5.2-2025-12-11'),
    // Transcript reads: small and quick. Summary: the slow call. Both sit inside the 30 s function
    // timeout, and a deadline signal keeps SEND_RESERVE_MS for the email whatever they do.
    threads: { timeoutMs: intSetting(process.env, 'OPENAI_TIMEOUT_MS', 4000, { min: 100, max: 60000 }), maxRetries: intSetting(process.env, 'OPENAI_MAX_RETRIES', 1, { min: 0, max: 5 }) },
    summary: { timeoutMs: intSetting(process.env, 'LEAD_SUMMARY_TIMEOUT_MS', 12000, { min: 100, max: 120000 }), maxRetries: intSetting(process.env, 'LEAD_SUMMARY_MAX_RETRIES', 1, { min: 0, max: 5 }) },
    sendReserveMs: intSetting(process.env, 'LEAD_SEND_RESERVE_MS', 5000, { min: 0, max: 60000 }),
  };
})();

type LeadContext = SecretsContext & LeadRequestContext & LedgerContext;

const ledgerConfig = ledgerConfigFromEnv(process.env);
let ledger: Ledger | undefined;
/** Created on first use: the fast path pays only for the DynamoDB client. */
const getLedger = () => (ledger ??= new Ledger(new LedgerStore({ tableName: ledgerConfig.tableName }), ledgerConfig));

const answer = (a: LeadAnswer) => jsonResponse(200, a);

/**
 * The pipeline: origin guard and CORS, body parsing (JSON, sendBeacon text, base64), validation,
 * the send-once ledger (its fast path answers duplicates with one DynamoDB call), secrets, lead.
 */
export const handler = middy<any, any, Error, LeadContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(originPolicy({ allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS) }))
  .use(httpErrors({ onUnexpected: (e) => logger.error('request failed', { errorName: (e as Error)?.name }) }))
  .use(methodGuard(['POST']))
  .use(jsonBody({ maxBytes: 16 * 1024, acceptTextPlain: true }))
  .use(leadRequest())
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
      onCrash: (e, c) => logger.error('lead attempt crashed; recorded as an error for retry', { threadId: c.leadRequest.threadId, errorName: (e as Error)?.name }),
    }),
  )
  .use(secrets({ names: ['OPENAI_API_KEY'], ssmPath: process.env.SECRETS_SSM_PATH, onMissing: (e) => logger.error(`configuration error: ${e.message}`) }))
  .handler(async (_event, context) => {
    const req = context.leadRequest;
    const log = { threadId: req.threadId, trigger: req.reason };
    const key = context.secrets.OPENAI_API_KEY!;
    try {
      const result = await processLead(req, context.lease, {
        ledger: getLedger(),
        source: new HostedChatKitSource(openaiClient(key, settings.threads)),
        openai: openaiClient(key, settings.summary),
        profile: loadShopProfile(),
        model: settings.model,
        // Whatever OpenAI does, SEND_RESERVE_MS stays for the email and the ledger write.
        signal: AbortSignal.timeout(Math.max(1, context.getRemainingTimeInMillis() - settings.sendReserveMs)),
        send: (email, replyTo) =>
          sendEmail(sesClient(), { from: settings.from, to: settings.to, replyTo: replyTo ? [replyTo] : [], subject: email.subject, text: email.text, html: email.html }),
        hooks: {
          evaluated: (ev, effective) => {
            const summaryFailure = ev.kind === 'no_contact' || ev.summary.ok ? undefined : ev.summary.failure;
            if (summaryFailure) metrics.addMetric('SummaryFailures', MetricUnit.Count, 1);
            logger.info('lead evaluated', {
              ...log,
              effectiveTrigger: effective,
              decision: ev.kind,
              lines: ev.transcript.lines.length,
              phones: ev.contacts.phones.length,
              emails: ev.contacts.emails.length,
              summaryFromCache: ev.summaryFromCache,
              summaryFailure,
            });
          },
          sent: (messageId, recorded) => {
            metrics.addMetric('LeadsSent', MetricUnit.Count, 1);
            if (recorded) logger.info('lead sent', { ...log, messageId });
            else logger.warn('lead sent but the ledger could not record it (lease lost or DynamoDB error): one duplicate is possible', { ...log, messageId });
          },
          sendFailed: (e, status) => {
            metrics.addMetric('SesFailures', MetricUnit.Count, 1);
            if (status === 'failed') metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
            logger.error('lead email failed', { ...log, sesError: e.sesError, ledgerStatus: status });
          },
          transcriptFailed: (e) => logger.error('transcript unavailable; recorded for retry', { ...log, errorName: (e as Error)?.name, status: (e as { status?: number })?.status }),
          leaseLost: () => logger.warn('lease lost before release', log),
        },
      });
      return answer(result);
    } catch (e) {
      if (e instanceof ThreadNotFoundError) throw new HttpError(404, 'Thread not found.', 'thread_not_found');
      throw e;
    }
  });
