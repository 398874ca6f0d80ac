/**
 * 5. Peak memory of the lead handler on a 200-message transcript (a fresh process, a full send), and
 * the connections that send opened to DynamoDB. `bundle`: another build's lead bundle (an A/B).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { SeedItem } from '@lead-intake/openai-emulator';
import { log } from '../lib/measure';
import { BUNDLES, dynamoEndpoint, functionEnv, ROOT, seedConversation, token } from '../lib/stack';
import type { Fixture } from '../lib/fixture';

export async function memory({ table }: Fixture, bundle = BUNDLES.lead) {
  log('memory...');
  const items = Array.from({ length: 200 }, (_, n): SeedItem =>
    n % 2
      ? { role: 'assistant', text: `Reply ${n}: ${'we can help with that. '.repeat(8)}` }
      : { role: 'user', text: `Message ${n}: ${'my car makes a noise when braking. '.repeat(6)}${n === 10 ? ' call 415-555-2671' : ''}` },
  );
  const big = await seedConversation('bench', items);
  const memOut = execFileSync(process.execPath, [join(ROOT, 'bench', 'memory.mjs'), bundle, big, token('bench')], {
    env: functionEnv(table, dynamoEndpoint),
    encoding: 'utf8',
  });
  const mem = JSON.parse(memOut.trim().split('\n').pop()!);
  return { ...mem, target: '< 150 MB peak RSS', met: mem.maxRssMb < 150 };
}
