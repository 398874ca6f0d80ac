import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { emulator, emulatorBaseURL } from '@lead-intake/testkit';
import { lazyChunks, openaiResources, zodLocales } from './index.cjs';

const REPO = join(__dirname, '..', '..', '..');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bundling-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles a tiny program the way the services are bundled, then runs it in a fresh Node. */
async function bundle(name: string, program: string, keep?: string[], plugins: Plugin[] = []): Promise<string> {
  const entry = join(dir, `${name}.ts`);
  writeFileSync(entry, program);
  const outfile = join(dir, `${name}.cjs`);
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    nodePaths: [join(REPO, 'node_modules')],
    plugins: [...(keep ? [openaiResources({ keep })] : []), ...plugins],
    logLevel: 'silent',
  });
  return outfile;
}
const run = (file: string) =>
  execFileSync(process.execPath, [file], {
    encoding: 'utf8',
    env: { ...process.env, OPENAI_BASE_URL: emulatorBaseURL(), OPENAI_API_KEY: 'sk-test' },
  });

const PROGRAM = `
import OpenAI from 'openai';
const client = new OpenAI();
(async () => {
  const s = await client.beta.chatkit.sessions.create({ user: 'u1', workflow: { id: 'wf_1' } });
  let missing = '';
  try { await client.responses.create({ model: 'gpt-4.1-mini', input: 'hi' }); } catch (e) { missing = (e as Error).message; }
  process.stdout.write(JSON.stringify({ secret: s.client_secret, missing }));
})();
`;

describe('openaiResources', () => {
  beforeEach(() => emulator().reset());

  test('kept resources work from the bundle; the others are left out, and calling one says why', async () => {
    const full = await bundle('full', PROGRAM);
    const slim = await bundle('slim', PROGRAM, ['beta/beta', 'beta/chatkit']);
    const fromFull = JSON.parse(run(full));
    const fromSlim = JSON.parse(run(slim));
    expect(fromFull).toMatchObject({ secret: expect.stringMatching(/^ek_/), missing: '' });
    expect(fromSlim.secret).toMatch(/^ek_/);
    expect(fromSlim.missing).toBe(
      "openai resource 'responses/responses' is not in this bundle (.create): " +
        "add it to openaiResources({ keep }) in the service's esbuild-plugins.cjs",
    );
    // The point of it: most of the SDK is gone (the streaming helpers with the resources).
    expect(statSync(slim).size).toBeLessThan(statSync(full).size * 0.6);
  });

  test('a kept folder keeps everything under it', async () => {
    const program = `
import OpenAI from 'openai';
const client = new OpenAI();
(async () => {
  const r = await client.responses.create({ model: 'gpt-4.1-mini', input: 'hi' });
  process.stdout.write(JSON.stringify({ text: r.output_text }));
})();
`;
    await emulator().queue({ text: 'kept' });
    expect(JSON.parse(run(await bundle('responses', program, ['responses'])))).toEqual({ text: 'kept' });
  });

  test('a keep list that cannot mean a resource is refused at build time', () => {
    for (const keep of [[], ['./beta'], ['beta/chatkit.mjs'], [''], undefined]) {
      expect(() => openaiResources({ keep } as never)).toThrow(/`keep` must list resource paths/);
    }
  });

  test('every service that calls OpenAI declares the resources it calls in its esbuild-plugins.cjs', () => {
    for (const service of ['lead', 'chat']) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const plugins = require(join(REPO, 'services', service, 'esbuild-plugins.cjs'));
      expect(plugins.map((p: { name: string }) => p.name)).toEqual(
        service === 'lead' ? ['openai-resources', 'zod-locales', 'lazy-chunks'] : ['openai-resources', 'lazy-chunks'],
      );
    }
    // The session calls OpenAI no more (hosted sessions ended on 2026-11-30): it has no plugins to declare.
    expect(readFileSync(join(REPO, 'services', 'session', 'serverless.yml'), 'utf8')).not.toMatch(/esbuild-plugins/);
    expect(readFileSync(join(REPO, 'services', 'session', 'package.json'), 'utf8')).not.toMatch(/openai/);
  });
});

describe('zodLocales', () => {
  const PROGRAM = `
import { z } from 'zod';
const r = z.object({ phone: z.string().min(7) }).safeParse({ phone: '1' });
const message = r.success ? '' : r.error.issues[0].message; // read before another locale is set
let other = '';
try { z.config(z.locales.fr()); } catch (e) { other = (e as Error).message; }
process.stdout.write(JSON.stringify({ message, other }));
`;

  test("zod's own messages stay English; the other locales are left out, and using one says why", async () => {
    const full = await bundle('zod-full', PROGRAM);
    const slim = await bundle('zod-slim', PROGRAM, undefined, [zodLocales({ keep: ['en'] })]);
    const fromFull = JSON.parse(run(full));
    const fromSlim = JSON.parse(run(slim));
    expect(fromFull).toEqual({ message: expect.stringMatching(/^Too small/), other: '' });
    expect(fromSlim).toEqual({
      message: fromFull.message,
      other: "zod locale 'fr' is not in this bundle: add it to zodLocales({ keep }) in the service's esbuild-plugins.cjs",
    });
    // The point of it: the locales were most of zod's bytes in a bundle.
    expect(statSync(full).size - statSync(slim).size).toBeGreaterThan(150 * 1024);
  });

  test('a keep list that cannot mean a locale is refused at build time', () => {
    for (const keep of [[], ['./en'], ['en.js'], [''], undefined]) {
      expect(() => zodLocales({ keep } as never)).toThrow(/`keep` must list locale names/);
    }
  });
});

describe('lazyChunks', () => {
  /** A folder of small modules, bundled the way the services are (outfile: the local stack; outdir: serverless-esbuild). */
  async function chunked(
    name: string,
    files: Record<string, string>,
    chunks: Record<string, string> | Parameters<typeof lazyChunks>[0],
    out: 'outfile' | 'outdir',
  ) {
    const root = join(dir, name);
    for (const [file, text] of Object.entries(files)) {
      const at = join(root, file.startsWith('node_modules/') ? '' : 'src', file);
      mkdirSync(dirname(at), { recursive: true });
      writeFileSync(at, text);
    }
    await build({
      entryPoints: [join(root, 'src', 'main.ts')],
      ...(out === 'outfile' ? { outfile: join(root, 'build', 'fn-main.cjs') } : { outdir: join(root, '.build', 'src') }),
      bundle: true,
      minify: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      absWorkingDir: root,
      plugins: [lazyChunks('chunks' in chunks || 'packages' in chunks ? (chunks as never) : { chunks: chunks as Record<string, string> })],
      logLevel: 'silent',
    });
    return root;
  }
  const LEAF = {
    'main.ts': `
import { count } from './shared';
(async () => {
  const before = (globalThis as any).leafLoaded === true;
  const { leaf } = await import('./leaf');
  process.stdout.write(JSON.stringify({ before, after: (globalThis as any).leafLoaded === true, value: leaf(2), count: count() }));
})();`,
    'leaf.ts': `(globalThis as any).leafLoaded = true;\nexport const leaf = (n: number) => 'LEAF-MARKER ' + n * 21;`,
    'shared.ts': `let n = 0;\nexport const count = () => ++n;`,
  };

  test.each(['outfile', 'outdir'] as const)(
    'a module reached only through import() is a file of its own beside the bundle, loaded by that import (%s)',
    async (out) => {
      const root = await chunked(`leaf-${out}`, LEAF, { leaf: './leaf' }, out);
      const [main, chunk] =
        out === 'outfile'
          ? [join(root, 'build', 'fn-main.cjs'), join(root, 'build', 'fn-main.leaf.cjs')]
          : [join(root, '.build', 'src', 'main.js'), join(root, '.build', 'src', 'main.leaf.cjs')];
      expect(readFileSync(main, 'utf8')).not.toContain('LEAF-MARKER');
      expect(readFileSync(chunk, 'utf8')).toContain('LEAF-MARKER');
      expect(JSON.parse(run(main))).toEqual({ before: false, after: true, value: 'LEAF-MARKER 42', count: 1 });
    },
  );

  test('a chunk that shares a module with the bundle fails the build, naming the module', async () => {
    const files = {
      ...LEAF,
      'leaf.ts': `import { count } from './shared';\nexport const leaf = (n: number) => 'LEAF-MARKER ' + (n + count());`,
    };
    const failed = await chunked('shared', files, { leaf: './leaf' }, 'outfile').then(
      () => null,
      (e: { errors?: Array<{ text: string }> }) => e.errors?.map((x) => x.text).join(' '),
    );
    expect(failed).toMatch(/chunk 'leaf' shares 1 module\(s\) with the bundle \(.*shared\.ts\): they would load twice/);
    expect(() => statSync(join(dir, 'shared', 'build', 'fn-main.leaf.cjs'))).toThrow(); // no half-made chunk left
  });

  test('a name or module that cannot mean a chunk is refused at build time', async () => {
    for (const chunks of [{}, { Leaf: './leaf' }, { leaf: '' }, undefined, ['./leaf']]) {
      expect(() => lazyChunks({ chunks } as never)).toThrow(/`chunks` must map lower-case names to modules/);
    }
    const missing = await chunked('missing', LEAF, { leaf: './nowhere' }, 'outfile').then(
      () => null,
      (e: { errors?: Array<{ text: string }> }) => e.errors?.map((x) => x.text).join(' '),
    );
    expect(missing).toMatch(/chunk 'leaf': cannot resolve \.\/nowhere/);
  });
  /** Three small npm packages: an ESM one with a subpath and state, the ESM one it imports, a CommonJS one. */
  const PACKAGES = {
    'node_modules/tiny-lib/package.json': JSON.stringify({
      name: 'tiny-lib',
      type: 'module',
      exports: { '.': './index.js', './sub': './sub.js' },
    }),
    'node_modules/tiny-lib/index.js': [
      `import { dep } from 'dep-lib';`,
      `globalThis.tinyLoaded = (globalThis.tinyLoaded ?? 0) + 1;`,
      `let n = 0;`,
      `export const tick = () => ++n;`,
      `export default function tiny(x) { return 'TINY-MARKER ' + dep(x); }`,
    ].join('\n'),
    'node_modules/tiny-lib/sub.js': `import { tick } from './index.js';\nexport const subTick = () => tick();`,
    'node_modules/dep-lib/package.json': JSON.stringify({ name: 'dep-lib', type: 'module', exports: './index.js' }),
    'node_modules/dep-lib/index.js': `export const dep = (x) => { (globalThis).depMark = 'DEP-MARKER'; return x * 2; };`,
    'node_modules/cjs-lib/package.json': JSON.stringify({ name: 'cjs-lib', main: 'index.js' }),
    'node_modules/cjs-lib/index.js': `exports.shout = (s) => 'CJS-MARKER ' + s.toUpperCase();`,
  };
  const LATE = {
    ...PACKAGES,
    'main.ts': `
import { count } from './shared';
(async () => {
  const before = (globalThis as any).tinyLoaded ?? 0;
  const { late } = await import('./late');
  const { other } = await import('./other');
  process.stdout.write(JSON.stringify({ before, ...late(), other: other(), loaded: (globalThis as any).tinyLoaded, count: count() }));
})();`,
    'late.ts': [
      `import tiny, { tick } from 'tiny-lib';`,
      `import { shout } from 'cjs-lib';`,
      `export const late = () => ({ value: tiny(21), tick: tick(), shout: shout('hi') });`,
    ].join('\n'),
    'other.ts': `import { subTick } from 'tiny-lib/sub';\nexport const other = () => subTick();`,
    'shared.ts': `let n = 0;\nexport const count = () => ++n;`,
  };

  test.each(['outfile', 'outdir'] as const)(
    'a listed package goes to a file of its own, loaded when the first module importing it runs, one copy for all (%s)',
    async (out) => {
      const root = await chunked(`packages-${out}`, LATE, { packages: { libs: ['tiny-lib', 'cjs-lib', 'dep-lib'] } }, out);
      const [main, chunk] =
        out === 'outfile'
          ? [join(root, 'build', 'fn-main.cjs'), join(root, 'build', 'fn-main.libs.cjs')]
          : [join(root, '.build', 'src', 'main.js'), join(root, '.build', 'src', 'main.libs.cjs')];
      expect(readFileSync(main, 'utf8')).not.toMatch(/TINY-MARKER|CJS-MARKER/);
      expect(readFileSync(chunk, 'utf8')).toMatch(/TINY-MARKER[^]*CJS-MARKER|CJS-MARKER[^]*TINY-MARKER/);
      // Not loaded before the import(); loaded once; its state shared by both importers (the subpath's tick is the same counter).
      expect(JSON.parse(run(main))).toEqual({
        before: 0,
        value: 'TINY-MARKER 42',
        tick: 1,
        shout: 'CJS-MARKER HI',
        other: 2,
        loaded: 1,
        count: 1,
      });
    },
  );

  test('a package the bundle imports from its start loads with it, still one copy', async () => {
    const files = {
      ...LATE,
      'main.ts':
        `import tiny, { tick } from 'tiny-lib';\nconst first = (globalThis as any).tinyLoaded;\n` +
        `(async () => { tick(); const { other } = await import('./other');\n` +
        `process.stdout.write(JSON.stringify({ first, value: tiny(1), other: other(), loaded: (globalThis as any).tinyLoaded })); })();`,
    };
    const root = await chunked('packages-eager', files, { packages: { libs: ['tiny-lib', 'dep-lib'] } }, 'outfile');
    expect(JSON.parse(run(join(root, 'build', 'fn-main.cjs')))).toEqual({ first: 1, value: 'TINY-MARKER 2', other: 2, loaded: 1 });
  });

  test('packages in two chunks: a chunk imports the other chunk, never a copy of it', async () => {
    const root = await chunked('packages-two', LATE, { packages: { tiny: ['tiny-lib'], deps: ['dep-lib', 'cjs-lib'] } }, 'outfile');
    const tiny = readFileSync(join(root, 'build', 'fn-main.tiny.cjs'), 'utf8');
    expect(tiny).toContain('fn-main.deps.cjs');
    expect(tiny).not.toContain('DEP-MARKER');
    expect(readFileSync(join(root, 'build', 'fn-main.deps.cjs'), 'utf8')).toContain('DEP-MARKER');
    expect(JSON.parse(run(join(root, 'build', 'fn-main.cjs')))).toMatchObject({ before: 0, value: 'TINY-MARKER 42', other: 2, loaded: 1 });
  });

  test('a package chunk holding a module the bundle holds too fails the build, naming it', async () => {
    const files = { ...LATE, 'shared.ts': `import { dep } from 'dep-lib';\nlet n = 0;\nexport const count = () => ++n + dep(0);` };
    const failed = await chunked('packages-shared', files, { packages: { libs: ['tiny-lib'] } }, 'outfile').then(
      () => null,
      (e: { errors?: Array<{ text: string }> }) => e.errors?.map((x) => x.text).join(' '),
    );
    expect(failed).toMatch(/chunk 'libs' shares 1 module\(s\) with the bundle \(node_modules\/dep-lib\/index\.js\): they would load twice/);
    expect(() => statSync(join(dir, 'packages-shared', 'build', 'fn-main.libs.cjs'))).toThrow();
  });

  test('a package list that cannot mean a chunk is refused at build time', () => {
    for (const packages of [{}, { Libs: ['zod'] }, { libs: [] }, { libs: ['Not A Package'] }, { libs: 'zod' }, ['zod']]) {
      expect(() => lazyChunks({ packages } as never)).toThrow(/`packages` must map lower-case names to lists of npm packages/);
    }
    expect(() => lazyChunks({ packages: { a: ['zod'], b: ['luxon', 'zod'] } })).toThrow(/the package 'zod' is listed twice/);
    expect(() => lazyChunks({ chunks: { libs: './x' }, packages: { libs: ['zod'] } })).toThrow(/the chunk name 'libs' is used twice/);
  });
});
