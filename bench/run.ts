/**
 * `npm run bench`: speed and cost, measured (never asserted in tests). Starts its own local stack
 * on bench ports, measures, and writes bench/results.json and docs/performance.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mintClientToken, mintDeviceCredential } from '@lead-intake/chat-auth';
import { renderLeadEmail, sampleLead } from '@lead-intake/lead-message';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';
import { SUMMARY_FORMAT } from '@lead-intake/lead-summary';
import { EmulatorAdmin, type SeedItem } from '@lead-intake/openai-emulator';
import { resolveStage } from '@lead-intake/stage-config';
import { DynamoThreadStore } from '@lead-intake/thread-store';

/** One row of a Markdown table (docs/performance.md). */
const row = (...cells: string[]) => `| ${cells.join(' | ')} |`;
const ROOT = join(__dirname, '..');
const HOST = '127.0.0.1';
const PORTS = {
  LOCAL_DYNAMODB_PORT: 19000,
  LOCAL_SES_PORT: 19005,
  LOCAL_SQS_PORT: 19006,
  LOCAL_S3_PORT: 19007,
  LOCAL_ALERTS_PORT: 19008,
  LOCAL_OPENAI_PORT: 19110,
  LOCAL_SESSION_PORT: 19101,
  LOCAL_LEAD_PORT: 19102,
  LOCAL_CHAT_PORT: 19103,
  LOCAL_FILES_PORT: 19104,
};
const emu = new EmulatorAdmin(`http://${HOST}:${PORTS.LOCAL_OPENAI_PORT}`);
const dynamoEndpoint = `http://${HOST}:${PORTS.LOCAL_DYNAMODB_PORT}`;
const sesEndpoint = `http://${HOST}:${PORTS.LOCAL_SES_PORT}`;
const sessionUrl = `http://${HOST}:${PORTS.LOCAL_SESSION_PORT}/`;
const leadUrl = `http://${HOST}:${PORTS.LOCAL_LEAD_PORT}/`;
const BUILD = join(ROOT, '.local', 'build');
const BUNDLES = {
  session: join(BUILD, 'chatkit-lead-intake-session-session.cjs'),
  lead: join(BUILD, 'chatkit-lead-intake-lead-lead.cjs'),
  chat: join(BUILD, 'chatkit-lead-intake-chat-chat.cjs'),
};
// The bench runs its own stack as the `bench` stage (stages.config.json): the same code, with usage
// limits that hundreds of turns from one bench user do not hit.
const STAGE = 'bench';
const stage = resolveStage(STAGE);
const chatUrl = `http://${HOST}:${PORTS.LOCAL_CHAT_PORT}/`;
const token = (user: string, ttl = 3600) => mintClientToken(LOCAL_TOKEN_SECRET, user, ttl).token;
const auth = (user: string) => ({ authorization: `Bearer ${token(user)}` });
const threadStore = () =>
  new DynamoThreadStore({
    tableName: stage.chatThreadsTable as string,
    client: new DynamoDBClient({
      endpoint: dynamoEndpoint,
      region: 'us-west-2',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  });

/** A self-hosted conversation written as the chat writes it; answers its id. */
async function seedConversation(user: string, items: SeedItem[]): Promise<string> {
  const s = threadStore();
  const id = s.generateThreadId();
  await s.saveThread({ id, created_at: new Date().toISOString(), status: { type: 'active' }, title: null, metadata: {} }, user);
  await appendItems(id, items);
  return id;
}
async function appendItems(threadId: string, items: SeedItem[]): Promise<void> {
  const s = threadStore();
  for (const item of items) {
    const base = { id: s.generateItemId('message'), thread_id: threadId, created_at: new Date().toISOString() };
    await s.addThreadItem(
      threadId,
      item.role === 'assistant'
        ? { ...base, type: 'assistant_message', content: [{ type: 'output_text', text: item.text ?? '', annotations: [] }] }
        : {
            ...base,
            type: 'user_message',
            content: [{ type: 'input_text', text: item.text ?? '' }],
            attachments: [],
            inference_options: {},
          },
    );
  }
}

const CHAT_WARMUP_TURNS = 600;
const CHAT_TURNS = 150;
const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const log = (s: string) => process.stderr.write(`${s}\n`);

/**
 * From sending the request: ms to the first byte of the streamed body, and to the first byte
 * matching `marker`; the stream is read to its end.
 */
async function firstMarker(url: string, init: RequestInit, marker: string) {
  const t0 = performance.now();
  const res = await fetch(url, init);
  const reader = res.body!.getReader();
  let seen = '';
  let firstByte = -1;
  let at = -1;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (firstByte < 0 && value.length) firstByte = performance.now() - t0;
    seen += new TextDecoder().decode(value);
    if (at < 0 && seen.includes(marker)) at = performance.now() - t0;
  }
  if (at < 0) throw new Error(`no ${marker} in stream: ${seen.slice(0, 300)}`);
  return { firstByte, at, text: seen };
}

/**
 * The bench's stack. The main one runs no schedules and no stream mappings (the browser-trigger
 * figures are measured alone); the server-scheduled phase starts a second one with both on.
 */
async function startStack(ports: Record<string, number> = PORTS, over: NodeJS.ProcessEnv = {}, name = 'bench'): Promise<ChildProcess> {
  mkdirSync(join(ROOT, '.local'), { recursive: true });
  const logFile = join(ROOT, '.local', `${name}-stack.log`);
  const out = openSync(logFile, 'w');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOCAL_HOST: HOST,
    LOCAL_STAGE: STAGE,
    LOCAL_SCHEDULE_SECONDS: '0',
    LOCAL_STREAMS: '0',
    LOCAL_OUTPUTS_FILE: join(ROOT, '.local', `${name}-outputs.json`),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    ...over,
  };
  for (const [k, v] of Object.entries(ports)) env[k] = String(v);
  delete env.OPENAI_API_KEY;
  delete env.OPENAI_BASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'local/local-stack/src/cli.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', out, out],
  });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (/^ready in /m.test(readFileSync(logFile, 'utf8'))) return child;
    if (child.exitCode !== null) throw new Error(`local stack exited:\n${readFileSync(logFile, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('local stack did not become ready');
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return res.json();
}

const urlEvent = (body: unknown, headers: Record<string, string> = {}) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: { 'content-type': 'application/json', ...headers },
  requestContext: {
    http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
    requestId: 'bench',
    routeKey: '$default',
    stage: '$default',
    accountId: 'anonymous',
    apiId: 'bench',
    domainName: 'bench',
    domainPrefix: 'bench',
    time: '',
    timeEpoch: 0,
  },
  body: JSON.stringify(body),
  isBase64Encoded: false,
});

/** A DynamoDB proxy that counts requests per table: round trips, measured at the wire. */
async function countingProxy(target: string) {
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let table = '?';
      try {
        const parsed = JSON.parse(body.toString('utf8'));
        table = parsed.TableName ?? Object.keys(parsed.RequestItems ?? {})[0] ?? '?';
      } catch {
        /* not JSON */
      }
      counts.set(table, (counts.get(table) ?? 0) + 1);
      const up = httpRequest(target + (req.url ?? '/'), { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const count = (table?: string) => (table ? (counts.get(table) ?? 0) : [...counts.values()].reduce((a, b) => a + b, 0));
  return {
    url: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    count,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** What every function needs when the bench loads its bundle in a process of its own (self-hosted, the default). */
function functionEnv(table: string, dynamo: string): NodeJS.ProcessEnv {
  return {
    CHATKIT_MODE: 'self-hosted',
    CHATKIT_TOKEN_SECRET: LOCAL_TOKEN_SECRET,
    CHAT_THREADS_TABLE_NAME: stage.chatThreadsTable as string,
    CHAT_LIMITS_TABLE_NAME: stage.chatLimitsTable as string,
    CHAT_TURNS_PER_MINUTE: String(stage.chatTurnsPerMinute),
    CHAT_DAILY_MODEL_CALLS: String(stage.chatDailyModelCalls),
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo,
    AWS_ENDPOINT_URL_SES: sesEndpoint,
    OPENAI_BASE_URL: `http://${HOST}:${PORTS.LOCAL_OPENAI_PORT}/v1`,
    OPENAI_API_KEY: 'bench-key',
    CHATKIT_WORKFLOW_ID: 'wf_bench',
    ALLOWED_ORIGINS: 'https://craigs.autos',
    LEAD_DEDUPE_TABLE_NAME: table,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
}

/**
 * Time from spawning a fresh Node process to its first response (the answer line on stdout), for
 * several modules, interleaved run by run so that the machine's drift falls on all of them alike.
 * The process's exit is not timed: tearing down (undici's compiled WebAssembly included) takes
 * ~100 ms here and is no part of answering a request.
 */
async function coldStarts(
  modules: Record<string, { module: string; event: unknown | (() => unknown); env?: NodeJS.ProcessEnv }>,
  env: NodeJS.ProcessEnv,
  runs: number,
): Promise<Record<string, { medianMs: number; runs: number }>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(modules).map((k) => [k, []]));
  const eventFile = (k: string, event: unknown) => {
    const file = join(ROOT, '.local', `bench-event-${process.pid}-${k}.json`);
    writeFileSync(file, JSON.stringify(typeof event === 'function' ? event() : event));
    return file;
  };
  for (let n = 0; n < runs; n++) {
    // An event given as a function is made fresh for each run (the chat's first turn: a new user each time).
    for (const [k, m] of Object.entries(modules)) times[k]!.push(await oneColdStart(m.module, eventFile(k, m.event), { ...env, ...m.env }));
  }
  return Object.fromEntries(Object.entries(times).map(([k, ts]) => [k, { medianMs: round(median(ts), 1), runs }]));
}

function oneColdStart(module: string, eventFile: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    // The chat streams: its harness reports the first streamed byte (the first line), then the outcome.
    const harness = module === BUNDLES.chat ? 'chat-cold.cjs' : 'cold-start.cjs';
    const child = spawn(process.execPath, [join(ROOT, 'bench', harness), module, eventFile], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let answeredAt: bigint | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (answeredAt === undefined && out.includes('\n')) answeredAt = process.hrtime.bigint();
    });
    child.on('error', reject);
    child.on('close', () => {
      if (answeredAt === undefined || !out.includes('"statusCode":200'))
        return reject(new Error(`cold start of ${module} did not answer 200: ${out}`));
      resolve(Number(answeredAt - t0) / 1e6);
    });
  });
}

async function main() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const stack = await startStack();
  const results: Record<string, unknown> = {};
  try {
    const table = `chatkit-lead-intake-lead-${STAGE}-dedupe`;
    const env = functionEnv(table, dynamoEndpoint);
    const hosted = { CHATKIT_MODE: 'hosted' };

    // A conversation already sent: the duplicate trigger every cold start of lead answers.
    await emu.reset();
    const sentThread = await seedConversation('bench', [{ role: 'user', text: 'Brakes, call 415-555-2671' }]);
    const first = await post(leadUrl, { threadId: sentThread, reason: 'close' }, auth('bench'));
    if (first.reason !== 'sent') throw new Error(`setup: expected sent, got ${JSON.stringify(first)}`);
    const hostedSent = await emu.seedThread({ user: 'bench', items: [{ role: 'user', text: 'Brakes, call 415-555-2671' }] });
    const credential = mintDeviceCredential(LOCAL_TOKEN_SECRET, 'u_benchCustomer000000001');

    // 1. Cold start: our bundle vs the naive baseline, same run, same event; the chat's first turn.
    log('cold starts...');
    const RUNS = 15;
    const refreshEvent = urlEvent({ deviceCredential: credential });
    const hostedSessionEvent = urlEvent({ user: 'cold' });
    const leadEvent = urlEvent({ threadId: sentThread, reason: 'pagehide' }, auth('bench'));
    const hostedLeadEvent = urlEvent({ threadId: hostedSent, reason: 'pagehide', user: 'bench' });
    await post(leadUrl, { threadId: hostedSent, reason: 'close' }, auth('bench'));
    const input = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });
    let coldUser = 0;
    const chatEvent = () =>
      urlEvent(
        { type: 'threads.create', params: { input: input('Hello, are you open today?') } },
        auth(`cold-${process.pid}-${coldUser++}`),
      );
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
        hostedSession: { module: BUNDLES.session, event: hostedSessionEvent, env: hosted },
        naiveHostedSession: { module: join(ROOT, 'bench/naive/session.mjs'), event: hostedSessionEvent },
        hostedLead: { module: BUNDLES.lead, event: hostedLeadEvent, env: hosted },
        chatFirstTurn: { module: BUNDLES.chat, event: chatEvent },
        nodeOnly: { module: join(ROOT, 'bench/noop.cjs'), event: urlEvent({}) },
      },
      env,
      RUNS,
    );
    const row = (ours: { medianMs: number }, naive: { medianMs: number }, without: { medianMs: number } | undefined, bundle: string) => ({
      bundleBytes: statSync(bundle).size,
      oursMedianMs: ours.medianMs,
      naiveMedianMs: naive.medianMs,
      ratio: round(ours.medianMs / naive.medianMs, 2),
      ...(without
        ? { naiveWithoutSsmClientMedianMs: without.medianMs, ratioWithoutSsmClient: round(ours.medianMs / without.medianMs, 2) }
        : {}),
      target: '<= 0.5x naive',
      met: ours.medianMs <= 0.5 * naive.medianMs,
    });
    results.coldStart = {
      session: row(cold.session!, cold.naiveSession!, cold.naiveSessionWithoutSsm, BUNDLES.session),
      lead: row(cold.lead!, cold.naiveLead!, cold.naiveLeadWithoutSsm, BUNDLES.lead),
      hostedSession: row(cold.hostedSession!, cold.naiveHostedSession!, undefined, BUNDLES.session),
      hostedLead: row(cold.hostedLead!, cold.naiveLead!, undefined, BUNDLES.lead),
      chatFirstTurn: { bundleBytes: statSync(BUNDLES.chat).size, firstByteMedianMs: cold.chatFirstTurn!.medianMs },
      emptyNodeProcessMedianMs: cold.nodeOnly!.medianMs,
      runsEach: RUNS,
    };
    const floors = Array.from({ length: 7 }, () =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [join(ROOT, 'bench', 'floor.mjs'), `http://${HOST}:${PORTS.LOCAL_OPENAI_PORT}/__emulator/requests`],
          { encoding: 'utf8' },
        ),
      ),
    );
    (results.coldStart as any).undiciLoadMedianMs = median(floors.map((f) => f.undiciLoadMs));
    (results.coldStart as any).firstFetchMedianMs = median(floors.map((f) => f.firstFetchMs));
    (results.coldStart as any).firstTimeZoneMedianMs = median(floors.map((f) => f.firstTimeZoneMs));

    // 2. Warm latency through the local Function URLs, the emulator answering at once.
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
    results.warmLatency = {
      session: await warm(300, () => post(sessionUrl, { deviceCredential: credential })),
      leadDuplicate: await warm(300, () => post(leadUrl, { threadId: sentThread, reason: 'pagehide' }, auth('bench'))),
      leadSend: await warm(100, () => post(leadUrl, { threadId: sendThreads[next++]!, reason: 'close' }, auth('bench'))),
      note:
        'HTTP to the local Function URL server, handler in its own process; includes the local emulators answering at ' +
        'once. Session: a refresh with a device credential; lead: self-hosted conversations, the token in Authorization',
    };

    // 3. The ledger: round trips at the wire (a counting proxy in front of DynamoDB Local).
    log('ledger...');
    const proxy = await countingProxy(dynamoEndpoint);
    Object.assign(process.env, functionEnv(table, proxy.url));
    const lead = require(BUNDLES.lead).handler as (e: unknown, c: unknown) => Promise<{ body: string }>;
    const ctx = { awsRequestId: 'b', functionName: 'bench', getRemainingTimeInMillis: () => 30000 };
    const invoke = async (body: unknown) => JSON.parse((await lead(urlEvent(body, auth('bench')), ctx)).body);
    const openaiCalls = async () => (await emu.requests()).length;
    await invoke({ threadId: sentThread, reason: 'pagehide' }); // warm the in-process instance
    let before = proxy.count();
    let oa = await openaiCalls();
    const dup = await invoke({ threadId: sentThread, reason: 'pagehide' });
    const dupTrips = proxy.count() - before;
    const dupOpenai = (await openaiCalls()) - oa;
    const fresh = await seedConversation('bench', [{ role: 'user', text: 'AC broken, call 415-555-2671' }]);
    before = proxy.count(table);
    const threadReadsBefore = proxy.count(stage.chatThreadsTable as string);
    const sent = await invoke({ threadId: fresh, reason: 'close' });
    const sendTrips = proxy.count(table) - before;
    const sendThreadReads = proxy.count(stage.chatThreadsTable as string) - threadReadsBefore;
    if (dup.reason !== 'already_sent' || sent.reason !== 'sent') throw new Error(`ledger bench: ${JSON.stringify({ dup, sent })}`);

    // Summaries per conversation under the standard trigger pattern: auto after each assistant
    // message, idle, pagehide from two tabs. The original design paid one summary per trigger.
    const CONVERSATIONS = 20;
    const TURNS = 4;
    let triggers = 0;
    let states = 0;
    oa = (await emu.requests()).filter((r) => r.path === '/v1/responses').length;
    for (let c = 0; c < CONVERSATIONS; c++) {
      const id = await seedConversation('bench', []);
      for (let t = 0; t < TURNS; t++) {
        await appendItems(id, [
          { role: 'user', text: t === 2 ? 'my number is 415-555-2671' : `message ${t} about my brakes` },
          { role: 'assistant', text: `reply ${t}` },
        ]);
        states++;
        await invoke({ threadId: id, reason: 'auto' });
        triggers++;
      }
      await invoke({ threadId: id, reason: 'idle' });
      await Promise.all([invoke({ threadId: id, reason: 'pagehide' }), invoke({ threadId: id, reason: 'pagehide' })]);
      triggers += 3;
    }
    const summaries = (await emu.requests()).filter((r) => r.path === '/v1/responses').length - oa;
    await proxy.close();
    results.ledger = {
      duplicateTrigger: {
        dynamoRoundTrips: dupTrips,
        openaiCalls: dupOpenai,
        target: 'exactly 1 round trip, 0 OpenAI calls',
        met: dupTrips === 1 && dupOpenai === 0,
      },
      send: { dynamoRoundTrips: sendTrips, threadStoreRequests: sendThreadReads, target: '<= 3 on the ledger', met: sendTrips <= 3 },
      summariesPerConversation: {
        conversations: CONVERSATIONS,
        triggersPerConversation: triggers / CONVERSATIONS,
        distinctTranscriptStatesPerConversation: states / CONVERSATIONS,
        summariesPerConversation: round(summaries / CONVERSATIONS, 2),
        originalDesignSummariesPerConversation: triggers / CONVERSATIONS,
        target: '<= 1 per distinct transcript state',
        met: summaries <= states,
      },
    };

    // 4. The email's render time for a 200-message transcript (pure function, in this process).
    log('render...');
    const lead200 = sampleLead(200);
    for (let i = 0; i < 50; i++) renderLeadEmail(lead200);
    const rt: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t0 = performance.now();
      renderLeadEmail(lead200);
      rt.push(performance.now() - t0);
    }
    results.render200 = {
      medianMs: round(median(rt), 3),
      p99Ms: round(quantile(rt, 0.99), 3),
      htmlBytes: renderLeadEmail(lead200).html.length,
      target: '<= 5 ms median',
      met: median(rt) <= 5,
    };

    // 5. Peak memory of the lead handler on a 200-message transcript (a fresh process, full send).
    log('memory...');
    const items = Array.from({ length: 200 }, (_, n): SeedItem =>
      n % 2
        ? { role: 'assistant', text: `Reply ${n}: ${'we can help with that. '.repeat(8)}` }
        : { role: 'user', text: `Message ${n}: ${'my car makes a noise when braking. '.repeat(6)}${n === 10 ? ' call 415-555-2671' : ''}` },
    );
    const big = await seedConversation('bench', items);
    const memOut = execFileSync(process.execPath, [join(ROOT, 'bench', 'memory.mjs'), BUNDLES.lead, big, token('bench')], {
      env: functionEnv(table, dynamoEndpoint),
      encoding: 'utf8',
    });
    const mem = JSON.parse(memOut.trim().split('\n').pop()!);
    results.memory200 = { ...mem, target: '< 150 MB peak RSS', met: mem.maxRssMb < 150 };

    // 6. The self-hosted chat: what our server adds to the time to the first streamed text, and
    //    how many concurrent streams it holds.
    log('chat...');
    const chatToken = token('bench-user');
    const chatBody = (type: string, params: object) => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${chatToken}` },
      body: JSON.stringify({ type, params }),
    });
    const created = await firstMarker(chatUrl, chatBody('threads.create', { input: input('Hello') }), 'thread.item.done');
    const threadId = /"thread":\{"id":"(cthr_[^"]+)"/.exec(created.text)![1]!;
    // Warm-up, discarded: DynamoDB Local is a JVM whose first few hundred requests on a code path
    // run interpreted (a Put takes ~5 ms cold, ~1.5 ms warm). Steady state is what a warm Lambda sees.
    for (let i = 0; i < CHAT_WARMUP_TURNS; i++)
      await firstMarker(chatUrl, chatBody('threads.add_user_message', { thread_id: threadId, input: input('Warming up') }), 'text_delta');
    const direct = { byte: [] as number[], text: [] as number[] };
    const viaChat = { byte: [] as number[], text: [] as number[] };
    for (let i = 0; i < CHAT_TURNS; i++) {
      const d = await firstMarker(
        `http://${HOST}:${PORTS.LOCAL_OPENAI_PORT}/v1/responses`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
          body: JSON.stringify({ model: 'm', input: [{ role: 'user', content: 'Are you open?' }], stream: true }),
        },
        'response.output_text.delta',
      );
      direct.byte.push(d.firstByte);
      direct.text.push(d.at);
      const c = await firstMarker(
        chatUrl,
        chatBody('threads.add_user_message', { thread_id: threadId, input: input('Are you open?') }),
        'text_delta',
      );
      viaChat.byte.push(c.firstByte);
      viaChat.text.push(c.at);
    }
    // The issue's figure: what our server adds to the time to the first streamed byte (ours is the
    // stored user message; the emulator's, its first event). The first text is reported beside it.
    const added = median(viaChat.byte) - median(direct.byte);
    const addedText = median(viaChat.text) - median(direct.text);
    // The same path without the store: a request refused by validation is answered at once (token,
    // body, parsing, the answer itself): our code's own share of the added time.
    const noStore: number[] = [];
    for (let i = 0; i < 40; i++) noStore.push((await firstMarker(chatUrl, chatBody('threads.add_user_message', {}), '"error"')).at);
    // What one DynamoDB Local round trip costs here: the chat's critical path has two (the thread
    // and its history read together, then the user message write, which must land before the first event).
    const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
    const ddb = new DynamoDBClient({
      endpoint: dynamoEndpoint,
      region: 'us-west-2',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const trips: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      await ddb.send(
        new GetItemCommand({ TableName: stage.chatThreadsTable as string, Key: { pk: { S: `THREAD#${threadId}` }, sk: { S: 'META' } } }),
      );
      trips.push(performance.now() - t0);
    }
    // Concurrent streams: 50 conversations streaming at once, each answer paced over ~1 s.
    await emu.queue({ text: Array.from({ length: 40 }, (_, n) => `w${n}`).join(' '), chunk_delay_ms: 25 }, 50);
    const streams = await Promise.all(
      Array.from({ length: 50 }, async (_, n) => {
        try {
          const r = await firstMarker(chatUrl, chatBody('threads.create', { input: input(`parallel ${n}`) }), '"type":"thread.item.done"');
          const events = r.text
            .split('\n\n')
            .filter(Boolean)
            .map((f) => JSON.parse(f.slice(6)));
          return events.some((e) => e.type === 'error')
            ? 'error'
            : events.filter((e) => e.type === 'thread.item.done').length === 2
              ? 'ok'
              : 'incomplete';
        } catch {
          return 'failed';
        }
      }),
    );
    const ok = streams.filter((x) => x === 'ok').length;
    results.chat = {
      firstByteDirectFromEmulatorMedianMs: round(median(direct.byte)),
      firstByteThroughChatMedianMs: round(median(viaChat.byte)),
      addedToFirstStreamedByteMs: round(added),
      targetAddedMs: '<= 10',
      addedMet: added <= 10,
      firstTextDirectFromEmulatorMedianMs: round(median(direct.text)),
      firstTextThroughChatMedianMs: round(median(viaChat.text)),
      addedToFirstStreamedTextMs: round(addedText),
      turnsMeasured: CHAT_TURNS,
      concurrentStreams: { attempted: 50, completedWithoutError: ok, target: 50, met: ok === 50 },
      dynamoLocalRoundTripMedianMs: round(median(trips)),
      firstByteWithoutStoreMedianMs: round(median(noStore)),
      warmupTurns: CHAT_WARMUP_TURNS,
      coldFirstTurnFirstByteMedianMs: (results.coldStart as any).chatFirstTurn.firstByteMedianMs,
      note:
        'local: the thread store is DynamoDB Local (Java) on the same 2 cores. On a thread the instance knows, the history read ' +
        'and the user-message write run together: one round trip before the first event; the usage gate follows it, before the model call',
    };
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
  results.serverScheduled = await serverScheduled((results.chat as any).addedToFirstStreamedByteMs);
  mkdirSync(join(ROOT, 'bench'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(ROOT, 'docs', 'performance.md'), performanceDoc(results as any));
  log('wrote bench/results.json and docs/performance.md');
  process.exit(0);
}

const SCHEDULED_PORTS = {
  LOCAL_DYNAMODB_PORT: 19200,
  LOCAL_SES_PORT: 19205,
  LOCAL_SQS_PORT: 19206,
  LOCAL_S3_PORT: 19207,
  LOCAL_ALERTS_PORT: 19208,
  LOCAL_OPENAI_PORT: 19210,
  LOCAL_SESSION_PORT: 19201,
  LOCAL_LEAD_PORT: 19202,
  LOCAL_CHAT_PORT: 19203,
  LOCAL_FILES_PORT: 19204,
};
const SCHEDULED_CONVERSATIONS = 200;
// Two seconds: with one, a sweep under this scenario's load (10 chats at once on 2 cores) can outlast the
// interval (measured: max 6.15 s against 6 s, when the local schedule still dropped a tick that came during a run).
const SWEEP_SECONDS = 2;

/** A small deterministic generator (mulberry32): the same conversations on every run. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Issue 16's scenario: 200 self-hosted conversations through the chat endpoint, none sending a
 * browser trigger, each abandoned after a random number of turns (1-4), 70% with a contact at a
 * random turn. The stack runs the scheduler (stream mapping) and the sweeper every second. Counts
 * emails per conversation (lost, duplicates), summaries, and the delay from the end of the last
 * turn to the email (SES emulator polled every 100 ms). Then the chat's added first byte with the
 * scheduler reading every turn, measured as the main phase measures it.
 */
async function serverScheduled(addedWithoutScheduler: number) {
  log('server-scheduled leads...');
  const stack = await startStack(SCHEDULED_PORTS, { LOCAL_STREAMS: '1', LOCAL_SCHEDULE_SECONDS: String(SWEEP_SECONDS) }, 'bench-scheduled');
  const at = (port: number) => `http://${HOST}:${port}`;
  const chat = `${at(SCHEDULED_PORTS.LOCAL_CHAT_PORT)}/`;
  const emulator = new EmulatorAdmin(at(SCHEDULED_PORTS.LOCAL_OPENAI_PORT));
  const idleSeconds = Number(stage.leadIdleSeconds);
  const input = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });
  try {
    const random = rng(16);
    const plans = Array.from({ length: SCHEDULED_CONVERSATIONS }, (_, i) => {
      const turns = 1 + Math.floor(random() * 4);
      const contactAt = random() < 0.7 ? Math.floor(random() * turns) : -1;
      const pauses = Array.from({ length: turns }, () => Math.floor(random() * 1500));
      return { i, turns, contactAt, pauses, threadId: '', lastAt: 0 };
    });
    const turn = async (token: string, threadId: string, text: string) => {
      const body = threadId
        ? { type: 'threads.add_user_message', params: { thread_id: threadId, input: input(text) } }
        : { type: 'threads.create', params: { input: input(text) } };
      const { firstByte, text: seen } = await firstMarker(
        chat,
        { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) },
        '"thread.item.done"',
      );
      const id = threadId || /"thread":\{"id":"(cthr_[^"]+)"/.exec(seen)?.[1];
      if (!id || !seen.includes('"assistant_message"')) throw new Error(`turn failed: ${seen.slice(0, 300)}`);
      return { threadId: id, firstByte };
    };
    const firstSeen = new Map<string, number[]>();
    const pollSes = async () => {
      const store = (await (await fetch(`${at(SCHEDULED_PORTS.LOCAL_SES_PORT)}/store`)).json()) as {
        emails: Array<{ messageId: string; body: { text?: string } }>;
      };
      const now = Date.now();
      const byThread = new Map<string, Set<string>>();
      for (const m of store.emails) {
        const id = /cthr_[0-9a-z]+/.exec(m.body.text ?? '')?.[0];
        if (id) byThread.set(id, (byThread.get(id) ?? new Set()).add(m.messageId));
      }
      for (const [id, msgs] of byThread) {
        const seen = firstSeen.get(id) ?? [];
        while (seen.length < msgs.size) seen.push(now);
        firstSeen.set(id, seen);
      }
    };
    let polling = true;
    const poller = (async () => {
      while (polling) {
        await pollSes();
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const started = Date.now();
    const queue = [...plans];
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const token = mintClientToken(LOCAL_TOKEN_SECRET, `u_benchSched${String(p.i).padStart(13, '0')}`, 3600, {
            pageUrl: 'https://craigs.autos/service',
          }).token;
          for (let t = 0; t < p.turns; t++) {
            const text =
              t === p.contactAt
                ? `[conv-${p.i}] my number is 415-555-${String(1000 + p.i).slice(-4)}`
                : `[conv-${p.i}] question ${t} about my car`;
            p.threadId = (await turn(token, p.threadId, text)).threadId;
            p.lastAt = Date.now();
            if (t < p.turns - 1) await new Promise((r) => setTimeout(r, p.pauses[t]));
          }
        }
      }),
    );
    const chatSeconds = (Date.now() - started) / 1000;
    // Every conversation's window plus a sweep, then 15 s more in which a duplicate would show.
    const lastActivity = Math.max(...plans.map((p) => p.lastAt));
    while (Date.now() < lastActivity + (idleSeconds + SWEEP_SECONDS) * 1000 + 15_000) await new Promise((r) => setTimeout(r, 250));
    polling = false;
    await poller;
    await pollSes();
    const withContact = plans.filter((p) => p.contactAt >= 0);
    const emails = (p: (typeof plans)[number]) => firstSeen.get(p.threadId) ?? [];
    const lost = withContact.filter((p) => emails(p).length === 0).length;
    const duplicates = plans.filter((p) => emails(p).length > 1).length;
    const unexpected = plans.filter((p) => p.contactAt < 0 && emails(p).length > 0).length;
    const delays = withContact.filter((p) => emails(p).length).map((p) => emails(p)[0]! - p.lastAt);
    const requests = await emulator.requests();
    const summaryOf = (r: (typeof requests)[number]) =>
      r.path === '/v1/responses' && (r.body as { text?: { format?: { name?: string } } })?.text?.format?.name === SUMMARY_FORMAT;
    const summaries = requests.filter(summaryOf);
    const noContactSummaries = summaries.filter((r) =>
      plans.some((p) => p.contactAt < 0 && JSON.stringify(r.body).includes(`[conv-${p.i}]`)),
    ).length;
    // States a summary may be paid for: each turn from the contact's on (one per transcript state).
    const statesWithContact = withContact.reduce((n, p) => n + (p.turns - p.contactAt), 0);
    const limit = (idleSeconds + SWEEP_SECONDS) * 1000;

    // The chat's added first byte with the scheduler reading every turn (the main phase's method, fewer turns).
    const token = mintClientToken(LOCAL_TOKEN_SECRET, 'u_benchSchedFirstByte0001', 3600).token;
    let threadId = (await turn(token, '', 'Hello')).threadId;
    for (let i = 0; i < 300; i++) await turn(token, threadId, 'Warming up');
    const direct: number[] = [];
    const viaChat: number[] = [];
    for (let i = 0; i < 100; i++) {
      const d = await firstMarker(
        `${at(SCHEDULED_PORTS.LOCAL_OPENAI_PORT)}/v1/responses`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
          body: JSON.stringify({ model: 'm', input: [{ role: 'user', content: 'Are you open?' }], stream: true }),
        },
        'response.output_text.delta',
      );
      direct.push(d.firstByte);
      const c = await turn(token, threadId, 'Are you open?');
      threadId = c.threadId;
      viaChat.push(c.firstByte);
    }
    const added = round(median(viaChat) - median(direct));
    return {
      conversations: SCHEDULED_CONVERSATIONS,
      withContact: withContact.length,
      turns: plans.reduce((n, p) => n + p.turns, 0),
      chatSeconds: round(chatSeconds, 1),
      browserTriggers: 0,
      emailsSent: plans.reduce((n, p) => n + emails(p).length, 0),
      lost,
      duplicates,
      emailsWithoutContact: unexpected,
      summaries: summaries.length,
      summariesPerConversation: round(summaries.length / SCHEDULED_CONVERSATIONS, 2),
      summariesPerContactConversation: round(summaries.length / withContact.length, 2),
      summariesForConversationsWithoutContact: noContactSummaries,
      transcriptStatesWithContact: statesWithContact,
      delayFromLastMessageMs: {
        p50: Math.round(median(delays)),
        p99: Math.round(quantile(delays, 0.99)),
        max: Math.round(Math.max(...delays)),
      },
      idleWindowSeconds: idleSeconds,
      sweepIntervalSeconds: SWEEP_SECONDS,
      target: `0 lost, 0 duplicates, every delay <= idle window + one sweep interval (${limit} ms)`,
      met: lost === 0 && duplicates === 0 && unexpected === 0 && Math.max(...delays) <= limit,
      chatAddedFirstByteWithSchedulerMs: added,
      chatAddedFirstByteWithoutSchedulerMs: addedWithoutScheduler,
      economyMet: noContactSummaries === 0 && summaries.length <= statesWithContact,
    };
  } finally {
    stack.kill('SIGTERM');
    await new Promise((r) => stack.once('exit', r));
  }
}

function performanceDoc(r: any): string {
  const yes = (b: boolean) => (b ? 'met' : '**not met**');
  const c = r.coldStart;
  return `# Performance

Figures from \`npm run bench\` (a real run; \`bench/results.json\` has the raw numbers). Tests never
time anything; this is where speed and cost are measured.

Machine: ${r.machine.cpus} cores (${r.machine.cpuModel}), ${r.machine.memoryGb} GiB, Node ${r.machine.node}, ${r.machine.date}.
The Lambdas run Node 22 on arm64; absolute times here are this machine's, so the targets are
ratios and counts wherever noise would make a time meaningless.

## How to reproduce

\`\`\`sh
bash scripts/setup.sh   # once
npm run bench           # starts its own local stack (stage \`bench\`) on ports 19000-19110, a few minutes
\`\`\`

## Results

| figure | measured | target | |
| --- | --- | --- | --- |
${[
  row(
    `cold start, session: a token refresh (bundle ${(c.session.bundleBytes / 1024).toFixed(0)} KB)`,
    `${c.session.oursMedianMs} ms vs naive ${c.session.naiveMedianMs} ms = **${c.session.ratio}x** (${c.session.ratioWithoutSsmClient}x ` +
      `against the naive baseline without its SSM client, ${c.session.naiveWithoutSsmClientMedianMs} ms)`,
    `<= 0.5x naive`,
    `${yes(c.session.met)}`,
  ),
  row(
    `cold start, lead, duplicate trigger (bundle ${(c.lead.bundleBytes / 1024).toFixed(0)} KB)`,
    `${c.lead.oursMedianMs} ms vs naive ${c.lead.naiveMedianMs} ms = **${c.lead.ratio}x** (${c.lead.ratioWithoutSsmClient}x ` +
      `against the naive baseline without its SSM client, ${c.lead.naiveWithoutSsmClientMedianMs} ms)`,
    `<= 0.5x naive`,
    `${yes(c.lead.met)}`,
  ),
  row(
    `cold first turn of the chat: a fresh process to the first streamed ` +
      `byte (bundle ${(c.chatFirstTurn.bundleBytes / 1024).toFixed(0)} KB)`,
    `${c.chatFirstTurn.firstByteMedianMs} ms (an empty Node process: ` +
      `${c.emptyNodeProcessMedianMs} ms; a warm turn: ${r.chat.firstByteThroughChatMedianMs} ms)`,
    `(no target: reported) |`,
  ),
  row(
    `legacy hosted mode: cold start, session (a hosted mint)`,
    `${c.hostedSession.oursMedianMs} ms vs naive ${c.hostedSession.naiveMedianMs} ms = **${c.hostedSession.ratio}x**`,
    `<= 0.5x naive`,
    `${yes(c.hostedSession.met)}`,
  ),
  row(
    `legacy hosted mode: cold start, lead, duplicate trigger`,
    `${c.hostedLead.oursMedianMs} ms vs naive ${c.hostedLead.naiveMedianMs} ms = **${c.hostedLead.ratio}x**`,
    `<= 0.5x naive`,
    `${yes(c.hostedLead.met)}`,
  ),
  row(
    `duplicate trigger (\`already_sent\`)`,
    `${r.ledger.duplicateTrigger.dynamoRoundTrips} DynamoDB round trip, ${r.ledger.duplicateTrigger.openaiCalls} OpenAI calls`,
    `exactly 1 and 0`,
    `${yes(r.ledger.duplicateTrigger.met)}`,
  ),
  row(
    `a send (a thread's first trigger: the owner check included)`,
    `${r.ledger.send.dynamoRoundTrips} DynamoDB round trips on the ledger (the owner-checked write, refused as there is no record ` +
      `yet; the owner's write; \`sent\`), and ${r.ledger.send.threadStoreRequests} thread-store requests ` +
      `(the owner; then the thread and its items, together)`,
    `<= 3 on the ledger`,
    `${yes(r.ledger.send.met)}`,
  ),
  row(
    `summaries per conversation (${r.ledger.summariesPerConversation.triggersPerConversation} triggers, ` +
      `${r.ledger.summariesPerConversation.distinctTranscriptStatesPerConversation} transcript states)`,
    `${r.ledger.summariesPerConversation.summariesPerConversation} (the original ` +
      `design: ${r.ledger.summariesPerConversation.originalDesignSummariesPerConversation})`,
    `<= 1 per state`,
    `${yes(r.ledger.summariesPerConversation.met)}`,
  ),
  row(
    `email render, 200-message transcript`,
    `${r.render200.medianMs} ms median, ${r.render200.p99Ms} ms p99 (${(r.render200.htmlBytes / 1024).toFixed(0)} KB HTML)`,
    `<= 5 ms median`,
    `${yes(r.render200.met)}`,
  ),
  row(
    `lead handler peak memory, 200-message transcript`,
    `${r.memory200.maxRssMb} MB RSS (heap ${r.memory200.heapUsedMb} MB)`,
    `< 150 MB`,
    `${yes(r.memory200.met)}`,
  ),
  row(
    `self-hosted chat: time added to the first streamed byte`,
    `${r.chat.addedToFirstStreamedByteMs} ms (through the chat ${r.chat.firstByteThroughChatMedianMs} ` +
      `ms, the emulator alone ${r.chat.firstByteDirectFromEmulatorMedianMs} ms)`,
    `<= 10 ms`,
    `${yes(r.chat.addedMet)}`,
  ),
  row(
    `self-hosted chat: time added to the first streamed text (no target; see Method)`,
    `${r.chat.addedToFirstStreamedTextMs} ms (through the chat ${r.chat.firstTextThroughChatMedianMs} ` +
      `ms, the emulator alone ${r.chat.firstTextDirectFromEmulatorMedianMs} ms)`,
    `|`,
  ),
  row(
    `self-hosted chat: concurrent streams`,
    `${r.chat.concurrentStreams.completedWithoutError} of ${r.chat.concurrentStreams.attempted} completed without an error`,
    `50`,
    `${yes(r.chat.concurrentStreams.met)}`,
  ),
  ...(r.serverScheduled ? scheduledRows(r.serverScheduled, yes) : []),
].join('\n')}

Self-hosted mode (the default) unless a row says otherwise. Warm latency through the local
Function URL server (HTTP, the handler in its own process, the emulators answering at once),
p50 / p99: session (a token refresh) ${r.warmLatency.session.p50Ms} / ${r.warmLatency.session.p99Ms} ms;
lead duplicate ${r.warmLatency.leadDuplicate.p50Ms} / ${r.warmLatency.leadDuplicate.p99Ms} ms;
lead send (transcript, summary, render, SES, ledger) ${r.warmLatency.leadSend.p50Ms} / ${r.warmLatency.leadSend.p99Ms} ms.

## Method

- **The stack**: the bench starts its own local stack as the \`bench\` stage of stages.config.json:
  the same code and settings as \`local\`, with usage limits (turns per user per minute, model
  calls per day, new users per IP) high enough for hundreds of turns from one bench user.
- **Cold start**: the median of ${c.runsEach} fresh \`node\` processes each loading the handler and answering
  one event against the local stack (session: a refresh with a device credential; lead: a
  duplicate trigger with the client token; hosted rows: a hosted mint and a hosted duplicate),
  from spawn to the answer on stdout (the process's teardown is not part of answering). Ours, the naive
  baseline and an empty process run interleaved, so the machine's drift falls on all alike. An
  empty Node process answers in ${c.emptyNodeProcessMedianMs} ms here, included on both sides. "Ours" is the deploy
  bundle (esbuild, minified cjs, \`@aws-sdk/*\` left to the runtime, the OpenAI resources the
  function never calls left out by \`@lead-intake/bundling\`, clients created on first use and
  sending over node:http). The naive baselines (\`bench/naive/\`; \`session-self-hosted.mjs\` for
  the self-hosted session) import the same dependencies
  unbundled from \`node_modules\` and creates every client at import, the SSM client included
  (both functions read their secrets through @middy/ssm when deployed; in this run both sides
  read them from the environment, so neither calls SSM). The ratio against the baseline without
  its SSM client is reported beside it.
- **What every cold start pays** (measured in the same run): loading undici (${c.undiciLoadMedianMs} ms; the
  OpenAI SDK builds its headers with Node's \`Headers\`, which loads it) and the first time-zone
  lookup (${c.firstTimeZoneMedianMs} ms; the shop state needs it). undici's own first \`fetch\` (${c.firstFetchMedianMs} ms, its
  WebAssembly HTTP parser) is paid by the naive baseline only: our OpenAI clients send over
  node:http (\`nodeHttpFetch\`). The lead function answers a duplicate from the ledger alone: the
  pipeline (OpenAI, zod, libphonenumber, SES) loads on the first request that gets past the
  ledger, and the SSM and SES clients on first use.
- **Cold first turn of the chat**: a fresh process loads the chat bundle as the Node.js runtime
  loads a response-streaming handler (\`bench/chat-cold.cjs\`) and answers a \`threads.create\`
  from a new user (client token, usage counters, the thread written, the model asked); timed from
  spawn to the first streamed byte (\`thread.created\`), the stream then read to its end.
- **Round trips** are counted at the wire, per table, by a proxy in front of DynamoDB Local; OpenAI
  calls from the emulator's request log.
- **Summaries per conversation**: ${r.ledger.summariesPerConversation.conversations} conversations of 4 turns;
  after each assistant message an
  \`auto\` trigger, then \`idle\`, then \`pagehide\` from two tabs at once.
- **Render**: \`renderLeadEmail\` on a 200-message transcript, 500 runs after 50 warm-up runs.
- **Chat**: ${r.chat.warmupTurns} warm-up turns first (discarded: DynamoDB Local is a JVM whose first few hundred
  requests on a code path run interpreted), then ${r.chat.turnsMeasured} turns on one thread alternating with the
  same streamed request straight to the emulator; each figure is the difference of the medians.
  The target is on the first streamed byte, as the issue states it: ours is the user's message,
  sent once it is stored (the protocol's first event of a turn), the emulator's its first event.
  The first assistant text is reported beside it: it also waits for the history read and the
  model's first event. On a thread the instance knows, the history read and the message write
  run together, so one DynamoDB Local round trip (${r.chat.dynamoLocalRoundTripMedianMs} ms median from the bench
  process, more under the stack's load on 2 cores) is on the path. The same request path without
  the store (a request refused by validation) answers in ${r.chat.firstByteWithoutStoreMedianMs} ms. The usage gate (the user's turn
  counter; the day's model calls, reserved in blocks) is asked once the message is stored, so it
  is on the path to the first text, not the first byte.
- **Server-scheduled leads** (issue 16): a second stack with the scheduler's stream mapping on
  and the sweeper every ${r.serverScheduled?.sweepIntervalSeconds ?? 1} s;
  ${r.serverScheduled?.conversations ?? 200} conversations through the chat endpoint, 10 at a time,
  none sending a browser trigger, each abandoned after 1 to 4 turns (random pauses up to 1.5 s),
  70% giving a phone number at a random turn (a fixed seed: the same conversations every run). The
  emulator's summaries are never handoff-ready, so every email is an idle one. Emails are counted
  per conversation from the SES emulator, polled every 100 ms until the last conversation's window
  and a sweep have passed, plus 15 s in which a duplicate would show; the delay runs from the end
  of the conversation's last turn to the poll that first saw its email. The chat's added first
  byte is then measured on that stack as above (300 warm-up turns, 100 measured), every turn
  going through the stream to the scheduler.
- **Memory**: a fresh process runs the lead bundle on a 200-message thread through the whole send
  path (transcript pages, summary, render, SES, ledger); \`process.resourceUsage().maxRSS\`.

## Comparing two versions

Absolute times move with this machine's load from run to run (an empty Node process took 89 ms in
the 2026-11-25 run and 117-138 ms in the runs of 2026-11-27; the emulator alone, 1.5 ms then and
2.2-2.9 ms now), so a change is judged against the code before it, measured side by side:
\`bench/compare-chat.ts\` sends the same turn to two running stacks, alternating request by
request after a long warm-up, and reports both medians of the first streamed byte.

\`\`\`sh
git worktree add /tmp/before <commit> && (cd /tmp/before && npm ci)
(cd /tmp/before && LOCAL_CHAT_PORT=19703 LOCAL_DYNAMODB_PORT=19700 LOCAL_SES_PORT=19705 LOCAL_SQS_PORT=19706 \\
  LOCAL_OPENAI_PORT=19710 LOCAL_SESSION_PORT=19701 LOCAL_LEAD_PORT=19702 npm run dev) &
LOCAL_STAGE=bench LOCAL_CHAT_PORT=19803 LOCAL_DYNAMODB_PORT=19800 LOCAL_SES_PORT=19805 LOCAL_SQS_PORT=19806 \\
  LOCAL_OPENAI_PORT=19810 LOCAL_SESSION_PORT=19801 LOCAL_LEAD_PORT=19802 npm run dev &
npx tsx bench/compare-chat.ts http://127.0.0.1:19703/ http://127.0.0.1:19803/   # 1000 warm-up turns each, 200 measured
\`\`\`

Measured on 2026-11-27 for the self-hosted default, item ordering and server-issued identities
(\`adc9de7\` before, the change after): first with the usage gate beside the thread read (12.35
vs 13.59, 13.12 vs 13.57, 11.91 vs 12.91 ms: **+0.9 ms**, the per-user turn counter's write
contending with the read and the message write, which DynamoDB Local serializes on 2 cores);
then as it is now, the gate asked once the message is stored and the model request prepared
once its event has gone out (11.73 vs 10.42, 12.08 vs 11.31, 11.44 vs 10.52 ms: **-1.0 ms**).
The price is on the first text: one more round trip (the gate's) before the model is asked. The
day's model-call budget is reserved in blocks and costs no write on most turns. Through this
bench's own method (above) the same code measures ${r.chat.addedToFirstStreamedByteMs} ms added in this run,
against 6.34 ms on the quieter 2026-11-25 machine.
`;
}

function scheduledRows(s: any, yes: (b: boolean) => string): string[] {
  return [
    row(
      `server-scheduled leads: ${s.conversations} abandoned conversations (${s.withContact} with a contact), no browser trigger`,
      `${s.emailsSent} emails; lost ${s.lost}, duplicates ${s.duplicates}, emails without a contact ${s.emailsWithoutContact}`,
      `0 lost, 0 duplicates`,
      `${yes(s.lost === 0 && s.duplicates === 0 && s.emailsWithoutContact === 0)}`,
    ),
    row(
      `server-scheduled leads: delay from the last message to the email`,
      `p50 ${s.delayFromLastMessageMs.p50} ms, p99 ${s.delayFromLastMessageMs.p99} ms, max ${s.delayFromLastMessageMs.max} ms ` +
        `(idle window ${s.idleWindowSeconds} s, sweep every ${s.sweepIntervalSeconds} s)`,
      `every one <= ${(s.idleWindowSeconds + s.sweepIntervalSeconds) * 1000} ms`,
      `${yes(s.met)}`,
    ),
    row(
      `server-scheduled leads: summaries`,
      `${s.summaries} for ${s.conversations} conversations (${s.summariesPerContactConversation} per conversation with a contact; ` +
        `${s.summariesForConversationsWithoutContact} for those without; ` +
        `${s.transcriptStatesWithContact} transcript states with a contact)`,
      `none without a contact, <= 1 per state`,
      `${yes(s.economyMet)}`,
    ),
    row(
      `self-hosted chat with the scheduler reading every turn: time added to the first streamed byte`,
      `${s.chatAddedFirstByteWithSchedulerMs} ms (the main run, scheduler off: ${s.chatAddedFirstByteWithoutSchedulerMs} ms)`,
      `no change: the turn never waits for lead work`,
      `|`,
    ),
  ];
}

if (process.argv.includes('--scheduled-only')) {
  // Only the server-scheduled scenario, printed (nothing written): for working on it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  serverScheduled(NaN).then(
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
