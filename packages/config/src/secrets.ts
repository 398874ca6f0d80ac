import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { ConfigError } from './settings';

export interface SecretsContext extends Context {
  secrets: Record<string, string>;
}

export interface SecretsOptions {
  /** Secrets every request needs (e.g. OPENAI_API_KEY). */
  names: readonly string[];
  /**
   * SSM Parameter Store path (`/chatkit-lead-intake/<stage>/`) holding one SecureString per name.
   * Empty or absent: the secrets come from the environment (local development).
   */
  ssmPath?: string;
  /** How long fetched values are kept before SSM is asked again (rotation takes effect after it). */
  cacheSeconds?: number;
  env?: Record<string, string | undefined>;
  /** Called once, the first time a secret is found missing (one clear log line per instance). */
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
  if (missing.length) throw missingError(missing);
  return out;
}

const missingError = (missing: string[], where = '') =>
  new ConfigError(missing.join(','), `missing secret${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}${where}`);

/**
 * Puts the secrets into `request.context.secrets`. Deployed: fetched from SSM at cold start through
 * @middy/ssm (one GetParameters call, decrypted, cached), never in the function's environment.
 * Locally: from environment variables. A missing secret fails the request with a ConfigError that
 * names it (a 500), logged once per instance.
 */
export function secrets(opts: SecretsOptions): MiddlewareObj<unknown, unknown, Error, SecretsContext> {
  let reported = false;
  const report = (e: ConfigError) => {
    if (!reported) {
      reported = true;
      opts.onMissing?.(e);
    }
    return e;
  };

  if (!opts.ssmPath) {
    let cached: Record<string, string> | undefined;
    return {
      before: function secretsBefore(request) {
        if (!cached) {
          try {
            cached = readSecrets(opts.names, opts.env ?? process.env);
          } catch (e) {
            throw e instanceof ConfigError ? report(e) : e;
          }
        }
        request.context.secrets = cached;
      },
    };
  }

  const path = opts.ssmPath.endsWith('/') ? opts.ssmPath : `${opts.ssmPath}/`;
  // Loaded on first use: the SSM client is only needed where secrets live in SSM, and a request
  // answered before this step (a duplicate lead trigger) never pays for it.
  let inner: Promise<{ before?: (r: any) => unknown }> | undefined;
  const load = () =>
    (inner ??= import('@middy/ssm').then(({ default: ssm }) =>
      ssm({
        fetchData: Object.fromEntries(opts.names.map((n) => [n, `${path}${n}`])),
        setToContext: true,
        cacheExpiry: (opts.cacheSeconds ?? 900) * 1000,
      }),
    ));
  return {
    before: async function secretsBefore(request) {
      try {
        await (await load()).before?.(request as any);
      } catch (e) {
        // @middy/util wraps the per-key failures in cause.data.
        const causes = [e, ...((((e as Error)?.cause as { data?: unknown[] })?.data ?? []) as unknown[])];
        const missing = causes.map((c) => /InvalidParameter (\S+)/.exec((c as Error)?.message ?? '')?.[1]).filter((x): x is string => !!x);
        if (missing.length)
          throw report(
            missingError(
              missing.map((m) => m.slice(path.length)),
              ` (SSM parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')})`,
            ),
          );
        throw e;
      }
      const ctx = request.context as unknown as Record<string, unknown>;
      const values: Record<string, string> = {};
      const missing: string[] = [];
      for (const n of opts.names) {
        const v = ctx[n];
        if (typeof v === 'string' && v.trim()) values[n] = v;
        else missing.push(n);
        delete ctx[n]; // keep secrets in one place: context.secrets
      }
      if (missing.length) throw report(missingError(missing, ` (SSM path ${path})`));
      request.context.secrets = values;
    },
  };
}

/**
 * One secret read when it is first needed, not with a function's others (a channel's signing
 * secret: a missing one fails that channel alone, never the request): SSM `<ssmPath><name>`
 * (decrypted, kept `cacheSeconds`) when deployed, the environment locally. A missing or
 * unreadable one is a ConfigError naming it (its cause kept).
 */
export function lazySecret(
  name: string,
  opts: { ssmPath?: string; env?: Record<string, string | undefined>; cacheSeconds?: number },
): () => Promise<string> {
  let kept: { value: string; until: number } | undefined;
  return async () => {
    if (kept && kept.until > Date.now()) return kept.value;
    let value: string | undefined;
    if (!opts.ssmPath) value = (opts.env ?? process.env)[name]?.trim();
    else {
      const path = opts.ssmPath.endsWith('/') ? opts.ssmPath : `${opts.ssmPath}/`;
      const { SSMClient, GetParametersCommand } = await import('@aws-sdk/client-ssm');
      try {
        const out = await new SSMClient({ maxAttempts: 2 }).send(
          new GetParametersCommand({ Names: [`${path}${name}`], WithDecryption: true }),
        );
        value = out.Parameters?.[0]?.Value;
      } catch (e) {
        throw Object.assign(new ConfigError(name, `secret ${name} could not be read (SSM path ${path})`), { cause: e });
      }
    }
    if (!value) throw missingError([name], opts.ssmPath ? ` (SSM path ${opts.ssmPath})` : '');
    kept = { value, until: Date.now() + (opts.cacheSeconds ?? 900) * 1000 };
    return value;
  };
}
