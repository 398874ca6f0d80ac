import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import type { ResolvedFunction, ResolvedService } from './service-config';

/**
 * Bundles a function with the service's own `custom.esbuild` settings, so the local stack runs the
 * same bundle shape the Lambda runs (minified cjs, `@aws-sdk/*` left to the runtime).
 */
export async function bundleFunction(svc: ResolvedService, fn: ResolvedFunction, outDir: string): Promise<string> {
  const modulePath = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
  const entry = ['.ts', '.js', '.mjs', '.cjs'].map((ext) => join(svc.dir, modulePath + ext)).find(existsSync);
  if (!entry) throw new Error(`${svc.service}.${fn.name}: no source for handler ${fn.handler}`);
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `${svc.service}-${fn.name}.cjs`);
  const o = svc.esbuild;
  await build({
    entryPoints: [entry],
    outfile,
    bundle: o.bundle !== false,
    minify: o.minify === true,
    sourcemap: o.sourcemap === true ? 'inline' : false,
    target: o.target ?? 'node22',
    platform: 'node',
    format: 'cjs',
    external: o.exclude ?? o.external ?? [],
    plugins: servicePlugins(svc),
    logLevel: 'error',
    // Node 20 here runs what Lambda's Node 22 runs; keep esbuild from lowering syntax it cannot.
    supported: { 'dynamic-import': true },
  });
  return outfile;
}

/** `custom.esbuild.plugins` as serverless-esbuild reads it: a file in the service that exports them. */
function servicePlugins(svc: ResolvedService): Plugin[] {
  const spec = svc.esbuild.plugins;
  if (spec === undefined) return [];
  if (typeof spec !== 'string') throw new Error(`${svc.service}: custom.esbuild.plugins must name a file (got ${JSON.stringify(spec)})`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  let plugins = require(join(svc.dir, spec));
  if (plugins?.__esModule) plugins = plugins.default;
  if (!Array.isArray(plugins)) throw new Error(`${svc.service}: ${spec} must export an array of esbuild plugins`);
  return plugins;
}
