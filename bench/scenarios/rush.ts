/** 7b. The evening rush: 1,000 conversations ending within one minute, their leads sent by the server alone. */
import { statSync } from 'node:fs';
import { mintClientToken } from '@lead-intake/chat-auth';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';
import { log, median, quantile, round } from '../lib/measure';
import {
  chatTurns,
  cpuByProcess,
  cpuSpent,
  dynamoLocalNiceness,
  instancesByFunction,
  dynamoRequests,
  requestsSpent,
  rng,
  streamBatches,
  sweeperRuns,
  watchEmails,
} from '../lib/scheduled';

export const RUSH_CONVERSATIONS = 1000;
const RUSH_SECONDS = 60;

/**
 * After a marketing email: 1,000 conversations whose last turn falls within one minute (evenly
 * spread, one or two turns each, 80% leaving a phone number at a random turn), none sending a
 * browser trigger, on the server-scheduled stack (stream mapping and sweeper on). Counts lost and
 * duplicate emails, the delay from each conversation's last turn to its email against the same
 * target (idle window + one sweep interval), and from the local stack's log of the sweeper's runs:
 * its most records at once and its run time (Lambda seconds) per lead sent; of the scheduler's
 * stream batches: their iterator age (how far behind the chat the scheduler ran) and lanes.
 */
export async function rush(o: {
  chat: string;
  ses: string;
  logFile: string;
  idleSeconds: number;
  sweepSeconds: number;
  stackPid: number;
  /** Where the stack's functions keep their DynamoDB request counts (bench/aws-requests.cjs). */
  requestCounts: string;
}) {
  log(`the rush: ${RUSH_CONVERSATIONS} conversations ending within ${RUSH_SECONDS} s...`);
  const random = rng(31);
  const plans = Array.from({ length: RUSH_CONVERSATIONS }, (_, i) => {
    const turns = random() < 0.5 ? 1 : 2;
    const contactAt = random() < 0.8 ? Math.floor(random() * turns) : -1;
    return { i, turns, contactAt, endAt: (i * RUSH_SECONDS * 1000) / RUSH_CONVERSATIONS, threadId: '', lastAt: 0, failed: '' };
  });
  const turn = chatTurns(o.chat);
  const from = statSync(o.logFile).size;
  const watcher = watchEmails(o.ses, 250);
  const cpuBefore = cpuByProcess(o.stackPid);
  const instancesBefore = instancesByFunction(o.stackPid);
  const requestsBefore = dynamoRequests(o.requestCounts);
  const t0 = Date.now();
  let open = 0;
  let mostOpen = 0;
  await Promise.all(
    plans.map(async (p) => {
      // A two-turn conversation starts a little earlier, so that it ends near its planned time.
      await new Promise((r) => setTimeout(r, Math.max(0, p.endAt - (p.turns - 1) * 400)));
      mostOpen = Math.max(mostOpen, ++open);
      const token = mintClientToken(LOCAL_TOKEN_SECRET, `u_benchRush${String(p.i).padStart(14, '0')}`, 3600, {
        pageUrl: 'https://craigs.autos/service',
      }).token;
      try {
        for (let t = 0; t < p.turns; t++) {
          const text =
            t === p.contactAt
              ? `[rush-${p.i}] quote please, call 415-556-${String(1000 + p.i).slice(-4)}`
              : `[rush-${p.i}] do you do brakes?`;
          p.threadId = (await turn(token, p.threadId, text)).threadId;
          p.lastAt = Date.now();
        }
      } catch (e) {
        p.failed = (e as Error).message.slice(0, 200);
      } finally {
        open--;
      }
    }),
  );
  const chatSeconds = (Date.now() - t0) / 1000;
  const lastActivity = Math.max(...plans.map((p) => p.lastAt));
  // Late is not lost: every email is waited for (up to two minutes past the last window), then 15 s
  // more in which a duplicate would show.
  const owed = plans.filter((p) => p.contactAt >= 0 && !p.failed);
  const cap = lastActivity + (o.idleSeconds + o.sweepSeconds) * 1000 + 120_000;
  while (Date.now() < cap && owed.some((p) => watcher.emails(p.threadId).length === 0)) await new Promise((r) => setTimeout(r, 250));
  const allIn = Date.now();
  const cpu = cpuSpent(cpuBefore, cpuByProcess(o.stackPid));
  await new Promise((r) => setTimeout(r, 500)); // the instances' last counts written (every 200 ms)
  const requests = requestsSpent(requestsBefore, dynamoRequests(o.requestCounts));
  const perConversation = (fn: string) => round((requests[fn]?.total ?? 0) / RUSH_CONVERSATIONS, 2);
  while (Date.now() < Math.max(allIn, lastActivity + (o.idleSeconds + o.sweepSeconds) * 1000) + 15_000)
    await new Promise((r) => setTimeout(r, 250));
  await watcher.stop();
  const failedTurns = plans.filter((p) => p.failed);
  const withContact = plans.filter((p) => p.contactAt >= 0 && !p.failed);
  const emails = (p: (typeof plans)[number]) => watcher.emails(p.threadId);
  const lost = withContact.filter((p) => emails(p).length === 0).length;
  const duplicates = plans.filter((p) => emails(p).length > 1).length;
  const unexpected = plans.filter((p) => p.contactAt < 0 && emails(p).length > 0).length;
  const delays = withContact.filter((p) => emails(p).length).map((p) => emails(p)[0]! - p.lastAt);
  const limit = (o.idleSeconds + o.sweepSeconds) * 1000;
  const runs = sweeperRuns(o.logFile, from); // every run from the rush's start to the end of its wait, idle ones too
  const batches = streamBatches(o.logFile, from);
  const ages = batches.map((b) => b.iteratorAgeMs);
  const sent = plans.reduce((n, p) => n + emails(p).length, 0);
  const p99 = Math.round(quantile(delays, 0.99));
  return {
    conversations: RUSH_CONVERSATIONS,
    endingWithinSeconds: RUSH_SECONDS,
    withContact: withContact.length,
    turns: plans.reduce((n, p) => n + p.turns, 0),
    turnsFailed: failedTurns.length,
    firstTurnFailure: failedTurns[0]?.failed ?? null,
    chatSeconds: round(chatSeconds, 1),
    mostConversationsOpenAtOnce: mostOpen,
    emailsSent: sent,
    lost,
    duplicates,
    emailsWithoutContact: unexpected,
    delayFromLastMessageMs: { p50: Math.round(median(delays)), p99, max: Math.round(Math.max(...delays)) },
    target: `0 lost, 0 duplicates, p99 delay <= idle window + one sweep interval (${limit} ms)`,
    met: failedTurns.length === 0 && lost === 0 && duplicates === 0 && unexpected === 0 && p99 <= limit,
    cpuSecondsFromStartToLastEmail: cpu,
    dynamoLocalNiceness: dynamoLocalNiceness(o.stackPid),
    // Each function's instances (processes) after the warm-up and after the rush.
    instances: { atTheStart: instancesBefore, atTheEnd: instancesByFunction(o.stackPid) },
    // At the wire, from the start to the last email: the chat's turns, and the lead's work on them.
    dynamoRequestsPerConversation: {
      chat: perConversation('chat-chat'),
      scheduler: perConversation('lead-scheduler'),
      sweeper: perConversation('lead-sweeper'),
      byOperation: { scheduler: requests['lead-scheduler']?.byOperation ?? {}, sweeper: requests['lead-sweeper']?.byOperation ?? {} },
    },
    scheduler: {
      batches: batches.length,
      lanes: new Set(batches.map((b) => b.lane)).size,
      records: batches.reduce((n, b) => n + b.records, 0),
      iteratorAgeMs: { p50: Math.round(median(ages)), p99: Math.round(quantile(ages, 0.99)), max: Math.max(0, ...ages) },
      lambdaSeconds: round(batches.reduce((n, b) => n + b.ms, 0) / 1000, 1),
    },
    sweeper: {
      runs: runs.length,
      runsThatSent: runs.filter((r) => r.processed > 0).length,
      mostRecordsAtOnce: Math.max(0, ...runs.map((r) => r.peak)),
      leadsProcessed: runs.reduce((n, r) => n + r.processed, 0),
      runSeconds: round(runs.reduce((n, r) => n + r.ms, 0) / 1000, 1),
      lambdaSecondsPerLead: sent ? round(runs.reduce((n, r) => n + r.ms, 0) / 1000 / sent, 3) : null,
    },
  };
}
