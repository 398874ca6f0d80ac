import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_STACK_ENV } from './stack-env';

/**
 * Starts the real local stack (the same command as `npm run dev`, on test ports) once for the whole
 * run. Its output goes to .local/test-stack.log; tests reach it over HTTP only.
 */
export default async function globalSetup() {
  const root = join(__dirname, '..', '..');
  mkdirSync(join(root, '.local'), { recursive: true });
  // What the test files write (test/jest/environment.cjs): this run's only, for the end-of-run scan.
  rmSync(join(root, '.local', 'test-logs'), { recursive: true, force: true });
  mkdirSync(join(root, '.local', 'test-logs'), { recursive: true });
  const logFile = join(root, '.local', 'test-stack.log');
  const out = openSync(logFile, 'w');
  const outputs = join(root, '.local', 'test-outputs.json');
  const env: NodeJS.ProcessEnv = { ...process.env, ...TEST_STACK_ENV, LOCAL_OUTPUTS_FILE: outputs };
  delete env.OPENAI_API_KEY; // tests always run against the emulator
  delete env.OPENAI_BASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'local/local-stack/src/cli.ts')], {
    cwd: root,
    env,
    stdio: ['ignore', out, out],
  });
  (globalThis as any).__LOCAL_STACK__ = child;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const log = readFileSync(logFile, 'utf8');
    if (/^ready in /m.test(log)) break;
    if (child.exitCode !== null) throw new Error(`local stack exited during start:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!/^ready in /m.test(readFileSync(logFile, 'utf8'))) {
    child.kill('SIGKILL');
    throw new Error(`local stack did not become ready:\n${readFileSync(logFile, 'utf8')}`);
  }
  process.env.TEST_STACK_OUTPUTS = outputs;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  process.env.TEST_STACK_LOG = logFile;
  for (const [k, v] of Object.entries(TEST_STACK_ENV)) process.env[`TEST_${k}`] = v;
}
