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

module.exports = { openaiResources };
