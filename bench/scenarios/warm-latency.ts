/** 2. Warm latency through the local Function URLs, the emulator answering at once. */
import { log, quantile, round } from '../lib/measure';
import { auth, leadUrl, post, seedConversation, sessionUrl } from '../lib/stack';
import type { Fixture } from '../lib/fixture';

export async function warmLatency({ sentThread, credential }: Fixture) {
  log('warm latency...');
  const warm = async (n: number, call: () => Promise<unknown>) => {
    for (let i = 0; i < 20; i++) await call(); // warm up
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await call();
      times.push(performance.now() - t0);
    }
    return { p50Ms: round(quantile(times, 0.5)), p99Ms: round(quantile(times, 0.99)), n };
  };
  const sendThreads: string[] = [];
  for (let i = 0; i < 120; i++)
    sendThreads.push(
      await seedConversation('bench', [
        { role: 'user', text: `Tires for car ${i}, call 415-555-2671` },
        { role: 'assistant', text: 'ok' },
      ]),
    );
  let next = 0;
  return {
    session: await warm(300, () => post(sessionUrl, { deviceCredential: credential })),
    leadDuplicate: await warm(300, () => post(leadUrl, { threadId: sentThread, reason: 'pagehide' }, auth('bench'))),
    leadSend: await warm(100, () => post(leadUrl, { threadId: sendThreads[next++]!, reason: 'close' }, auth('bench'))),
    note:
      'HTTP to the local Function URL server, handler in its own process; includes the local emulators answering at ' +
      'once. Session: a refresh with a device credential; lead: self-hosted conversations, the token in Authorization',
  };
}
