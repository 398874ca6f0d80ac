import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';

export { Logger, Metrics, MetricUnit };
import { injectLambdaContext as inject } from '@aws-lambda-powertools/logger/middleware';

/**
 * The logger's Lambda context on every line, and the request's correlation keys (`correlate`)
 * cleared before the next request on the same instance.
 */
export const injectLambdaContext = (logger: Logger) => inject(logger, { resetKeys: true });

/** The project's metric namespace in CloudWatch. */
export const METRIC_NAMESPACE = 'ChatkitLeadIntake';

/**
 * One structured JSON logger per service. Callers log ids, counts and reasons only: never
 * transcript text, customer emails or phone numbers (the lead tests capture all output and check).
 */
export function createLogger(serviceName: string): Logger {
  const level = (process.env.POWERTOOLS_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'INFO') as 'INFO';
  return new Logger({ serviceName, logLevel: level });
}

/**
 * The service's metrics, dimensioned by `service` and `stage` (the STAGE every template sets): the
 * alarms read their own stage's only, so another stack in the same account (a test stage) never
 * feeds prod's alarms. Outside a deploy (tests, invoke local without STAGE) the stage is `unset`.
 */
export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRIC_NAMESPACE, serviceName, defaultDimensions: { stage: process.env.STAGE || 'unset' } });
}

/**
 * Publishes the request's metrics (Embedded Metric Format, one log line) when there are any.
 * Unlike Powertools' own middleware it stays quiet on requests that recorded none.
 */
export function publishMetrics(metrics: Metrics): MiddlewareObj {
  const flush = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return {
    after: function publishMetricsAfter() {
      flush();
    },
    onError: function publishMetricsOnError() {
      flush();
    },
  };
}

/**
 * A user id as logs and the ledger show it (never the id itself): the same value in the session,
 * chat and lead services' logs and in the ledger's `owner_hash`, so a person can follow one
 * customer across them.
 */
export const userHash = (user: string): string => createHash('sha256').update(`owner:${user}`).digest('base64url').slice(0, 22);

/**
 * The request's correlation keys on every log line that follows in this request: `threadId` (the
 * conversation, from chat to lead) and `userHash` (the customer, from session to chat to lead).
 */
export function correlate(logger: Logger, ids: { threadId?: string | null; user?: string | null }): void {
  const keys: Record<string, string> = {};
  if (ids.threadId) keys.threadId = ids.threadId;
  if (ids.user) keys.userHash = userHash(ids.user);
  if (Object.keys(keys).length) logger.appendKeys(keys);
}

/** Answers that are the upstream's failure (a dependency down or failing), not ours. */
const UPSTREAM_STATUSES = new Set([502, 503, 504]);

/**
 * Counts one answer by its class: `ClientErrors` (4xx: the caller's to fix), `UpstreamFailures`
 * (502/503/504: OpenAI, DynamoDB, SES...), `ServerErrors` (any other 5xx: a bug or missing
 * configuration). Lambda's own `Errors` never sees these: the function answered.
 */
function recordAnswer(metrics: Metrics, status: number): void {
  if (status >= 500) metrics.addMetric(UPSTREAM_STATUSES.has(status) ? 'UpstreamFailures' : 'ServerErrors', MetricUnit.Count, 1);
  else if (status >= 400) metrics.addMetric('ClientErrors', MetricUnit.Count, 1);
}

/**
 * `recordAnswer` for every answer of a middy chain: `.use` it after `publishMetrics` and before
 * `httpErrors`, so that it sees the error's answer and its count is published with the request.
 */
export function answerClasses(metrics: Metrics): MiddlewareObj {
  const count = (response: unknown) => {
    const status = (response as { statusCode?: unknown } | undefined)?.statusCode;
    recordAnswer(metrics, typeof status === 'number' ? status : 500);
  };
  return {
    after: function answerClassesAfter(request) {
      count(request.response);
    },
    onError: function answerClassesOnError(request) {
      count(request.response);
    },
  };
}
