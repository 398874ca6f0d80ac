'use strict';
/**
 * `lazyChunks`: modules a function reaches only through `import()` go to files of their own beside
 * the bundle, loaded by that import's first call. A cold start compiles the whole bundle file before
 * the handler runs, code it will not run yet included; a chunk is compiled only when it is needed.
 *
 * Only leaves: a chunk that shares a module with the bundle fails the build, naming the module (it
 * would be loaded twice, with two states: two loggers, two caches, errors that fail `instanceof`).
 */
const { rmSync } = require('node:fs');
const path = require('node:path');

const NAME = 'lazy-chunks';
const CHUNK_NAME = /^[a-z][a-z0-9-]{0,40}$/;
const LOADER = 'lazy-chunk';

/**
 * @param {{ chunks: Record<string, string> }} options chunk name → the module, as the service's
 *   code would import it (a package or a path from the service's directory). Example, for the chat:
 *   `{ openai: '@lead-intake/openai-client' }`: its bundle `handler.js`, and `handler.openai.cjs`.
 * @returns {import('esbuild').Plugin}
 */
function lazyChunks(options) {
  const chunks = options?.chunks;
  const entries = chunks && typeof chunks === 'object' && !Array.isArray(chunks) ? Object.entries(chunks) : [];
  if (entries.length === 0 || entries.some(([name, spec]) => !CHUNK_NAME.test(name) || typeof spec !== 'string' || !spec)) {
    throw new Error("lazyChunks: `chunks` must map lower-case names to modules, like { openai: '@lead-intake/openai-client' }");
  }
  const plugin = {
    name: NAME,
    setup(build) {
      const opts = build.initialOptions;
      if (opts.bundle !== true || (opts.format ?? 'cjs') !== 'cjs' || opts.platform !== 'node') {
        throw new Error('lazyChunks: for CommonJS bundles for node (bundle: true, format: cjs, platform: node)');
      }
      opts.metafile = true; // the leaf check reads what the bundle holds
      const skip = { [NAME]: true };
      /** resolved path → chunk name, for this build */
      let targets = new Map();
      /** chunk name → resolved path, the chunks this build's code imports */
      const used = new Map();

      build.onStart(async () => {
        targets = new Map();
        used.clear();
        const resolveDir = path.dirname(path.resolve(opts.absWorkingDir ?? process.cwd(), firstEntry(opts)));
        for (const [name, spec] of entries) {
          const r = await build.resolve(spec, { kind: 'dynamic-import', resolveDir, pluginData: skip });
          if (r.errors.length) return { errors: [{ text: `lazyChunks: chunk '${name}': cannot resolve ${spec} from ${resolveDir}` }] };
          targets.set(r.path, name);
        }
        return undefined;
      });

      // `import()` of a chunk's module: a loader that requires the chunk's file beside the bundle.
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.pluginData?.[NAME]) return undefined;
        const r = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          namespace: args.namespace,
          pluginData: skip,
        });
        const name = r.errors.length || r.external ? undefined : targets.get(r.path);
        if (!name) return undefined;
        used.set(name, r.path);
        return { path: name, namespace: LOADER };
      });
      // A require, not a runtime import(): the chunk loads as CommonJS wherever the bundle runs.
      build.onLoad({ filter: /.*/, namespace: LOADER }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(`./${chunkFile(opts, args.path)}`)});`,
        loader: 'js',
      }));
      build.onResolve({ filter: /\.cjs$/, namespace: LOADER }, (args) => ({ path: args.path, external: true }));

      build.onEnd(async (result) => {
        if (result.errors.length || used.size === 0) return;
        const others = (opts.plugins ?? []).filter((p) => p.name !== NAME);
        const inBundle = new Set(Object.keys(result.metafile?.inputs ?? {}).filter((k) => !k.startsWith(`${LOADER}:`)));
        for (const [name, file] of used) {
          const outfile = path.join(outDir(opts), chunkFile(opts, name));
          const chunk = await build.esbuild.build({
            ...opts,
            entryPoints: [file],
            outfile,
            outdir: undefined,
            outExtension: undefined,
            plugins: others,
            metafile: true,
            logLevel: 'silent',
          });
          const shared = Object.keys(chunk.metafile.inputs).filter((k) => inBundle.has(k));
          if (shared.length) {
            rmSync(outfile, { force: true });
            throw new Error(
              `lazyChunks: chunk '${name}' shares ${shared.length} module(s) with the bundle (${shared.slice(0, 5).join(', ')}): ` +
                'they would load twice, with two states. Leave it in the bundle, or cut what it shares.',
            );
          }
        }
      });
    },
  };
  return plugin;
}

function firstEntry(opts) {
  const e = opts.entryPoints;
  const list = Array.isArray(e) ? e : e && typeof e === 'object' ? Object.values(e) : [];
  if (list.length !== 1) throw new Error('lazyChunks: one entry point per build (as serverless-esbuild and the local stack build)');
  return typeof list[0] === 'string' ? list[0] : list[0].in;
}

/** Where the bundle is written: its outfile's folder, or the outdir. */
function outDir(opts) {
  if (opts.outfile) return path.dirname(path.resolve(opts.absWorkingDir ?? process.cwd(), opts.outfile));
  if (opts.outdir) return path.resolve(opts.absWorkingDir ?? process.cwd(), opts.outdir);
  throw new Error('lazyChunks: the build needs an outfile or an outdir');
}

/** `<bundle name>.<chunk>.cjs`, beside the bundle: `handler.js` → `handler.openai.cjs`. */
function chunkFile(opts, name) {
  const bundle = opts.outfile ? path.basename(opts.outfile) : path.basename(firstEntry(opts));
  return `${bundle.replace(/\.[^.]*$/, '')}.${name}.cjs`;
}

module.exports = { lazyChunks };
