import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export { Logger, Metrics, MetricUnit };
export { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
export { logMetrics } from '@aws-lambda-powertools/metrics/middleware';

/** The project's metric namespace in CloudWatch. */
export const METRIC_NAMESPACE = 'ChatkitLeadIntake';

/**
 * One structured JSON logger per service. Callers log ids, counts and reasons only: never
 * transcript text, customer emails or phone numbers (the lead tests capture all output and check).
 */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName, logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRIC_NAMESPACE, serviceName });
}
