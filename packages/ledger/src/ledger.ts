import { randomUUID } from 'node:crypto';
import { userHash } from '@lead-intake/observability';
import { DELIVERY_KEY, deliveriesOf, isStrong, nowSeconds, type Delivered, type LedgerRecord } from './record';
import { mayNoteContact, type ClaimMode, type EvalCache } from './state';
import { sweepLedger, type SweepOptions } from './sweep';
import { LedgerUnavailableError, type LedgerStore } from './store';

/**
 * The ledger (docs/idempotency.md): who may evaluate and send for a thread, when, and what a
 * holder must do before it lets go, over a LedgerStore. The state machine's rules and writes are
 * in ./state.ts; this class sequences them (rounds after a lost race, the owner check, cooldowns).
 */

export interface LedgerConfig {
  /** How long a lease lasts; must outlive the function timeout (checked at cold start). */
  leaseSeconds: number;
  /** Cooldown after the first failed attempt; doubles with every further failure. */
  errorCooldownSeconds: number;
  /** Records are deleted by TTL this long after their last update (never relied on for correctness). */
  ttlDays: number;
  /** After this many failed attempts a record is `failed` (kept for the runbook). */
  maxAttempts: number;
  clock?: () => number;
}

export const LEDGER_DEFAULTS: LedgerConfig = { leaseSeconds: 90, errorCooldownSeconds: 60, ttlDays: 90, maxAttempts: 5 };

export interface Lease {
  readonly threadId: string;
  readonly leaseId: string;
  readonly expiresAt: number;
  /** The trigger to evaluate with: this request's, or a stronger one recorded on the item. */
  effectiveReason: string;
  /** The pending_seq this holder has accounted for. */
  pendingSeqSeen: number;
  /** Failed attempts before this one. */
  readonly attempts: number;
  /** The last evaluated transcript state and its summary (JSON), if any; the holder updates it. */
  cached: { evalState: string; summary: string } | null;
  /** The page this trigger named, else the one the record kept from an earlier trigger. */
  readonly pageUrl: string | null;
  /** Deliveries already made (an earlier attempt's, and this holder's as it records them): not sent again. */
  readonly delivered: Record<string, Delivered>;
  /** When the record was created (epoch seconds) and the operator resends so far: name the lead for webhook ids. */
  readonly createdAt: number;
  readonly resendSeq: number;
  /**
   * Taken through the server's idle arm (the sweeper's idle claim: the conversation's window ran
   * out), not for a trigger someone sent (a browser's `idle` is one): only such an evaluation is
   * put off when the conversation turns out to be active.
   */
  readonly armed?: boolean;
  /** The customer's requests (hidden item ids) the lead this holder sends carries: recorded with `sent`. */
  carried?: string[];
  finished: boolean;
}

export type AcquireResult =
  | { kind: 'acquired'; lease: Lease }
  | { kind: 'busy'; reason: 'already_sent' | 'in_progress' | 'cooldown' | 'failed'; record: LedgerRecord }
  /** The caller is not the thread's owner, or there is no such thread: nothing was written. */
  | { kind: 'not_owner' };

/**
 * Who asks. The ledger keeps a hash of the thread's owner on its record; a request from anyone
 * else is refused before anything is written. `verify` proves ownership from the conversation
 * itself (the thread store, or the hosted API) when the record does not know its owner yet: the
 * first trigger of a thread, or a record written before owners were kept.
 */
export interface Requester {
  user: string;
  verify: () => Promise<boolean>;
}

/** The record's owner as a hash: the same value the logs carry as `userHash` (@lead-intake/observability). */
export const ownerHash = userHash;

/** How a lease is asked for: by a trigger (with its requester and page), or by the sweeper (a due record, an armed idle evaluation). */
export interface AcquireOptions {
  /** A trigger (the default), the sweeper taking a due record, or the sweeper running an armed idle evaluation. */
  mode?: 'trigger' | 'sweeper' | 'idle';
  requester?: Requester;
  pageUrl?: string | null;
}

/** What a held run came to: processed (its value), failed (recorded for retry: `status`), or the ledger's own answer. */
export type HeldOutcome<T> =
  | { kind: 'processed'; value: T }
  | { kind: 'failed'; error: unknown; status?: 'error' | 'failed' }
  | Exclude<AcquireResult, { kind: 'acquired' }>;

export type ReleaseResult = { kind: 'released' } | { kind: 'pending'; reason: string } | { kind: 'lost' };

export interface SweepResult {
  due: number;
  /** Records whose armed idle evaluation had come (the server's schedule). */
  idle: number;
  /** Records the sweeper took over and processed. */
  processed: number;
  /** Records a trigger took first, or that stopped being due. */
  skipped: number;
  /** Processor failures (the lease was recorded as an error; retried on a later sweep). */
  failed: number;
  /** The most records that ran at once. */
  peak: number;
}

export class Ledger {
  readonly config: LedgerConfig;
  constructor(
    readonly store: LedgerStore,
    config: Partial<LedgerConfig> = {},
  ) {
    this.config = { ...LEDGER_DEFAULTS, ...config };
  }

  /** The ledger's clock (epoch seconds; tests set it). */
  now(): number {
    return nowSeconds(this.config.clock);
  }

  private ttl(now: number) {
    return now + this.config.ttlDays * 86400;
  }

  /** Cooldown before the attempt after `failures` failures: base x 2^(failures-1). */
  cooldownAfter(failures: number): number {
    return this.config.errorCooldownSeconds * 2 ** Math.max(0, failures - 1);
  }

  /**
   * One conditional write takes the lease when nobody holds a live one and the thread is not
   * sent or cooling down. A lost race reads the winner's record from the same answer. A strong
   * (non-auto) trigger that finds a live lease or a cooldown is recorded on the item, never dropped.
   */
  async acquire(threadId: string, reason: string, opts: AcquireOptions = {}): Promise<AcquireResult> {
    if (opts.requester) return this.acquireAsOwner(threadId, reason, opts.requester, opts.pageUrl);
    const got = await this.acquireUnchecked(threadId, reason, opts.mode ?? 'trigger', { pageUrl: opts.pageUrl });
    return got.kind === 'not_owner' ? { kind: 'not_owner' } : got;
  }

  /**
   * acquire for a named user. The common case is one conditional write that also requires the
   * recorded owner to be this user (a duplicate is still answered in one round trip). The record's
   * answer tells the rest apart: another owner is refused untouched; no record, or one without an
   * owner, is verified against the conversation first and only then written.
   */
  private async acquireAsOwner(threadId: string, reason: string, requester: Requester, pageUrl?: string | null): Promise<AcquireResult> {
    const hash = ownerHash(requester.user);
    for (let round = 0; round < 4; round++) {
      const got = await this.acquireUnchecked(threadId, reason, 'owner', { owner: hash, pageUrl });
      if (got.kind !== 'not_owner') return got;
      const cur = 'record' in got ? got.record : undefined; // what the refused write found (no extra read)
      if (cur?.owner_hash === hash) continue; // it changed meanwhile: go again
      if (cur?.owner_hash) return { kind: 'not_owner' };
      let owns: boolean;
      try {
        owns = await requester.verify();
      } catch (e) {
        // Fail closed, as for the ledger itself: the caller answers 503 and the trigger can come again.
        throw new LedgerUnavailableError(e);
      }
      if (!owns) return { kind: 'not_owner' };
      if (!cur) {
        const created = await this.acquireUnchecked(threadId, reason, 'new', { owner: hash, pageUrl });
        if (created.kind === 'acquired') return created;
        continue; // created by someone else meanwhile
      }
      // A record from before owners were kept: note its (verified) owner, then go again.
      await this.store.noteOwner(threadId, hash);
    }
    throw new Error('ledger: could not settle the owner after 4 rounds');
  }

  /**
   * The claim in `mode` (state.ts has each mode's rule): `trigger` (anyone's), `owner` (a record of
   * this owner only), `new` (no record yet), `sweeper` (a due record), `idle` (an armed evaluation).
   */
  private async acquireUnchecked(
    threadId: string,
    reason: string,
    mode: ClaimMode,
    opts: { owner?: string; pageUrl?: string | null },
  ): Promise<AcquireResult | { kind: 'not_owner'; record?: LedgerRecord }> {
    const strong = isStrong(reason);
    const sweeping = mode === 'sweeper' || mode === 'idle'; // the sweeper never waits for, nor notes on, someone else's record
    for (let round = 0; round < 4; round++) {
      const now = this.now();
      const leaseId = randomUUID();
      const expiresAt = now + this.config.leaseSeconds;
      const res = await this.store.claim(threadId, {
        mode,
        owner: opts.owner,
        leaseId,
        expiresAt,
        reason,
        now,
        ttl: this.ttl(now),
        pageUrl: opts.pageUrl,
      });
      if (res.ok) {
        const old = res.old;
        return {
          kind: 'acquired',
          lease: {
            threadId,
            leaseId,
            expiresAt,
            effectiveReason: strong ? reason : (old?.pending_reason ?? 'auto'),
            pendingSeqSeen: (old?.pending_seq ?? 0) + (strong ? 1 : 0),
            attempts: old?.attempts ?? 0,
            cached: old?.eval_state && old.summary ? { evalState: old.eval_state, summary: old.summary } : null,
            pageUrl: opts.pageUrl ?? old?.page_url ?? null,
            delivered: deliveriesOf(old),
            createdAt: old?.created_at ?? now,
            resendSeq: old?.resend_seq ?? 0,
            armed: mode === 'idle',
            finished: false,
          },
        };
      }
      const cur = res.current;
      if (mode === 'new') return { kind: 'not_owner' }; // it exists after all: the caller goes again
      // Owner-checked: no record, or another owner's (or none recorded), is the caller's to settle.
      if (mode === 'owner' && (!cur || cur.owner_hash !== opts.owner)) return { kind: 'not_owner', record: cur };
      if (!cur) {
        if (sweeping) return { kind: 'busy', reason: 'already_sent', record: { thread_id: threadId, status: 'sent' } };
        continue; // deleted meanwhile (operator resend): try again
      }
      if (cur.status === 'sent') return { kind: 'busy', reason: 'already_sent', record: cur };
      if (cur.status === 'failed') return { kind: 'busy', reason: 'failed', record: cur };
      const live = cur.status === 'sending' && (cur.lock_expires_at ?? 0) > now;
      const cooling = cur.status === 'error' && (cur.cooldown_until ?? 0) > now;
      if (sweeping) return { kind: 'busy', reason: live ? 'in_progress' : 'cooldown', record: cur };
      if (!live && !cooling) continue; // it changed between our write and its read: go again
      if (!strong) return { kind: 'busy', reason: live ? 'in_progress' : 'cooldown', record: cur };
      const recorded = await this.recordPending(threadId, reason, live ? 'sending' : 'error', now);
      if (recorded) return { kind: 'busy', reason: live ? 'in_progress' : 'cooldown', record: cur };
      // The holder let go (or the cooldown ended) between the two writes: take the lease ourselves.
    }
    throw new Error('ledger: could not settle the lease after 4 rounds');
  }

  /** Notes a strong trigger on a record held by someone else (or cooling down), so it is served later. */
  private recordPending(threadId: string, reason: string, status: 'sending' | 'error', now: number): Promise<boolean> {
    return this.store.notePending(threadId, status, reason, now);
  }

  /**
   * Every delivery went out: `sent`, fenced on the caller's lease, recording `delivered` (the ones
   * this holder made and has not recorded yet) in the same write. False means the lease was lost.
   */
  async markSent(lease: Lease, messageId: string, delivered: Record<string, string> = {}): Promise<boolean> {
    const now = this.now();
    const ok = await this.store.finishSent(lease, messageId, now, this.ttl(now), this.stamp(delivered, now), lease.carried);
    lease.finished = true;
    return ok;
  }

  /**
   * One delivery went out while others are still under way: recorded at once, fenced on the lease,
   * so that a crash before the others finish never sends this one again. False: the lease was lost.
   */
  async markDelivered(lease: Lease, key: string, id: string): Promise<boolean> {
    const now = this.now();
    const d = this.stamp({ [key]: id }, now)[key]!;
    const ok = await this.store.markDelivered(lease, key, d, now);
    if (ok) (lease.delivered as Record<string, Delivered>)[key] = d;
    return ok;
  }

  private stamp(ids: Record<string, string>, now: number): Record<string, Delivered> {
    for (const k of Object.keys(ids)) if (!DELIVERY_KEY.test(k)) throw new Error(`ledger: '${k}' is not a delivery key`);
    return Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, { id, at: now }]));
  }

  /**
   * Operations: forgets the named deliveries of a settled (sent, error, failed) record and makes it
   * due now: the sweeper sends exactly those again. Never touches a held lease.
   */
  async reopen(threadId: string, keys: string[]) {
    for (const k of keys) if (!DELIVERY_KEY.test(k)) throw new Error(`ledger: '${k}' is not a delivery key`);
    const now = this.now();
    return this.store.reopen(threadId, keys, now, this.ttl(now));
  }

  /**
   * The attempt failed: `error` with a growing cooldown (due for the sweeper then), or `failed`
   * after the last attempt. Fenced on the caller's lease. Keeps the unserved strong trigger.
   */
  async markError(
    lease: Lease,
    code: string,
    cache?: EvalCache,
  ): Promise<{ ok: boolean; status: 'error' | 'failed'; cooldownUntil?: number }> {
    const now = this.now();
    const failures = lease.attempts + 1;
    const failed = failures >= this.config.maxAttempts;
    const cooldownUntil = now + this.cooldownAfter(failures);
    // A failed send was decided by this holder: keep its reason so a retry sends too.
    const keepReason = isStrong(lease.effectiveReason) ? lease.effectiveReason : undefined;
    const ok = await this.store.finishError(lease, {
      failed,
      code,
      cooldownUntil,
      cache,
      keepReason,
      now,
      ttl: this.ttl(now),
    });
    lease.finished = true;
    return { ok, status: failed ? 'failed' : 'error', cooldownUntil: failed ? undefined : cooldownUntil };
  }

  /**
   * Lets go after deciding not to send (not ready, no contact), remembering the evaluated state.
   * Refused while a strong trigger arrived that this holder has not accounted for: the caller must
   * re-evaluate with it first (`pending`). `lost`: the lease expired and someone else holds it.
   */
  async release(lease: Lease, cache: EvalCache, opts: { leadKind?: string } = {}): Promise<ReleaseResult> {
    const now = this.now();
    const res = await this.store.releaseIdle(
      lease,
      lease.pendingSeqSeen,
      isStrong(lease.effectiveReason),
      cache,
      now,
      this.ttl(now),
      opts.leadKind,
    );
    if (res.ok) {
      lease.finished = true;
      return { kind: 'released' };
    }
    const cur = res.current;
    if (!cur || cur.lease_id !== lease.leaseId) {
      lease.finished = true;
      return { kind: 'lost' };
    }
    lease.effectiveReason = cur.pending_reason ?? lease.effectiveReason;
    lease.pendingSeqSeen = cur.pending_seq ?? lease.pendingSeqSeen;
    return { kind: 'pending', reason: lease.effectiveReason };
  }

  /**
   * The one way a lead runs under the ledger (the endpoint, the sweeper's due and idle records, a
   * spooled trigger, the scheduler): acquire (an owner checked before anything is written), run
   * `process` on the lease, and record a failed attempt as an error for the sweeper's retry.
   * Throws LedgerUnavailableError when the ledger cannot take the trigger.
   */
  async runHeld<T>(threadId: string, reason: string, opts: AcquireOptions, process: (lease: Lease) => Promise<T>): Promise<HeldOutcome<T>> {
    const got = await this.acquire(threadId, reason, opts);
    if (got.kind !== 'acquired') return got;
    try {
      return { kind: 'processed', value: await process(got.lease) };
    } catch (error) {
      let status: 'error' | 'failed' | undefined;
      const origin = opts.mode === 'sweeper' || opts.mode === 'idle' ? 'sweep' : 'crash';
      if (!got.lease.finished)
        status = (await this.markError(got.lease, `${origin}:${(error as Error)?.name ?? 'Error'}`).catch(() => undefined))?.status;
      return { kind: 'failed', error, status };
    }
  }

  /**
   * The server saw activity in a conversation (self-hosted): arms its idle evaluation at `idleAt`,
   * re-arming a later one. `owner` is the thread's own user (read from the thread, not from a
   * request). `armed: false`: the record is settled (sent, failed), has seen newer activity, or
   * belongs to someone else; nothing was written. `mayHaveContact` (the activity's, when known) is
   * kept on the record; the answer's says whether any customer line so far could hold a contact:
   * false only when the record has seen none that could (unknown, or not armed: true).
   */
  async scheduleIdle(
    threadId: string,
    s: { owner: string; activityAt: number; idleAt: number; mayHaveContact?: boolean },
  ): Promise<{ armed: boolean; mayHaveContact: boolean }> {
    const now = this.now();
    const owner = ownerHash(s.owner);
    const res = await this.store.schedule(threadId, {
      owner,
      activityAt: s.activityAt,
      idleAt: s.idleAt,
      mayHaveContact: s.mayHaveContact,
      now,
      ttl: this.ttl(now),
    });
    if (!res.ok) {
      // Refused (activity no newer than the record's, in whole seconds): a line that could hold a
      // contact is still marked, or a later turn's `auto` would be spared. Not again once marked.
      if (s.mayHaveContact && mayNoteContact(res.current, owner)) await this.store.noteContact(threadId, owner);
      return { armed: false, mayHaveContact: true };
    }
    // A record started now knows only this activity; an older one, its mark (none: not known).
    const before = res.old === undefined ? false : res.old.may_have_contact !== false;
    return { armed: true, mayHaveContact: s.mayHaveContact !== false || before };
  }

  /**
   * One sweep (./sweep.ts): the records due now, then the armed idle evaluations as their time
   * comes, each through `runHeld` as the sweeper, in a bounded pool.
   */
  sweep(process: (lease: Lease) => Promise<unknown>, opts: SweepOptions = {}): Promise<SweepResult> {
    return sweepLedger(this, process, opts);
  }
}
