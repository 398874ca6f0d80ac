/**
 * `npm run bench`: speed and cost, measured (never asserted in tests). Starts its own local stack
 * on bench ports, runs each scenario (one file each in bench/scenarios/), and writes
 * bench/results.json and docs/performance.md.
 *
 *   npm run bench                       every scenario
 *   npm run bench -- --scheduled-only   only the server-scheduled leads, printed (nothing written)
 *   npm run bench -- --rush-only        only the 1,000-conversation rush (the scheduled stack), printed (nothing written)
 *   npm run bench -- --cold-only        only the cold starts (the chat's first turn phase by phase), printed (nothing written)
 *   npm run bench -- --chat-only        only the warm chat (added first byte and text, DynamoDB requests per turn), printed
 *   npm run bench -- --callback-only    only the callback speed to lead, printed (nothing written)
 *   npm run bench -- --inbox-only       only the inbox list page (its own bench stack), printed (nothing written)
 *   npm run bench -- --memory-only [build dirs]  only the lead's whole send in a fresh process (peak memory,
 *                                       connections to DynamoDB); with build dirs (.local/build copies), each in turn, twice
 *   npm run bench -- --doc-only         rewrites docs/performance.md from bench/results.json
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { makeFixture } from './lib/fixture';
import { log, round } from './lib/measure';
import { ROOT, startStack } from './lib/stack';
import { performanceDoc } from './report';
import { chat } from './scenarios/chat';
import { coldStart } from './scenarios/cold-start';
import { ledger } from './scenarios/ledger';
import { memory } from './scenarios/memory';
import { render } from './scenarios/render';
import { serverScheduled } from './scenarios/server-scheduled';
import { callbackSpeed } from './scenarios/callback';
import { warmLatency } from './scenarios/warm-latency';
import { inboxList } from './scenarios/inbox';

async function main() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const stack = await startStack();
  const results: Record<string, unknown> = {};
  try {
    const fx = await makeFixture();
    const cold = await coldStart(fx);
    results.coldStart = cold;
    results.warmLatency = await warmLatency(fx);
    results.ledger = await ledger(fx);
    results.render200 = render();
    results.memory200 = await memory(fx);
    results.chat = await chat(cold.chatFirstTurn.firstByteMedianMs);
    results.inbox = await inboxList();
    results.machine = {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      memoryGb: round(totalmem() / 2 ** 30, 1),
      date: new Date().toISOString(),
    };
  } finally {
    stack.kill('SIGTERM');
    await new Promise((r) => stack.once('exit', r));
  }
  results.serverScheduled = await serverScheduled((results.chat as { addedToFirstStreamedByteMs: number }).addedToFirstStreamedByteMs);
  results.callback = await callbackSpeed();
  mkdirSync(join(ROOT, 'bench'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(ROOT, 'docs', 'performance.md'), performanceDoc(results as any));
  log('wrote bench/results.json and docs/performance.md');
  process.exit(0);
}

if (process.argv.includes('--callback-only')) {
  // Only the callback scenario, printed (nothing written): for working on it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  callbackSpeed().then(
    (r) => (console.log(JSON.stringify(r, null, 2)), process.exit(0)),
    (e) => (console.error(e), process.exit(1)),
  );
} else if (process.argv.includes('--cold-only') || process.argv.includes('--chat-only')) {
  // The cold starts (with the chat's first turn, phase by phase), or the warm chat: printed, nothing written.
  printOnStack(() => (process.argv.includes('--chat-only') ? chat(NaN) : makeFixture().then(coldStart)));
} else if (process.argv.includes('--memory-only')) {
  const dirs = process.argv.slice(process.argv.indexOf('--memory-only') + 1).filter((a) => !a.startsWith('--'));
  printOnStack(async () => {
    const fx = await makeFixture();
    if (!dirs.length) return memory(fx);
    const out: Record<string, unknown[]> = {};
    // Alternating, so the machine's drift falls on each build alike.
    for (let round = 0; round < 2; round++)
      for (const d of dirs) (out[d] ??= []).push(await memory(fx, join(resolve(d), 'chatkit-lead-intake-lead-lead.cjs')));
    return out;
  });
} else if (process.argv.includes('--inbox-only')) {
  printOnStack(inboxList);
} else if (process.argv.includes('--scheduled-only') || process.argv.includes('--rush-only')) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // --model-delay-ms N (with --rush-only): each summary's model request waits N ms first, as a real model does.
  const at = process.argv.indexOf('--model-delay-ms');
  const modelDelayMs = at > 0 ? Number(process.argv[at + 1]) : 0;
  if (!Number.isInteger(modelDelayMs) || modelDelayMs < 0) throw new Error('--model-delay-ms takes a whole number of milliseconds');
  if (modelDelayMs && !process.argv.includes('--rush-only')) throw new Error('--model-delay-ms is for --rush-only');
  serverScheduled(NaN, process.argv.includes('--rush-only') ? 'rush' : undefined, modelDelayMs).then(
    (r) => (console.log(JSON.stringify(r, null, 2)), process.exit(0)),
    (e) => (console.error(e), process.exit(1)),
  );
} else if (process.argv.includes('--doc-only')) {
  // Rewrites docs/performance.md from bench/results.json (after editing the text), without measuring.
  writeFileSync(
    join(ROOT, 'docs', 'performance.md'),
    performanceDoc(JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8'))),
  );
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

/** One scenario on the bench's own stack, its result printed (nothing written); the stack stopped either way. */
function printOnStack(scenario: () => Promise<unknown>) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  (async () => {
    const stack = await startStack();
    try {
      console.log(JSON.stringify(await scenario(), null, 2));
    } finally {
      stack.kill('SIGTERM');
      await new Promise((r) => stack.once('exit', r));
    }
  })().then(
    () => process.exit(0),
    (e) => (console.error(e), process.exit(1)),
  );
}
