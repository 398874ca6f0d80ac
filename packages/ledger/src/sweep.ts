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
 * time instead of at the next tick.
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
  // Each record once per run: one found held by someone else stays armed, for the next run.
  const taken = new Set<string>();
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
          else {
            result.skipped++;
            if (mode === 'idle') stillArmed++;
          }
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
    const page = await ledger.store.idleDue(horizon, Math.min(limit + stillArmed + running.size, 100));
    const now = ledger.now();
    const fresh = page.filter((r) => !taken.has(r.thread_id));
    const ready = fresh.filter((r) => r.idle_at! <= now);
    if (ready.length) {
      result.idle += ready.length;
      for (const r of ready) queue.push({ id: r.thread_id, mode: 'idle' });
      continue;
    }
    const upcoming = fresh[0]?.idle_at;
    if (upcoming === undefined && running.size === 0) break;
    const waits: Array<Promise<unknown>> = [];
    if (upcoming !== undefined) waits.push(sleep(Math.max(0, upcoming * 1000 - clock())));
    if (running.size) waits.push(nextEnd());
    await Promise.race(waits);
  }
  await Promise.all(running.values());
  if (error !== undefined) throw error;
  return result;
}
