#!/usr/bin/env node
/**
 * `npm run test:busy [-- --runs N] [-- --shuffle]`: runs `npm test` while another process keeps one
 * core busy (a spinning loop at normal priority), as on a CI machine doing other work. With
 * --shuffle each run orders the test files from a new seed (TEST_SHUFFLE, printed, to replay an
 * order). Stops at the first failing run; exits with its code. The busy process always ends with it.
 */
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: npm run test:busy -- [--runs N] [--shuffle]');
  process.exit(0);
}
const runsAt = args.indexOf('--runs');
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 1;
if (!Number.isInteger(runs) || runs < 1) {
  console.error('test:busy: --runs takes a whole number of at least 1');
  process.exit(2);
}
const shuffle = args.includes('--shuffle');

const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
const stopBusy = () => busy.exitCode === null && busy.kill('SIGKILL');
process.on('exit', stopBusy);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (stopBusy(), process.exit(130)));

let code = 0;
for (let run = 1; run <= runs && code === 0; run++) {
  const env = { ...process.env };
  if (shuffle) env.TEST_SHUFFLE = `${Date.now().toString(36)}-${run}`;
  const started = Date.now();
  console.log(
    `test:busy: run ${run} of ${runs} with one core kept busy${shuffle ? `, files shuffled (TEST_SHUFFLE=${env.TEST_SHUFFLE})` : ''}`,
  );
  code = await new Promise((resolve) => {
    const child = spawn('npm', ['test'], { stdio: 'inherit', env });
    child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0)));
  });
  console.log(`test:busy: run ${run} ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${Math.round((Date.now() - started) / 1000)} s`);
}
stopBusy();
process.exit(code);
