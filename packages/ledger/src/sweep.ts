import type { HeldOutcome, Ledger, Lease, SweepResult } from './ledger';

export interface SweepOptions {
  /** Records per query (the due records, and each read of the idle evaluations). */
  limit?: number;
  /** Records run at once (a bounded pool: a slot is refilled as soon as its record ends). */
  parallel?: number;
  /** Whether the run has time to start another record (the function's remaining time). */
  more?: () => boolean;
  /**
   * For how long (ms from the start of the run) it keeps taking idle evaluations as their time
   * comes, waiting for the next one when nothing is due: the share of the sweep interval before
   * the next run. 0 (the default): only those due when it looks.
   */
  takeForMs?: number;
  /**
   * Called once the due query has answered (the ledger is up again): work that runs beside the idle
   * evaluations rather than behind their window (the sweeper's spool drain).
   */
  afterDue?: () => void;
  /** How the run waits for the next evaluation's time (tests: their own clock). */
  sleep?: (ms: number) => Promise<void>;
  /** Each record's outcome (the same reporter as every other held run). */
  onOutcome?: (threadId: string, outcome: HeldOutcome<unknown>) => void;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.());

/** The pause before an idle evaluation found held is tried again within the run: 0.5 s, doubling, at most 4 s. */
const heldRetryMs = (tries: number) => Math.min(500 * 2 ** (tries - 1), 4000);

/**
 * One sweep: the records due now (sparse index, oldest first; no table scan), each taken over
 * with the sweeper's own conditional acquire (never from a live lease, never before a cooldown
 * ends) and handed to `process`, the same pipeline the endpoint runs. Then the armed idle
 * evaluations, each run as an `idle` trigger as its time comes (a record held or cooling down
 * stays armed for the next sweep).
 *
 * A pool, not pages: up to `parallel` records run at once and a slot is given the next record as
 * soon as its own ends, so a slow lead (a model call that retries, a channel timing out) holds one
 * slot, not the others. Idle evaluations come in bursts (conversations go quiet together) and come
 * due all through the interval: the run keeps taking them while `more()` and `takeForMs` allow,
 * waiting for the next one's time when one falls inside that window, so a lead goes out at its
 * time instead of at the next tick. An idle evaluation whose lease someone holds (the scheduler's
 * `auto` evaluation of the same last turn, mostly: it ends within seconds) is tried again after a
 * growing pause while the run takes, instead of waiting for the next run: under a backlog a run
 * lasts as long as it has work, and the next one could be half a minute away.
 */
export async function sweepLedger(
  ledger: Ledger,
  process: (lease: Lease) => Promise<unknown>,
  opts: SweepOptions = {},
): Promise<SweepResult> {
  const limit = opts.limit ?? 25;
  const parallel = opts.parallel ?? 1;
  const more = opts.more ?? (() => true);
  const sleep = opts.sleep ?? sleepFor;
  const clock = ledger.config.clock ?? Date.now;
  const until = clock() + (opts.takeForMs ?? 0);
  const result: SweepResult = { due: 0, idle: 0, processed: 0, skipped: 0, failed: 0, peak: 0 };
  const running = new Map<string, Promise<void>>();
  // Each record once per run, but an idle evaluation found held: tried again once its pause is over.
  const taken = new Set<string>();
  const held = new Map<string, { tries: number; at: number; queued: boolean }>();
  let stillArmed = 0;
  let error: unknown;

  const start = (threadId: string, mode: 'sweeper' | 'idle') => {
    taken.add(threadId);
    const run = ledger
      .runHeld(threadId, mode === 'idle' ? 'idle' : 'auto', { mode }, process)
      .then(
        (outcome) => {
          opts.onOutcome?.(threadId, outcome);
          if (outcome.kind === 'processed') result.processed++;
          else if (outcome.kind === 'failed') result.failed++;
          else if (mode === 'idle' && outcome.kind === 'busy' && outcome.reason === 'in_progress') {
            // Still armed: another look after a pause (counted as skipped only if the run ends first).
            const tries = (held.get(threadId)?.tries ?? 0) + 1;
            held.set(threadId, { tries, at: clock() + heldRetryMs(tries), queued: false });
            taken.delete(threadId);
            return;
          } else {
            result.skipped++;
            if (mode === 'idle') stillArmed++;
          }
          held.delete(threadId);
        },
        // The ledger itself failed (DynamoDB down): no more records this run; thrown once the others end.
        (e: unknown) => void (error ??= e),
      )
      .finally(() => running.delete(threadId));
    running.set(threadId, run);
    result.peak = Math.max(result.peak, running.size);
  };
  const nextEnd = () => Promise.race(running.values());

  const queue: Array<{ id: string; mode: 'sweeper' | 'idle' }> = [];
  const due = await ledger.store.due(ledger.now(), limit);
  result.due = due.length;
  opts.afterDue?.();
  for (const r of due) queue.push({ id: r.thread_id, mode: 'sweeper' });
  while (error === undefined && more()) {
    // Held ones whose pause is over: another look (one no longer armed, sent meanwhile, is answered by the claim itself).
    for (const [id, h] of held)
      if (!h.queued && h.at <= clock()) {
        h.queued = true;
        queue.push({ id, mode: 'idle' });
      }
    while (queue.length && running.size < parallel) {
      const next = queue.shift()!;
      if (!taken.has(next.id)) start(next.id, next.mode);
    }
    if (running.size >= parallel) {
      await nextEnd();
      continue;
    }
    // A free slot: the evaluations due now, and the next one's time if it falls inside the window.
    // Records started but not yet taken are still in the index, and so are those found held: read past them.
    const horizon = Math.max(ledger.now(), Math.floor(until / 1000));
    const page = await ledger.store.idleDue(horizon, Math.min(limit + stillArmed + held.size + running.size, 100));
    const now = ledger.now();
    const fresh = page.filter((r) => !taken.has(r.thread_id) && !held.has(r.thread_id));
    const ready = fresh.filter((r) => r.idle_at! <= now);
    if (ready.length) {
      result.idle += ready.length;
      for (const r of ready) queue.push({ id: r.thread_id, mode: 'idle' });
      continue;
    }
    // The next thing to wait for in the window: an evaluation's time, or a held one's next look.
    const retries = [...held.values()].filter((h) => !h.queued && h.at <= until).map((h) => h.at);
    const upcoming = Math.min(fresh[0]?.idle_at !== undefined ? fresh[0].idle_at * 1000 : Infinity, ...retries);
    if (upcoming === Infinity && running.size === 0) break;
    const waits: Array<Promise<unknown>> = [];
    if (upcoming !== Infinity) waits.push(sleep(Math.max(0, upcoming - clock())));
    if (running.size) waits.push(nextEnd());
    await Promise.race(waits);
  }
  await Promise.all(running.values());
  if (error !== undefined) throw error;
  // Held all through the run: left armed for the next one.
  result.skipped += held.size;
  return result;
}
