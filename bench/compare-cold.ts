/**
 * A/B of the session and lead cold starts and the chat's cold first turn between two builds,
 * interleaved run by run with the naive baselines and an empty process (docs/performance.md,
 * "Comparing two versions"). A build is a directory of bundles as the local stack writes them
 * (`.local/build`); copy an older one inside the repository (its bundles resolve the AWS SDK from
 * node_modules, as the Lambda runtime provides it).
 * Usage: npx tsx bench/compare-cold.ts <build dir A> <build dir B> [runs]
 */
import { join, resolve } from 'node:path';
import { makeFixture } from './lib/fixture';
import { coldStarts } from './lib/measure';
import { auth, input, ROOT, startStack, urlEvent } from './lib/stack';

const [a, b, runsArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: npx tsx bench/compare-cold.ts <build dir A> <build dir B> [runs]');

(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const stack = await startStack();
  try {
    const fx = await makeFixture();
    const lead = urlEvent({ threadId: fx.sentThread, reason: 'pagehide' }, auth('bench'));
    const refresh = urlEvent({ deviceCredential: fx.credential });
    const bundle = (dir: string, name: string) => join(resolve(dir), `chatkit-lead-intake-${name}.cjs`);
    let user = 0;
    const chat = () =>
      urlEvent({ type: 'threads.create', params: { input: input('Hello, are you open today?') } }, auth(`ab-${process.pid}-${user++}`));
    const r = await coldStarts(
      {
        leadA: { module: bundle(a, 'lead-lead'), event: lead },
        leadB: { module: bundle(b, 'lead-lead'), event: lead },
        naiveLead: { module: join(ROOT, 'bench/naive/lead.mjs'), event: lead },
        sessionA: { module: bundle(a, 'session-session'), event: refresh },
        sessionB: { module: bundle(b, 'session-session'), event: refresh },
        naiveSession: { module: join(ROOT, 'bench/naive/session-self-hosted.mjs'), event: refresh },
        chatA: { module: bundle(a, 'chat-chat'), event: chat },
        chatB: { module: bundle(b, 'chat-chat'), event: chat },
        nodeOnly: { module: join(ROOT, 'bench/noop.cjs'), event: urlEvent({}) },
      },
      fx.env,
      Number(runsArg ?? 15),
    );
    const ratio = (x: number, y: number) => Math.round((x / y) * 100) / 100;
    console.log(
      JSON.stringify(
        {
          ...r,
          leadRatioA: ratio(r.leadA!.medianMs, r.naiveLead!.medianMs),
          leadRatioB: ratio(r.leadB!.medianMs, r.naiveLead!.medianMs),
          sessionRatioA: ratio(r.sessionA!.medianMs, r.naiveSession!.medianMs),
          sessionRatioB: ratio(r.sessionB!.medianMs, r.naiveSession!.medianMs),
          chatFirstByteToEmptyA: ratio(r.chatA!.medianMs, r.nodeOnly!.medianMs),
          chatFirstByteToEmptyB: ratio(r.chatB!.medianMs, r.nodeOnly!.medianMs),
        },
        null,
        2,
      ),
    );
  } finally {
    stack.kill('SIGTERM');
  }
  process.exit(0);
})();
