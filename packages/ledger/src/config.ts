import { ConfigError, intSetting, stringSetting } from '@lead-intake/config/settings';
import { LEDGER_DEFAULTS, type LedgerConfig } from './ledger';

type Env = Record<string, string | undefined>;
const int = (env: Env, name: string, dflt: number, min: number, max: number) => intSetting(env, name, dflt, { min, max });

/**
 * The ledger's constants from the environment, with documented defaults. The lease must outlive
 * the function timeout (`LEAD_FUNCTION_TIMEOUT_SECONDS`), or a live holder could lose it.
 */
export function ledgerConfigFromEnv(env: Env = process.env): LedgerConfig & { tableName: string } {
  const tableName = stringSetting(env, 'LEAD_DEDUPE_TABLE_NAME');
  const leaseSeconds = int(env, 'LEAD_DEDUPE_LEASE_SECONDS', LEDGER_DEFAULTS.leaseSeconds, 1, 3600);
  const timeout = int(env, 'LEAD_FUNCTION_TIMEOUT_SECONDS', 30, 1, 900);
  if (leaseSeconds <= timeout)
    throw new ConfigError(
      'LEAD_DEDUPE_LEASE_SECONDS',
      `LEAD_DEDUPE_LEASE_SECONDS (${leaseSeconds}) must be longer than the function timeout (${timeout} s)`,
    );
  return {
    tableName,
    leaseSeconds,
    errorCooldownSeconds: int(env, 'LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS', LEDGER_DEFAULTS.errorCooldownSeconds, 1, 86400),
    ttlDays: int(env, 'LEAD_DEDUPE_TTL_DAYS', LEDGER_DEFAULTS.ttlDays, 1, 3650),
    maxAttempts: int(env, 'LEAD_DEDUPE_MAX_ATTEMPTS', LEDGER_DEFAULTS.maxAttempts, 1, 20),
  };
}
