/**
 * What the lead endpoint and the sweeper share, built once per instance: settings (read at cold
 * start: a bad value fails it with the variable's name), logger, metrics, the ledger, and the
 * dependencies of the one lead pipeline both run.
 */
import { ConfigError, intSetting, listSetting, stringSetting } from '@lead-intake/config';
import { Ledger, LedgerStore, ledgerConfigFromEnv } from '@lead-intake/dedupe';
import type { ProcessDeps } from '@lead-intake/lead-pipeline';
import { createLogger, createMetrics, MetricUnit } from '@lead-intake/observability';
import { openaiClient } from '@lead-intake/openai-client';
import { assertAddresses, sendEmail, sesClient } from '@lead-intake/ses-mailer';
import { loadShopProfile } from '@lead-intake/shop-hours';
import { HostedChatKitSource } from '@lead-intake/transcript';

export const logger = createLogger('lead');
export const metrics = createMetrics('lead');

export const settings = (() => {
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
    // timeout, and a deadline signal keeps LEAD_SEND_RESERVE_MS for the email whatever they do.
    threads: { timeoutMs: intSetting(process.env, 'OPENAI_TIMEOUT_MS', 4000, { min: 100, max: 60000 }), maxRetries: intSetting(process.env, 'OPENAI_MAX_RETRIES', 1, { min: 0, max: 5 }) },
    summary: { timeoutMs: intSetting(process.env, 'LEAD_SUMMARY_TIMEOUT_MS', 12000, { min: 100, max: 120000 }), maxRetries: intSetting(process.env, 'LEAD_SUMMARY_MAX_RETRIES', 1, { min: 0, max: 5 }) },
    sendReserveMs: intSetting(process.env, 'LEAD_SEND_RESERVE_MS', 5000, { min: 0, max: 60000 }),
  };
})();

const ledgerConfig = ledgerConfigFromEnv(process.env);
let ledger: Ledger | undefined;
/** Created on first use: the fast path pays only for the DynamoDB client. */
export const getLedger = (): Ledger => (ledger ??= new Ledger(new LedgerStore({ tableName: ledgerConfig.tableName }), ledgerConfig));

/** The pipeline's dependencies for one invocation; `remainingMs` is the invocation's time left. */
export function processDeps(apiKey: string, remainingMs: number, log: Record<string, unknown>): ProcessDeps {
  return {
    ledger: getLedger(),
    source: new HostedChatKitSource(openaiClient(apiKey, settings.threads)),
    openai: openaiClient(apiKey, settings.summary),
    profile: loadShopProfile(),
    model: settings.model,
    // Whatever OpenAI does, LEAD_SEND_RESERVE_MS stays for the email and the ledger write.
    signal: AbortSignal.timeout(Math.max(1, remainingMs - settings.sendReserveMs)),
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
  };
}
