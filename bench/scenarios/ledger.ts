/**
 * 3. The ledger: round trips at the wire (a counting proxy in front of DynamoDB Local) for a
 * duplicate trigger and a send, and summaries per conversation under the standard trigger pattern.
 */
import {
  auth,
  BUNDLES,
  countingProxy,
  dynamoEndpoint,
  emu,
  functionEnv,
  seedConversation,
  appendItems,
  stage,
  urlEvent,
} from '../lib/stack';
import { log, round } from '../lib/measure';
import type { Fixture } from '../lib/fixture';

export async function ledger({ table, sentThread }: Fixture) {
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
  return {
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
}
