/**
 * 1. Cold start: each bundle against its naive baseline in the same run (interleaved), the chat's
 * first turn, an empty Node process, and the floors (the lead's duplicate and the chat's first byte
 * with nothing of ours; undici's load, the first fetch, the first time-zone use).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { coldStarts, log, median, oneColdStartWith, round, type ColdPhases } from '../lib/measure';
import { auth, BUNDLES, HOST, input, PORTS, ROOT, urlEvent, leadUrl, post } from '../lib/stack';
import type { Fixture } from '../lib/fixture';

export async function coldStart({ env, sentThread, hostedSent, credential }: Fixture) {
  const hosted = { CHATKIT_MODE: 'hosted' };
  log('cold starts...');
  const RUNS = 15;
  const refreshEvent = urlEvent({ deviceCredential: credential });
  const leadEvent = urlEvent({ threadId: sentThread, reason: 'pagehide' }, auth('bench'));
  const hostedLeadEvent = urlEvent({ threadId: hostedSent, reason: 'pagehide', user: 'bench' });
  await post(leadUrl, { threadId: hostedSent, reason: 'close' }, auth('bench'));
  let coldUser = 0;
  const chatEvent = () =>
    urlEvent({ type: 'threads.create', params: { input: input('Hello, are you open today?') } }, auth(`cold-${process.pid}-${coldUser++}`));
  const cold = await coldStarts(
    {
      session: { module: BUNDLES.session, event: refreshEvent },
      naiveSession: { module: join(ROOT, 'bench/naive/session-self-hosted.mjs'), event: refreshEvent },
      naiveSessionWithoutSsm: {
        module: join(ROOT, 'bench/naive/session-self-hosted.mjs'),
        event: refreshEvent,
        env: { NAIVE_WITHOUT_SSM: '1' },
      },
      lead: { module: BUNDLES.lead, event: leadEvent },
      naiveLead: { module: join(ROOT, 'bench/naive/lead.mjs'), event: leadEvent },
      naiveLeadWithoutSsm: { module: join(ROOT, 'bench/naive/lead.mjs'), event: leadEvent, env: { NAIVE_WITHOUT_SSM: '1' } },
      hostedLead: { module: BUNDLES.lead, event: hostedLeadEvent, env: hosted },
      // The floor under the lead's duplicate: Node, the SDK's DynamoDB client and the one request, nothing of ours.
      leadFloor: { module: join(ROOT, 'bench/floor-dynamo.cjs'), event: leadEvent },
      chatFirstTurn: { module: BUNDLES.chat, event: chatEvent },
      // The floor under the chat's first byte: Node, the SDK's DynamoDB client and the first turn's requests, nothing of ours.
      chatFloor: { module: join(ROOT, 'bench/floor-chat.cjs'), event: chatEvent },
      nodeOnly: { module: join(ROOT, 'bench/noop.cjs'), event: urlEvent({}) },
    },
    env,
    RUNS,
  );
  // Issue 31: the self-hosted session and lead at 0.3x; the legacy hosted lead (reading old hosted threads) keeps its 0.5x.
  const row = (
    ours: { medianMs: number },
    naive: { medianMs: number },
    without: { medianMs: number } | undefined,
    bundle: string,
    share = 0.3,
  ) => ({
    bundleBytes: statSync(bundle).size,
    // The files beside it (tooling/bundling lazyChunks), loaded when first needed.
    chunkBytes: chunksOf(bundle),
    oursMedianMs: ours.medianMs,
    naiveMedianMs: naive.medianMs,
    ratio: round(ours.medianMs / naive.medianMs, 2),
    ...(without
      ? { naiveWithoutSsmClientMedianMs: without.medianMs, ratioWithoutSsmClient: round(ours.medianMs / without.medianMs, 2) }
      : {}),
    target: `<= ${share}x naive`,
    met: ours.medianMs <= share * naive.medianMs,
  });
  const phases = await chatPhases(env, chatEvent, RUNS);
  const imports = importTimes(env, RUNS);
  const floors = Array.from({ length: 7 }, () =>
    JSON.parse(
      execFileSync(process.execPath, [join(ROOT, 'bench', 'floor.mjs'), `http://${HOST}:${PORTS.LOCAL_OPENAI_PORT}/__emulator/requests`], {
        encoding: 'utf8',
      }),
    ),
  );
  return {
    session: row(cold.session!, cold.naiveSession!, cold.naiveSessionWithoutSsm, BUNDLES.session),
    lead: {
      ...row(cold.lead!, cold.naiveLead!, cold.naiveLeadWithoutSsm, BUNDLES.lead),
      floorMedianMs: cold.leadFloor!.medianMs,
      floorRatio: round(cold.leadFloor!.medianMs / cold.naiveLead!.medianMs, 2),
    },
    hostedLead: row(cold.hostedLead!, cold.naiveLead!, undefined, BUNDLES.lead, 0.5),
    chatFirstTurn: {
      bundleBytes: statSync(BUNDLES.chat).size,
      // The files beside it (tooling/bundling lazyChunks), loaded when a turn first needs them.
      chunkBytes: chunksOf(BUNDLES.chat),
      firstByteMedianMs: cold.chatFirstTurn!.medianMs,
      target: '<= 2x an empty Node process',
      met: cold.chatFirstTurn!.medianMs <= 2 * cold.nodeOnly!.medianMs,
      floorMedianMs: cold.chatFloor!.medianMs,
      floorToEmpty: round(cold.chatFloor!.medianMs / cold.nodeOnly!.medianMs, 2),
      phases,
    },
    emptyNodeProcessMedianMs: cold.nodeOnly!.medianMs,
    imports,
    runsEach: RUNS,
    undiciLoadMedianMs: median(floors.map((f) => f.undiciLoadMs)),
    firstFetchMedianMs: median(floors.map((f) => f.firstFetchMs)),
    firstTimeZoneMedianMs: median(floors.map((f) => f.firstTimeZoneMs)),
  };
}

/**
 * The chat's cold first turn, phase by phase (medians of `runs` fresh processes, each recording its
 * own timeline: bench/chat-cold.cjs with BENCH_PHASES): Node's own start, the bundle's load, our
 * code's CPU before the first byte (the time no request was in flight), the time waiting on
 * DynamoDB, and each request on the way; then the model request, which follows the first byte.
 */
async function chatPhases(env: NodeJS.ProcessEnv, event: () => unknown, runs: number) {
  const timelines: ColdPhases[] = [];
  const file = join(ROOT, '.local', `bench-event-${process.pid}-phases.json`);
  try {
    for (let n = 0; n < runs; n++) {
      writeFileSync(file, JSON.stringify(event()));
      const { phases } = await oneColdStartWith(BUNDLES.chat, file, { ...env, BENCH_PHASES: '1' });
      if (phases) timelines.push(phases);
    }
  } finally {
    rmSync(file, { force: true });
  }
  const med = (f: (t: ColdPhases) => number) => round(median(timelines.map(f)), 1);
  const before = (t: ColdPhases) => t.requests.filter((r) => r.sent < t.firstByte);
  // Time between the load and the first byte with at least one request in flight.
  const waiting = (t: ColdPhases) => {
    let busy = 0;
    let until = t.loaded;
    for (const r of [...before(t)].sort((a, b) => a.sent - b.sent)) {
      const end = Math.min(r.answered ?? t.firstByte, t.firstByte);
      if (end > until) {
        busy += end - Math.max(r.sent, until);
        until = end;
      }
    }
    return busy;
  };
  const model = (t: ColdPhases) => t.requests.find((r) => r.what.includes('/responses'));
  return {
    runs: timelines.length,
    nodeStartMs: med((t) => t.started),
    bundleLoadMs: med((t) => t.loaded - t.started),
    handlerToFirstRequestMs: med((t) => (t.requests[0]?.sent ?? t.firstByte) - t.loaded),
    ourCpuBeforeFirstByteMs: med((t) => t.firstByte - t.loaded - waiting(t)),
    waitingOnRequestsBeforeFirstByteMs: med(waiting),
    requestsBeforeFirstByte: [...new Set(timelines.flatMap((t) => before(t).map((r) => r.what)))].map((what) => ({
      what,
      medianMs: med((t) => {
        const r = before(t).find((x) => x.what === what);
        return r ? (r.answered ?? t.firstByte) - r.sent : 0;
      }),
    })),
    firstByteMs: med((t) => t.firstByte),
    modelRequestSentMs: med((t) => model(t)?.sent ?? NaN),
    modelAnsweredMs: med((t) => model(t)?.answered ?? NaN),
  };
}

/**
 * Each bundle's import alone, against an empty process (interleaved, `runs` fresh processes each):
 * from the process's time origin to the bundle loaded (bench/import-time.cjs), the empty process's
 * own start subtracted. The rest of a cold start is the handler's first request.
 */
function importTimes(env: NodeJS.ProcessEnv, runs: number) {
  const bundles = { session: BUNDLES.session, lead: BUNDLES.lead, chat: BUNDLES.chat };
  const script = join(ROOT, 'bench', 'import-time.cjs');
  const once = (module?: string) =>
    JSON.parse(execFileSync(process.execPath, [script, ...(module ? [module] : [])], { encoding: 'utf8', env })) as {
      startedMs: number;
      loadedMs: number;
    };
  const empty: number[] = [];
  const loaded: Record<string, number[]> = { session: [], lead: [], chat: [] };
  for (let n = 0; n < runs; n++) {
    empty.push(once().loadedMs);
    for (const [k, m] of Object.entries(bundles)) loaded[k]!.push(once(m).loadedMs);
  }
  const emptyMs = round(median(empty), 1);
  const each = (k: string) => ({ loadedMedianMs: round(median(loaded[k]!), 1), importMs: round(median(loaded[k]!) - emptyMs, 1) });
  return { emptyProcessLoadedMedianMs: emptyMs, session: each('session'), lead: each('lead'), chat: each('chat'), runs };
}

/** A bundle's lazy chunks (`<bundle>.<name>.cjs` beside it): name → bytes. */
function chunksOf(bundle: string): Record<string, number> {
  const base = basename(bundle, '.cjs');
  return Object.fromEntries(
    readdirSync(dirname(bundle))
      .filter((f) => f.startsWith(`${base}.`) && f.endsWith('.cjs') && f !== `${base}.cjs`)
      .map((f) => [f.slice(base.length + 1, -'.cjs'.length), statSync(join(dirname(bundle), f)).size]),
  );
}
