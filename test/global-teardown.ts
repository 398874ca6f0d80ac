import type { ChildProcess } from 'node:child_process';

export default async function globalTeardown() {
  const child = (globalThis as any).__LOCAL_STACK__ as ChildProcess | undefined;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
