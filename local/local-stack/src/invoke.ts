import { basename, join } from 'node:path';
import { bundleFunction } from './build';
import { LocalFunction } from './function-url';
import { LOCAL_DIR } from './paths';
import { discoverServices, resolveService } from './service-config';

/**
 * One function of a service run as the local stack runs it (its deploy bundle, one invocation per
 * instance, stopped at its timeout), outside the stack: for tests that need their own environment
 * (another SES endpoint, scaled-down leases) and Lambda's semantics rather than an in-process call.
 * `instances` start ready (as provisioned concurrency); `stop()` it when done.
 */
export async function localFunction(
  service: string,
  name: string,
  opts: { env: NodeJS.ProcessEnv; timeoutSeconds?: number; stage?: string; instances?: number },
): Promise<LocalFunction> {
  const dir = discoverServices().find((d) => basename(d) === service);
  if (!dir) throw new Error(`no service '${service}' under services/`);
  const svc = await resolveService(dir, opts.stage ?? 'local', join(LOCAL_DIR, 'cache'));
  const fn = svc.functions.find((f) => f.name === name);
  if (!fn) throw new Error(`${service} has no function '${name}' (it has ${svc.functions.map((f) => f.name).join(', ')})`);
  const bundle = await bundleFunction(svc, fn, join(LOCAL_DIR, 'build', 'invoke'));
  const env: NodeJS.ProcessEnv = { ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const local = new LocalFunction(fn, bundle, env, { timeoutSeconds: opts.timeoutSeconds });
  await local.warm(opts.instances ?? 1);
  return local;
}
