/**
 * What the lead functions say about a lead, in one place: the log line and metrics of a held run's
 * outcome (the same for the endpoint, the sweeper, a spooled trigger and the scheduler), and the
 * pipeline's hooks (a lead evaluated, sent, a channel failed...). Never content: ids, decisions,
 * counts and error names only.
 */
import type { HeldOutcome } from '@lead-intake/ledger';
import type { LeadAnswer, LeadHooks } from '@lead-intake/lead-pipeline';
import { MetricUnit, type Logger, type Metrics } from '@lead-intake/observability';
// The error class alone: every entry point loads this file at cold start (no OpenAI SDK on the fast path).
import { ThreadNotFoundError } from '@lead-intake/transcript/errors';

/** Where a held run came from: the endpoint, the sweeper (a due record or an armed idle evaluation), the spool, the scheduler. */
export type RunSource = 'endpoint' | 'sweeper' | 'spool' | 'scheduler';

export interface Reporter {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/**
 * One held run's outcome. A failure is counted in `LeadsFailed` once the ledger gave up on it
 * (`failed`, whatever path it took: the LeadsFailed alarm); a thread that no longer exists is a
 * warning (its record was released). `answer` is the lead's own answer when it ran.
 */
export function reportHeld(
  r: Reporter,
  source: RunSource,
  log: { threadId: string; trigger: string; [k: string]: unknown },
  outcome: HeldOutcome<{ reason: string } | LeadAnswer | void>,
): void {
  const at = { ...log, source };
  switch (outcome.kind) {
    case 'processed':
      if (outcome.value) r.logger.info('lead run done', { ...at, answer: outcome.value.reason });
      return;
    case 'busy': {
      // A sweeper meeting a record someone else holds is routine; anyone else was answered by the ledger.
      if (source === 'sweeper') return;
      const m = r.metrics.singleMetric();
      m.addDimension('reason', outcome.reason);
      m.addMetric('DuplicatesSuppressed', MetricUnit.Count, 1);
      r.logger.info('lead answered by the ledger', { ...at, answer: outcome.reason });
      return;
    }
    case 'not_owner':
      if (source !== 'endpoint') r.logger.warn('lead refused: not the thread’s owner, or no such thread', at);
      return;
    case 'failed': {
      if (outcome.status === 'failed') r.metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
      const e = outcome.error;
      if (e instanceof ThreadNotFoundError) r.logger.warn('the thread no longer exists; record released', at);
      else
        r.logger.error('lead run failed; recorded on the ledger for retry', {
          ...at,
          errorName: (e as Error)?.name,
          ledgerStatus: outcome.status,
        });
    }
  }
}

/** The pipeline's hooks for one run (a lead, or a request's update to one): its log lines and metrics. */
export function leadHooks(r: Reporter, log: Record<string, unknown>, what: 'lead' | 'update' = 'lead'): LeadHooks {
  const { logger, metrics } = r;
  return {
    evaluated: (ev, effective) => {
      const summaryFailure = ev.summary && !ev.summary.ok ? ev.summary.failure : undefined;
      // Summaries asked of the model (failed ones too): the denominator of SummaryFailureRateAlarm.
      // One not asked for the day's budget is neither (SummariesOverBudget counts it).
      if (ev.summary && !ev.summaryFromCache && summaryFailure !== 'over_budget') {
        metrics.addMetric('Summaries', MetricUnit.Count, 1);
        if (summaryFailure) metrics.addMetric('SummaryFailures', MetricUnit.Count, 1);
      }
      logger.info('lead evaluated', {
        ...log,
        effectiveTrigger: effective,
        decision: ev.decision,
        urgency: ev.summary?.ok ? ev.summary.summary.urgency : undefined,
        leadKind: ev.summary?.ok ? ev.summary.summary.lead_kind : undefined,
        lines: ev.transcript.lines.length,
        phones: ev.contacts.phones.length,
        emails: ev.contacts.emails.length,
        summaryFromCache: ev.summaryFromCache,
        summaryFailure,
      });
    },
    sent: (messageId, recorded) => {
      metrics.addMetric(what === 'lead' ? 'LeadsSent' : 'UpdatesSent', MetricUnit.Count, 1);
      if (recorded) logger.info(`${what} sent`, { ...log, messageId });
      else
        logger.warn('lead sent but the ledger could not record it (lease lost or DynamoDB error): one duplicate is possible', {
          ...log,
          messageId,
        });
    },
    sendFailed: (e, status) => {
      metrics.addMetric('SesFailures', MetricUnit.Count, 1);
      if (status === 'failed') metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
      logger.error('lead email failed', { ...log, sesError: e.sesError, ledgerStatus: status });
    },
    transcriptFailed: (e) =>
      logger.error('transcript unavailable; recorded for retry', {
        ...log,
        errorName: (e as Error)?.name,
        status: (e as { status?: number })?.status,
      }),
    leaseLost: () => logger.warn('lease lost before release', log),
    delivered: (channel, id, recorded) => {
      metrics.addMetric(channel === 'inbox' ? 'InboxRecorded' : 'AlertsSent', MetricUnit.Count, 1);
      if (recorded) logger.info('alert delivered', { ...log, channel, id });
      else logger.warn('alert delivered but the ledger could not record it: one duplicate is possible', { ...log, channel, id });
    },
    deliveryFailed: (channel, code, status) => {
      metrics.addMetric('AlertFailures', MetricUnit.Count, 1);
      if (status === 'failed') metrics.addMetric('LeadsFailed', MetricUnit.Count, 1);
      logger.error('alert failed; retried without resending the others', { ...log, channel, code, ledgerStatus: status });
    },
    inboxFailed: (e) => {
      metrics.addMetric('InboxRecordFailures', MetricUnit.Count, 1);
      logger.warn('inbox record of a filtered conversation not written (it is judged again later)', {
        ...log,
        errorName: (e as Error)?.name,
      });
    },
    followUpFailed: (e, step) => {
      metrics.addMetric('FollowUpLookupFailures', MetricUnit.Count, 1);
      logger.warn('follow-up index unavailable; the lead is treated as new', { ...log, step, errorName: (e as Error)?.name });
    },
  };
}
