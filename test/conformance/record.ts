/**
 * Records the official server's answers to the conformance script:
 *   npx tsx test/conformance/record.ts --url http://127.0.0.1:3199/ --version 1.6.5 --commit <sha>
 * against OpenAI's openai-chatkit Python server behind a thin HTTP front whose Authorization header
 * is the user id (docs/chatkit-protocol.md, "What is compared", says how to run one). Writes
 * official-<version>.json here.
 * Only answers are committed, never the server's code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runScript } from './script';

async function main() {
  const { values } = parseArgs({ options: { url: { type: 'string' }, version: { type: 'string' }, commit: { type: 'string' } } });
  if (!values.url || !values.version || !values.commit)
    throw new Error('usage: record.ts --url <oracle url> --version <openai-chatkit version> --commit <chatkit-python commit>');
  const exchanges = await runScript(values.url, (user) => `Bearer ${user}-${process.pid}`);
  const file = join(__dirname, `official-${values.version}.json`);
  const recording = {
    source: {
      package: 'openai-chatkit',
      version: values.version,
      repository: 'openai/chatkit-python',
      commit: values.commit,
      harness: '../shared/tools/chatkit-oracle (echo responder, in-memory store)',
    },
    recordedAt: new Date().toISOString(),
    exchanges,
  };
  writeFileSync(file, `${JSON.stringify(recording, null, 1)}\n`);
  console.log(`recorded ${exchanges.length} exchanges into ${file}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
