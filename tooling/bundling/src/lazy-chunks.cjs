'use strict';
/**
 * `lazyChunks`: code a function runs only late goes to files of their own beside the bundle, loaded
 * when first needed. A cold start compiles the whole bundle file before the handler runs, code it
 * will not run yet included; a chunk is compiled only when it is needed.
 *
 * - `chunks`: modules the function reaches only through `import()`, loaded by that import's first call.
 * - `packages`: npm packages (every subpath; imported, required or `import()`ed), loaded when the
 *   first module importing them runs. esbuild runs a module reached only through `import()` when
 *   that import is called, so a package only such modules import stays out of the cold start.
 *
 * No module is loaded twice: a chunk that shares a module with the bundle or with another chunk
 * fails the build, naming it (it would have two states: two loggers, two caches, errors that fail
 * `instanceof`). A package chunk is the only copy of its packages, whoever imports them.
 */
const { rmSync } = require('node:fs');
const path = require('node:path');

const NAME = 'lazy-chunks';
const CHUNK_NAME = /^[a-z][a-z0-9-]{0,40}$/;
const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;
const LOADER = 'lazy-chunk';
const PACKAGE_LOADER = 'lazy-package';

/**
 * @param {{ chunks?: Record<string, string>, packages?: Record<string, string[]> }} options
 *   `chunks`: chunk name → the module, as the service's code would import it (a package or a path
 *   from the service's directory). Example, for the chat: `{ openai: '@lead-intake/openai-client' }`:
 *   its bundle `handler.js`, and `handler.openai.cjs`.
 *   `packages`: chunk name → npm package names. Example, for the lead: `{ libs: ['zod', 'luxon'] }`.
 * @returns {import('esbuild').Plugin}
 */
function lazyChunks(options) {
  const { chunks, packages } = validate(options);
  /** package name → its chunk's name */
  const packageChunk = new Map(Object.entries(packages).flatMap(([name, list]) => list.map((p) => [p, name])));
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
      /** chunk name → resolved path, the module chunks this build's code imports */
      const used = new Map();
      /** package chunk name → (key → resolved path): the package modules the code imports */
      const usedPackages = new Map();

      build.onStart(async () => {
        targets = new Map();
        used.clear();
        usedPackages.clear();
        const resolveDir = path.dirname(path.resolve(opts.absWorkingDir ?? process.cwd(), firstEntry(opts)));
        for (const [name, spec] of Object.entries(chunks)) {
          const r = await build.resolve(spec, { kind: 'dynamic-import', resolveDir, pluginData: skip });
          if (r.errors.length) return { errors: [{ text: `lazyChunks: chunk '${name}': cannot resolve ${spec} from ${resolveDir}` }] };
          targets.set(r.path, name);
        }
        return undefined;
      });

      // `import()` of a chunk's module: a loader that requires the chunk's file beside the bundle.
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind !== 'dynamic-import' || args.pluginData?.[NAME] || targets.size === 0) return undefined;
        const r = await resolvePast(build, args);
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
      redirectPackages(build, opts, packageChunk, null, usedPackages);

      build.onEnd(async (result) => {
        if (result.errors.length || (used.size === 0 && usedPackages.size === 0)) return;
        const others = (opts.plugins ?? []).filter((p) => p.name !== NAME);
        const holds = new Map([['the bundle', inputsOf(result)]]);
        const made = [];
        // Refuses a chunk holding a module the bundle or another chunk holds; removes what it made.
        const check = (name, outfile, inputs) => {
          if (!made.includes(outfile)) made.push(outfile);
          holds.delete(`chunk '${name}'`); // a package chunk rebuilt with more modules
          for (const [where, set] of holds) {
            const shared = [...inputs].filter((k) => set.has(k));
            if (shared.length) {
              for (const file of made) rmSync(file, { force: true });
              throw new Error(
                `lazyChunks: chunk '${name}' shares ${shared.length} module(s) with ${where} (${shared.slice(0, 5).join(', ')}): ` +
                  'they would load twice, with two states. Leave it in the bundle, or cut what it shares.',
              );
            }
          }
          holds.set(`chunk '${name}'`, inputs);
        };
        // A chunk's own imports of listed packages go to their chunks too (never a second copy).
        const chunkBuild = (name, extra) =>
          build.esbuild.build({
            ...opts,
            outfile: path.join(outDir(opts), chunkFile(opts, name)),
            outdir: undefined,
            outExtension: undefined,
            plugins: [...others, { name: `${NAME}-packages`, setup: (b) => redirectPackages(b, opts, packageChunk, name, usedPackages) }],
            metafile: true,
            logLevel: 'silent',
            ...extra,
          });
        for (const [name, file] of used) {
          const out = await chunkBuild(name, { entryPoints: [file] });
          check(name, path.join(outDir(opts), chunkFile(opts, name)), inputsOf(out));
        }
        // A package chunk: one object, each imported module of its packages under its key. Built
        // again if a later chunk imports more of its modules (until no chunk asks for more).
        const built = new Map();
        for (let next; (next = [...usedPackages.keys()].find((n) => built.get(n) !== usedPackages.get(n).size));) {
          built.set(next, usedPackages.get(next).size);
          // Sorted: the same code makes the same file (esbuild resolves in parallel, in no fixed order).
          const modules = [...usedPackages.get(next)]
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([key, file]) => `${JSON.stringify(key)}: require(${JSON.stringify(file)})`);
          const out = await chunkBuild(next, {
            entryPoints: undefined,
            stdin: { contents: `module.exports = {\n${modules.join(',\n')}\n};`, resolveDir: outDir(opts), loader: 'js' },
          });
          check(next, path.join(outDir(opts), chunkFile(opts, next)), inputsOf(out));
        }
      });
    },
  };
  return plugin;
}

/**
 * Every import of a listed package (but those of `own`, the chunk being built) loads from its
 * chunk: the module is the chunk's entry under its key, the path from the working directory.
 */
function redirectPackages(build, opts, packageChunk, own, usedPackages) {
  if (packageChunk.size === 0) return;
  const names = [...packageChunk.keys()].filter((p) => packageChunk.get(p) !== own);
  if (names.length === 0) return;
  const filter = new RegExp(`^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})(/.*)?$`);
  const cwd = path.resolve(opts.absWorkingDir ?? process.cwd());
  build.onResolve({ filter }, async (args) => {
    if (args.kind === 'entry-point' || args.pluginData?.[NAME]) return undefined;
    const r = await resolvePast(build, args);
    if (r.errors.length || r.external) return undefined; // esbuild reports it, or leaves it out as told
    const name = packageChunk.get(filter.exec(args.path)[1]);
    const key = path.relative(cwd, r.path).split(path.sep).join('/');
    if (!usedPackages.has(name)) usedPackages.set(name, new Map());
    usedPackages.get(name).set(key, r.path);
    // Not ending in the module's own extension: a `.mjs` path would make esbuild read the loader as ESM.
    return { path: `${key} (${name})`, namespace: PACKAGE_LOADER, pluginData: { name, key } };
  });
  build.onLoad({ filter: /.*/, namespace: PACKAGE_LOADER }, (args) => {
    const { name, key } = args.pluginData;
    return { contents: `module.exports = require(${JSON.stringify(`./${chunkFile(opts, name)}`)})[${JSON.stringify(key)}];`, loader: 'js' };
  });
  build.onResolve({ filter: /\.cjs$/, namespace: PACKAGE_LOADER }, (args) => ({ path: args.path, external: true }));
}

/** Where esbuild itself would resolve an import, this plugin's own handlers skipped. */
function resolvePast(build, args) {
  const { kind, resolveDir, importer, namespace } = args;
  return build.resolve(args.path, { kind, resolveDir, importer, namespace, pluginData: { [NAME]: true } });
}

function validate(options) {
  const entries = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v) : null);
  const hasPackages = options?.packages !== undefined;
  const hasChunks = options?.chunks !== undefined || !hasPackages;
  const chunks = hasChunks ? entries(options?.chunks) : [];
  if (!chunks || (hasChunks && chunks.length === 0) || chunks.some(([n, s]) => !CHUNK_NAME.test(n) || typeof s !== 'string' || !s)) {
    throw new Error("lazyChunks: `chunks` must map lower-case names to modules, like { openai: '@lead-intake/openai-client' }");
  }
  const packages = hasPackages ? entries(options.packages) : [];
  const badList = (list) => !Array.isArray(list) || list.length === 0 || list.some((p) => typeof p !== 'string' || !PACKAGE_NAME.test(p));
  if (!packages || (hasPackages && packages.length === 0) || packages.some(([n, list]) => !CHUNK_NAME.test(n) || badList(list))) {
    throw new Error("lazyChunks: `packages` must map lower-case names to lists of npm packages, like { libs: ['zod', 'luxon'] }");
  }
  const names = new Set(chunks.map(([n]) => n));
  const listed = new Set();
  for (const [n, list] of packages) {
    if (names.has(n)) throw new Error(`lazyChunks: the chunk name '${n}' is used twice`);
    names.add(n);
    for (const p of list) {
      if (listed.has(p)) throw new Error(`lazyChunks: the package '${p}' is listed twice`);
      listed.add(p);
    }
  }
  return { chunks: Object.fromEntries(chunks), packages: Object.fromEntries(packages) };
}

/** The real modules a build's output holds (not this plugin's loaders). */
function inputsOf(result) {
  return new Set(
    Object.keys(result.metafile?.inputs ?? {}).filter(
      (k) => k !== '<stdin>' && !k.startsWith(`${LOADER}:`) && !k.startsWith(`${PACKAGE_LOADER}:`),
    ),
  );
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
