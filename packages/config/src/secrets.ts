import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { ConfigError } from './settings';

export interface SecretsContext extends Context {
  secrets: Record<string, string>;
}

export interface SecretsOptions {
  /** Secrets every request needs (e.g. OPENAI_API_KEY). */
  names: readonly string[];
  env?: Record<string, string | undefined>;
  /** Called once, the first time a secret is found missing (one clear log line per cold start). */
  onMissing?: (error: ConfigError) => void;
}

/** Reads the named secrets from the environment; throws a ConfigError naming every missing one. */
export function readSecrets(names: readonly string[], env: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const v = env[name]?.trim();
    if (v) out[name] = v;
    else missing.push(name);
  }
  if (missing.length) throw new ConfigError(missing.join(','), `missing secret${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  return out;
}

/**
 * Puts the secrets into `request.context.secrets`, read once and cached for the life of the
 * instance. A missing secret fails every request with a 500 and is logged once.
 */
export function secrets(opts: SecretsOptions): MiddlewareObj<unknown, unknown, Error, SecretsContext> {
  let cached: Record<string, string> | undefined;
  let reported = false;
  return {
    before: function secretsBefore(request) {
      if (!cached) {
        try {
          cached = readSecrets(opts.names, opts.env ?? process.env);
        } catch (e) {
          if (!reported && e instanceof ConfigError) {
            reported = true;
            opts.onMissing?.(e);
          }
          throw e;
        }
      }
      request.context.secrets = cached;
    },
  };
}
