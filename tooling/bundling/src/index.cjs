'use strict';
/**
 * esbuild plugins for the deploy bundles. Plain CommonJS because serverless-esbuild `require`s a
 * service's `esbuild-plugins.cjs` at package time, with no TypeScript loader.
 */
const { readFile } = require('node:fs/promises');
const path = require('node:path');

const RESOURCE = /[\\/]node_modules[\\/]openai[\\/]resources[\\/](.+)\.(m?js)$/;
// One module the stand-ins share: the guard that turns a call into a left-out resource into an error.
const HELPER = 'openai-resources:missing';
const HELPER_SOURCE = [
  // Properties a debugger, test matcher or promise check may probe on any object.
  `const PROBES = new Set(['then', 'toJSON', 'asymmetricMatch', '$$typeof', 'nodeType', 'constructor']);`,
  `export const missing = (target, name) => new Proxy(target, { get(t, prop, receiver) {`,
  `  if (typeof prop !== 'string' || PROBES.has(prop) || Reflect.has(t, prop)) return Reflect.get(t, prop, receiver);`,
  `  throw new Error("openai resource '" + name + "' is not in this bundle (." + prop ` +
    `+ "): add it to openaiResources({ keep }) in the service's esbuild-plugins.cjs");`,
  `} });`,
].join('\n');

/**
 * Leaves out of the bundle the OpenAI API resources a function never calls.
 *
 * The SDK's client builds every resource (~100 of them, with their streaming helpers) in its
 * constructor, so esbuild cannot tree-shake any of them: ~60% of the session bundle was SDK code
 * it never runs, compiled on every cold start. Each resource module outside `keep` is replaced by
 * empty classes of the same names (the client still constructs them); calling into one throws an
 * error that names this plugin. Modules exporting anything but classes and re-exports are left
 * whole, so no helper a kept resource imports can go missing.
 *
 * @param {{ keep: string[] }} options paths under `openai/resources/` without the extension, a
 *   file (`beta/beta`) or a folder (`beta/chatkit`, everything under it). Example: a function
 *   calling `client.beta.chatkit.sessions.create` keeps `['beta/beta', 'beta/chatkit']`.
 * @returns {import('esbuild').Plugin}
 */
function openaiResources(options) {
  const keep = options?.keep;
  if (!Array.isArray(keep) || keep.length === 0 || keep.some((k) => typeof k !== 'string' || !k || /^[./]|\.m?js$/.test(k))) {
    throw new Error("openaiResources: `keep` must list resource paths like 'beta/chatkit' (under openai/resources/, no extension)");
  }
  const kept = (rel) => keep.some((k) => rel === k || rel.startsWith(`${k}/`));
  return {
    name: 'openai-resources',
    setup(build) {
      build.onResolve({ filter: new RegExp(`^${HELPER}$`) }, () => ({ path: HELPER, namespace: 'openai-resources' }));
      build.onLoad({ filter: /.*/, namespace: 'openai-resources' }, () => ({ contents: HELPER_SOURCE, loader: 'js' }));
      build.onLoad({ filter: RESOURCE }, async (args) => {
        const [, relRaw, ext] = RESOURCE.exec(args.path);
        const rel = relRaw.replace(/\\/g, '/');
        if (kept(rel)) return undefined;
        const source = await readFile(args.path, 'utf8');
        const stub = stubModule(source, rel, ext, args.path);
        return stub === undefined ? undefined : { contents: stub, loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}

/** The stand-in for one resource module, or undefined to keep the module as it is. */
function stubModule(source, rel, ext, file) {
  // ESM build (.mjs) only: the CommonJS build's exports are not statically visible.
  if (ext !== 'mjs') return undefined;
  // Anything exported but classes and re-exports (helper functions, constants): keep it whole.
  if (/^export (?!class |\* from |\{[^}]*\} from |\{\s*\};?$)/m.test(source)) return undefined;
  const classes = [...source.matchAll(/^export class (\w+)/gm)].map((m) => m[1]);
  if (classes.length === 0) return undefined;
  const root = file.slice(0, file.length - `resources/${rel}.${ext}`.length);
  // Re-exports of other resources stay (they are stubbed in turn); re-exports of the SDK's
  // helpers (lib/: the streaming runners) go, or they would pull the helpers back in.
  const resourcesDir = path.join(root, 'resources');
  const reexports = (source.match(/^export (?:\*|\{[^}]*\}) from ['"][^'"]+['"];?/gm) ?? []).filter((line) => {
    const target = path.resolve(path.dirname(file), /from ['"]([^'"]+)['"]/.exec(line)[1]);
    return target.startsWith(resourcesDir + path.sep);
  });
  const resourceModule = JSON.stringify(path.join(root, 'core', `resource.${ext}`));
  const resourceName = JSON.stringify(rel);
  return [
    `import { APIResource } from ${resourceModule};`,
    `import { missing } from ${JSON.stringify(HELPER)};`,
    ...classes.map(
      (c) => `export class ${c} extends APIResource { constructor(client) { super(client); return missing(this, ${resourceName}); } }`,
    ),
    ...reexports,
  ].join('\n');
}

const ZOD_LOCALES = /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.(m?js|cjs)$/;

/**
 * Leaves out of the bundle zod's error-message locales a function never sets.
 *
 * zod 4 exposes every locale (~50 of them) as `z.locales`, a namespace esbuild cannot tree-shake:
 * 259 KB of the lead bundle's 1.1 MB, compiled on every cold start, though the schemas' own messages
 * come from `en`, which zod imports directly. The locales' index is replaced by one that re-exports
 * the kept ones and, for each other name, a function that throws an error naming this plugin.
 *
 * @param {{ keep: string[] }} options locale names as zod exports them (`en`, `fr`, `zhCN`).
 * @returns {import('esbuild').Plugin}
 */
function zodLocales(options) {
  const keep = options?.keep;
  if (!Array.isArray(keep) || keep.length === 0 || keep.some((k) => typeof k !== 'string' || !/^[A-Za-z]+$/.test(k))) {
    throw new Error("zodLocales: `keep` must list locale names like 'en' (as zod/v4/locales exports them)");
  }
  return {
    name: 'zod-locales',
    setup(build) {
      build.onLoad({ filter: ZOD_LOCALES }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        const ext = /\.(m?js|cjs)$/.exec(args.path)[1];
        // ESM only (what esbuild bundles); the CommonJS build is left whole.
        if (ext === 'cjs') return undefined;
        const names = [...source.matchAll(/export \{ default as (\w+) \} from ["']\.\/([\w-]+)\.m?js["'];/g)];
        if (names.length === 0) return undefined; // an index of another shape: left whole
        const lines = names.map(([line, name]) =>
          keep.includes(name)
            ? line
            : `export const ${name} = () => { throw new Error("zod locale '${name}' is not in this bundle: ` +
              `add it to zodLocales({ keep }) in the service's esbuild-plugins.cjs"); };`,
        );
        return { contents: lines.join('\n'), loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}

const { lazyChunks } = require('./lazy-chunks.cjs');

module.exports = { openaiResources, zodLocales, lazyChunks };
