import type { HeldOutcome, Ledger, Lease, SweepResult } from './ledger';

export interface SweepOptions {
  /** Records per query (due, and each page of idle evaluations). */
  limit?: number;
  /** Records run at once. */
  parallel?: number;
  /** Whether the run has time for another page of idle evaluations. */
  more?: () => boolean;
  /** Each record's outcome (the same reporter as every other held run). */
  onOutcome?: (threadId: string, outcome: HeldOutcome<unknown>) => void;
}

/**
 * One sweep: the records due now (sparse index, oldest first; no table scan), each taken over
 * with the sweeper's own conditional acquire (never from a live lease, never before a cooldown
 * ends) and handed to `process`, the same pipeline the endpoint runs. Then the armed idle
 * evaluations whose time has come, each run as an `idle` trigger (a record held or cooling down
 * stays armed for the next sweep).
 */
export async function sweepLedger(
  ledger: Ledger,
  process: (lease: Lease) => Promise<unknown>,
  opts: SweepOptions = {},
): Promise<SweepResult> {
  const limit = opts.limit ?? 25;
  const parallel = opts.parallel ?? 1;
  const due = await ledger.store.due(ledger.now(), limit);
  const result: SweepResult = { due: due.length, idle: 0, processed: 0, skipped: 0, failed: 0 };
  const each = (records: Array<{ thread_id: string }>, mode: 'sweeper' | 'idle') => {
    const queue = [...records];
    const next = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        const outcome = await ledger.runHeld(r.thread_id, mode === 'idle' ? 'idle' : 'auto', { mode }, process);
        opts.onOutcome?.(r.thread_id, outcome);
        if (outcome.kind === 'processed') result.processed++;
        else if (outcome.kind === 'failed') result.failed++;
        else result.skipped++;
      }
    };
    return Promise.all(Array.from({ length: Math.min(parallel, queue.length) }, next));
  };
  await each(due, 'sweeper');
  // Idle evaluations come in bursts (conversations go quiet together): pages while time is left,
  // stopping when a page only finds records someone else holds (they stay armed for the next run).
  for (let page = 0; page < 100 && (page === 0 || (opts.more?.() ?? false)); page++) {
    const idle = await ledger.store.idleDue(ledger.now(), limit);
    if (!idle.length) break;
    result.idle += idle.length;
    const before = result.processed + result.failed;
    await each(idle, 'idle');
    if (result.processed + result.failed === before) break;
  }
  return result;
}
