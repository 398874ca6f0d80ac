import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { scanRun } from './pii-scan';

export default async function globalTeardown() {
  const child = (globalThis as any).__LOCAL_STACK__ as ChildProcess | undefined;
  if (child && child.exitCode === null)
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  // Once per run, over everything written: no customer's phone, email or name in any log line.
  const { files, findings } = scanRun(join(__dirname, '..', '..'));
  if (findings.length) {
    const shown = findings.slice(0, 20).map((f) => `  ${f.file}:${f.line}: ${f.what}\n    ${f.excerpt}`);
    throw new Error(
      `customer data in the logs (${findings.length} lines in ${files} logs scanned; docs/runbook.md):\n${shown.join('\n')}` +
        (findings.length > 20 ? `\n  ... and ${findings.length - 20} more` : ''),
    );
  }
  process.stderr.write(`no customer data in ${files} logs (phones in every form, emails, the tests' names)\n`);
}
