/**
 * 6. The self-hosted chat: what our server adds to the time to the first streamed byte and text
 * (against the emulator answering directly, interleaved), and how many concurrent streams it holds.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstMarker, log, median, oneColdStartWith, round } from '../lib/measure';
import {
  auth,
  BUNDLES,
  chatUrl,
  countingProxy,
  dynamoEndpoint,
  emu,
  functionEnv,
  HOST,
  input,
  PORTS,
  ROOT,
  stage,
  token,
  urlEvent,
} from '../lib/stack';

const CHAT_WARMUP_TURNS = 600;
const CHAT_TURNS = 150;

export async function chat(coldFirstTurnMs: number) {
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
  // The figure: what our server adds to the time to the first streamed byte (ours is the
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
  const perTurn = await dynamoRequestsPerTurn();
  const inside = insideInstance();
  return {
    firstByteDirectFromEmulatorMedianMs: round(median(direct.byte)),
    firstByteThroughChatMedianMs: round(median(viaChat.byte)),
    addedToFirstStreamedByteMs: round(added),
    targetAddedMs: '<= 5',
    addedMet: added <= 5,
    firstTextDirectFromEmulatorMedianMs: round(median(direct.text)),
    firstTextThroughChatMedianMs: round(median(viaChat.text)),
    addedToFirstStreamedTextMs: round(addedText),
    targetAddedTextMs: '<= 10',
    addedTextMet: addedText <= 10,
    turnsMeasured: CHAT_TURNS,
    concurrentStreams: { attempted: 50, completedWithoutError: ok, target: 50, met: ok === 50 },
    dynamoLocalRoundTripMedianMs: round(median(trips)),
    firstByteWithoutStoreMedianMs: round(median(noStore)),
    dynamoRequestsPerTurn: perTurn,
    insideInstance: inside,
    warmupTurns: CHAT_WARMUP_TURNS,
    coldFirstTurnFirstByteMedianMs: coldFirstTurnMs,
    note:
      'local: the thread store is DynamoDB Local (Java) on the same 2 cores. On a thread the instance knows, the history read ' +
      'and the user-message write run together: one round trip before the first event; the usage gate follows it, before the model call',
  };
}

/**
 * The chat's DynamoDB requests per turn, counted at the wire (a proxy in front of DynamoDB Local),
 * per table: the chat bundle in a process of its own (bench/chat-cold.cjs) answers a new thread's
 * first turn, then, in a second process, the same and TURNS more messages on that thread; the
 * difference over TURNS is a warm turn's (the day's model calls are reserved in blocks, so their
 * write shows as a fraction).
 */
async function dynamoRequestsPerTurn() {
  const TURNS = 40;
  const proxy = await countingProxy(dynamoEndpoint);
  try {
    const env = functionEnv(stage.leadLedgerTable as string, proxy.url);
    const file = join(ROOT, '.local', `bench-event-${process.pid}-turns.json`);
    const run = async (then: number) => {
      const user = `count-${process.pid}-${then}-${Date.now()}`;
      const create = urlEvent({ type: 'threads.create', params: { input: input('Hello, are you open today?') } }, auth(user));
      const next = urlEvent(
        { type: 'threads.add_user_message', params: { thread_id: '__THREAD__', input: input('Do you fix brakes?') } },
        auth(user),
      );
      writeFileSync(file, JSON.stringify(then ? { first: create, then: [next], times: then } : create));
      const before = new Map(tables.map((t) => [t, proxy.count(t)]));
      await oneColdStartWith(BUNDLES.chat, file, env);
      return new Map(tables.map((t) => [t, proxy.count(t) - before.get(t)!]));
    };
    const tables = [stage.chatThreadsTable as string, stage.chatLimitsTable as string];
    const first = await run(0);
    const more = await run(TURNS);
    const table = (t: string) => ({
      newThread: first.get(t)!,
      warmTurn: round((more.get(t)! - first.get(t)!) / TURNS, 2),
    });
    const threads = table(tables[0]!);
    const limits = table(tables[1]!);
    return {
      threadsTable: threads,
      limitsTable: limits,
      newThreadTotal: threads.newThread + limits.newThread,
      warmTurnTotal: round(threads.warmTurn + limits.warmTurn, 2),
      warmTurnsCounted: TURNS,
    };
  } finally {
    rmSync(join(ROOT, '.local', `bench-event-${process.pid}-turns.json`), { force: true });
    await proxy.close();
  }
}

/**
 * Warm turns timed inside the chat's instance (bench/chat-inside.cjs, a process of its own, no relay
 * in front): from the handler's call to its first DynamoDB request, to DynamoDB Local's last answer
 * before the first streamed byte, and to that byte. What the store's stand-in takes of the first
 * byte, and what the chat's own code does, apart from the local Function URL server's hop.
 */
function insideInstance() {
  const TURNS = 1000;
  const file = join(ROOT, '.local', `bench-event-${process.pid}-inside.json`);
  const user = `inside-${process.pid}-${Date.now()}`;
  const first = urlEvent({ type: 'threads.create', params: { input: input('Hello, are you open today?') } }, auth(user));
  const next = urlEvent(
    { type: 'threads.add_user_message', params: { thread_id: '__THREAD__', input: input('Are you open?') } },
    auth(user),
  );
  writeFileSync(file, JSON.stringify({ first, then: [next], times: TURNS }));
  try {
    const env = functionEnv(stage.leadLedgerTable as string, dynamoEndpoint);
    const out = execFileSync(process.execPath, [join(ROOT, 'bench', 'chat-inside.cjs'), BUNDLES.chat, file], { env, encoding: 'utf8' });
    return { ...(JSON.parse(out) as Record<string, number>), turnsRun: TURNS };
  } finally {
    rmSync(file, { force: true });
  }
}
