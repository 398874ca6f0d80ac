/** What the server-scheduled scenarios share: their conversations, turns through the chat, and the emails they lead to. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstMarker } from './measure';
import { input } from './stack';

/** A small deterministic generator (mulberry32): the same conversations on every run. */
export function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One turn through the chat endpoint (a new thread when `threadId` is empty); answers the thread and the first byte. */
export function chatTurns(chat: string) {
  return async (token: string, threadId: string, text: string) => {
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
}

/**
 * Watches the SES emulator (only the emails of the last seconds on each poll): when each thread's
 * emails were first seen. `stop()` polls a last time.
 */
export function watchEmails(ses: string, everyMs = 100) {
  const firstSeen = new Map<string, number[]>();
  const counted = new Set<string>();
  const poll = async () => {
    const since = Math.floor(Date.now() / 1000) - 5;
    const store = (await (await fetch(`${ses}/store?since=${since}`)).json()) as {
      emails: Array<{ messageId: string; body: { text?: string } }>;
    };
    const now = Date.now();
    for (const m of store.emails) {
      if (counted.has(m.messageId)) continue;
      const id = /cthr_[0-9a-z]+/.exec(m.body.text ?? '')?.[0];
      if (!id) continue;
      counted.add(m.messageId);
      firstSeen.set(id, [...(firstSeen.get(id) ?? []), now]);
    }
  };
  let polling = true;
  const loop = (async () => {
    while (polling) {
      await poll();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    emails: (threadId: string) => firstSeen.get(threadId) ?? [],
    stop: async () => {
      polling = false;
      await loop;
      await poll();
    },
  };
}

/** The sweeper's runs the local stack logged after `from` (a byte offset of its log): each run's ms and counts. */
export function sweeperRuns(logFile: string, from: number) {
  const text = readFileSync(logFile, 'utf8').slice(from);
  return [...text.matchAll(/^\[sweeper\] schedule (\d+)ms (\{.*\})$/gm)].map((m) => ({
    ms: Number(m[1]),
    ...(JSON.parse(m[2]!) as { processed: number; peak: number; idle: number }),
  }));
}

/**
 * The scheduler's stream batches from the local stack's log (one line per batch, local/local-stack
 * streams.ts): records, lane, iterator age (how long the batch's newest record waited since it was
 * read: Lambda's IteratorAge) and run time.
 */
export function streamBatches(logFile: string, from: number, fn = 'scheduler') {
  const text = readFileSync(logFile, 'utf8').slice(from);
  const line = new RegExp(`^\\[${fn}\\] stream batch of (\\d+) records \\(lane (\\d+)\\): iterator age (\\d+)ms, ran (\\d+)ms`, 'gm');
  return [...text.matchAll(line)].map((m) => ({
    records: Number(m[1]),
    lane: Number(m[2]),
    iteratorAgeMs: Number(m[3]),
    ms: Number(m[4]),
  }));
}

/**
 * CPU seconds so far of a process and its descendants, by what they run (a function's instances
 * by the function's name, DynamoDB Local, the stack's own process with its emulators): read from
 * /proc (Linux), so a scenario can say where the machine's time went.
 */
export function cpuByProcess(rootPid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of stackProcesses(rootPid)) out[p.name] = (out[p.name] ?? 0) + p.cpu;
  return out;
}

/**
 * How many instances of each function run now under the stack `rootPid`: the local stack starts
 * one per request in flight (up to the function's limit), each a process of its own; on 2 cores,
 * more of them only share the same CPU, with a cold start and a cold compiler each.
 */
export function instancesByFunction(rootPid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of stackProcesses(rootPid)) if (p.worker) out[p.name] = (out[p.name] ?? 0) + 1;
  return out;
}

/** The stack's processes, each named by what it runs. */
function stackProcesses(rootPid: number): { name: string; cpu: number; worker: boolean }[] {
  const tick = 100; // USER_HZ on Linux
  const procs = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return { pid: Number(pid), ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / tick, args };
      } catch {
        return null; // gone meanwhile
      }
    })
    .filter((p): p is NonNullable<typeof p> => p !== null);
  const children = new Map<number, typeof procs>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: { name: string; cpu: number; worker: boolean }[] = [];
  const visit = (pid: number, label: string) => {
    for (const c of children.get(pid) ?? []) {
      const worker = c.args.findIndex((a) => a.endsWith('lambda-worker.cjs'));
      const name = worker >= 0 ? c.args[worker + 3]! : c.args[0]!.endsWith('java') ? 'DynamoDB Local' : label;
      out.push({ name, cpu: c.cpu, worker: worker >= 0 });
      visit(c.pid, name);
    }
  };
  const root = procs.find((p) => p.pid === rootPid);
  if (root) out.push({ name: 'local stack (emulators)', cpu: root.cpu, worker: false });
  visit(rootPid, 'local stack (emulators)');
  return out;
}

/**
 * The niceness DynamoDB Local runs at under the stack `rootPid` (the local stack raises it where
 * allowed, docs/local-development.md), so a rush's figures say which they were measured with; null if not found.
 */
export function dynamoLocalNiceness(rootPid: number): number | null {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      // The JVM itself: the shell that starts it names the jar too, at the niceness it was given.
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!args[0]!.endsWith('java') || !args.some((a) => a.endsWith('DynamoDBLocal.jar'))) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (!isDescendant(Number(pid), rootPid)) continue;
      return Number(fields[16]);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

function isDescendant(pid: number, rootPid: number): boolean {
  for (let p = pid; p > 1;) {
    if (p === rootPid) return true;
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
  return false;
}

/** CPU seconds spent between two readings, per process kind, largest first. */
export function cpuSpent(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, Math.round((v - (before[k] ?? 0)) * 10) / 10] as const)
      .sort((a, b) => b[1] - a[1]),
  );
}

/**
 * DynamoDB requests so far per function (all its instances) and operation, as bench/aws-requests.cjs
 * keeps them in `dir`: read at two moments, their difference is what a scenario asked.
 */
export function dynamoRequests(dir: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const fn = f.replace(/-\d+\.json$/, '').replace(/^chatkit-lead-intake-/, '');
    let counts: Record<string, number>;
    try {
      counts = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch {
      continue; // being rewritten this instant: the next reading has it
    }
    const into = (out[fn] ??= {});
    for (const [op, n] of Object.entries(counts)) into[op] = (into[op] ?? 0) + n;
  }
  return out;
}

/** Requests between two readings of `dynamoRequests`, per function: the total and each operation. */
export function requestsSpent(before: Record<string, Record<string, number>>, after: Record<string, Record<string, number>>) {
  return Object.fromEntries(
    Object.entries(after).map(([fn, ops]) => {
      const byOperation = Object.fromEntries(
        Object.entries(ops)
          .map(([op, n]) => [op, n - (before[fn]?.[op] ?? 0)] as const)
          .filter(([, n]) => n > 0)
          .sort((a, b) => b[1] - a[1]),
      );
      return [fn, { total: Object.values(byOperation).reduce((a, b) => a + b, 0), byOperation }];
    }),
  );
}
