import { ConfigError } from '@lead-intake/errors';

export { ConfigError };

type Env = Record<string, string | undefined>;

export function stringSetting(env: Env, name: string, dflt?: string): string {
  const v = env[name]?.trim();
  if (v) return v;
  if (dflt !== undefined) return dflt;
  throw new ConfigError(name, `${name} is not set`);
}

export function intSetting(env: Env, name: string, dflt: number, range: { min: number; max: number }): number {
  const raw = env[name]?.trim();
  if (!raw) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < range.min || n > range.max) {
    throw new ConfigError(name, `${name} must be an integer from ${range.min} to ${range.max}`);
  }
  return n;
}

export function listSetting(env: Env, name: string, dflt: string[]): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return dflt;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export type ChatkitMode = 'self-hosted' | 'hosted';

/**
 * Where conversations live, from CHATKIT_MODE: `self-hosted` (the default: our ChatKit server,
 * services/chat) or `hosted` (legacy: OpenAI's Agent Builder sessions, which end on 2026-11-30).
 */
export function chatkitModeSetting(env: Env): ChatkitMode {
  const m = env.CHATKIT_MODE?.trim() || 'self-hosted';
  if (m !== 'hosted' && m !== 'self-hosted') throw new ConfigError('CHATKIT_MODE', "CHATKIT_MODE must be 'self-hosted' or 'hosted'");
  return m;
}

/** How long an OpenAI call may take and how often it is retried (OPENAI_TIMEOUT_MS, OPENAI_MAX_RETRIES). */
export interface OpenAIBudgetSetting {
  timeoutMs: number;
  maxRetries: number;
}

/**
 * The OpenAI call budget of a handler, read the same way everywhere; only the default timeout
 * differs by use (a session mint or a transcript read: seconds; a streamed chat turn: longer).
 */
export function openaiBudgetSetting(env: Env, defaultTimeoutMs: number): OpenAIBudgetSetting {
  return {
    timeoutMs: intSetting(env, 'OPENAI_TIMEOUT_MS', defaultTimeoutMs, { min: 100, max: 60000 }),
    maxRetries: intSetting(env, 'OPENAI_MAX_RETRIES', 1, { min: 0, max: 5 }),
  };
}
