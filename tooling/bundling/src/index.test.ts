import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { emulator, emulatorBaseURL } from '@lead-intake/testkit';
import { openaiResources, zodLocales } from './index.cjs';

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
        service === 'lead' ? ['openai-resources', 'zod-locales'] : ['openai-resources'],
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
