import middy from '@middy/core';
import { ConfigError, intSetting, listSetting, secrets, stringSetting, type SecretsContext } from '@lead-intake/config';
import { httpErrors, HttpError, jsonBody, jsonResponse, methodGuard, originPolicy, parseAllowedOrigins } from '@lead-intake/http';
import { evaluateLead, leadRequest, type LeadAnswer, type LeadRequestContext } from '@lead-intake/lead-pipeline';
import { createLogger, createMetrics, injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { openaiClient } from '@lead-intake/openai-client';
import { assertAddresses, EmailSendError, sendEmail, sesClient } from '@lead-intake/ses-mailer';
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

type LeadContext = SecretsContext & LeadRequestContext;

const answer = (a: LeadAnswer) => jsonResponse(200, a);

/** The pipeline: origin guard and CORS, body parsing (JSON, sendBeacon text, base64), validation, secrets, lead. */
export const handler = middy<any, any, Error, LeadContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(originPolicy({ allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS) }))
  .use(httpErrors({ onUnexpected: (e) => logger.error('request failed', { errorName: (e as Error)?.name }) }))
  .use(methodGuard(['POST']))
  .use(jsonBody({ maxBytes: 16 * 1024, acceptTextPlain: true }))
  .use(leadRequest())
  .use(secrets({ names: ['OPENAI_API_KEY'], onMissing: (e) => logger.error(`configuration error: ${e.message}`) }))
  .handler(async (_event, context) => {
    const req = context.leadRequest;
    const log = { threadId: req.threadId, trigger: req.reason };
    const deadline = AbortSignal.timeout(Math.max(1, context.getRemainingTimeInMillis() - settings.sendReserveMs));
    const profile = loadShopProfile();
    const key = context.secrets.OPENAI_API_KEY!;

    let evaluation;
    try {
      evaluation = await evaluateLead(
        req,
        { source: new HostedChatKitSource(openaiClient(key, settings.threads)), openai: openaiClient(key, settings.summary), profile, model: settings.model },
        deadline,
      );
    } catch (e) {
      if (e instanceof ThreadNotFoundError) throw new HttpError(404, 'Thread not found.', 'thread_not_found');
      logger.error('transcript unavailable', { ...log, errorName: (e as Error)?.name, status: (e as any)?.status });
      return answer({ sent: false, reason: 'error' });
    }
    if (req.user && evaluation.transcript.user && req.user !== evaluation.transcript.user) {
      // Someone else's thread: answer as if it did not exist.
      throw new HttpError(404, 'Thread not found.', 'thread_not_found');
    }
    const summaryFailure = evaluation.kind === 'no_contact' || evaluation.summary.ok ? undefined : evaluation.summary.failure;
    if (summaryFailure) metrics.addMetric('SummaryFailures', MetricUnit.Count, 1);
    const facts = { ...log, lines: evaluation.transcript.lines.length, phones: evaluation.contacts.phones.length, emails: evaluation.contacts.emails.length, summaryFailure };
    if (evaluation.kind !== 'send') {
      logger.info('lead not sent', { ...facts, decision: evaluation.kind });
      return answer({ sent: false, reason: evaluation.kind });
    }

    try {
      const messageId = await sendEmail(sesClient(), {
        from: settings.from,
        to: settings.to,
        replyTo: evaluation.replyTo ? [evaluation.replyTo] : [],
        subject: evaluation.email.subject,
        text: evaluation.email.text,
        html: evaluation.email.html,
      });
      metrics.addMetric('LeadsSent', MetricUnit.Count, 1);
      logger.info('lead sent', { ...facts, messageId });
      return answer({ sent: true, reason: 'sent' });
    } catch (e) {
      if (!(e instanceof EmailSendError)) throw e;
      metrics.addMetric('SesFailures', MetricUnit.Count, 1);
      logger.error('lead email failed', { ...facts, sesError: e.sesError });
      return answer({ sent: false, reason: 'error' });
    }
  });
