/**
 * Values of a local stage's templates that only the running local stack knows: a function's own
 * URL, which stages.config.json gives local stages as the marker `local-function-url:<fn>` (on
 * deployed stages it is `Fn::GetAtt`, which `sls invoke local` could not resolve), and the alerts
 * stand-in's receiver (`local-alerts-url:<path>`). Every other
 * value of a local stage is a literal; an intrinsic here is not resolved (the caller says so).
 */
export interface LocalAccount {
  /** Function name -> its local URL. */
  functionUrls: Record<string, string>;
  /** The alerts stand-in's base URL (`local-alerts-url:<path>`: its webhook receiver). */
  alertsUrl?: string;
}

export { LOCAL_ACCOUNT_ID } from '@lead-intake/stage-config';

const LOCAL_FUNCTION_URL = /^local-function-url:([a-z][a-z0-9-]*)$/;
const LOCAL_ALERTS_URL = /^local-alerts-url:([a-z0-9/_-]+)$/;

export function resolveLocal(value: unknown, account: LocalAccount): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') return undefined;
  const fn = LOCAL_FUNCTION_URL.exec(value)?.[1];
  if (fn) return account.functionUrls[fn];
  const alerts = LOCAL_ALERTS_URL.exec(value)?.[1];
  if (alerts !== undefined) return account.alertsUrl ? `${account.alertsUrl}/${alerts}` : undefined;
  return value;
}
