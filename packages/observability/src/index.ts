import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';

export { Logger, Metrics, MetricUnit };
export { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';

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

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRIC_NAMESPACE, serviceName });
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
