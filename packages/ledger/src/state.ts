import { DUE_SHARD, IDLE_SHARD, isStrong, MAX_CARRIED, type Delivered, type LedgerRecord, type LedgerStatus } from './record';

/**
 * The ledger's state machine (docs/idempotency.md): which record each transition may change, and
 * what it writes. Pure data and predicates, no storage: the stores (DynamoDB, in memory) apply a
 * transition's mutation atomically when its rule holds, and the contract tests check that both
 * enforce the same rules.
 *
 *   (none) --claim--> sending --finishSent--> sent
 *                     sending --finishError--> error --(cooldown over) claim--> sending
 *                                              error --(last attempt)--> failed
 *                     sending --releaseIdle--> idle --claim--> sending
 *   sending (lease expired) --claim--> sending (a takeover)
 *   sending --markDelivered--> sending (one delivery recorded; a retry skips it)
 *   sent / error / failed --reopen (operator)--> error, due now, the named deliveries forgotten
 *   sending (live) / error (cooling) --notePending--> same status, a strong trigger recorded
 *   (none) / any unsettled --schedule--> same status (a new record: idle), an idle evaluation armed
 *   idle / expired lease / error past cooldown, idle time come --claim (idle)--> sending, for `idle`
 */

/** Which records a claim may take. */
export type ClaimMode =
  /** Anyone, when the owner is not checked: no record, an idle one, an expired lease, an error past its cooldown. */
  | 'trigger'
  /** The recorded owner only, in those same states of an existing record. */
  | 'owner'
  /** Only when there is no record yet (its owner was verified from the conversation first). */
  | 'new'
  /** The sweeper: an expired lease or an error past its cooldown; never a new, idle or live record. */
  | 'sweeper'
  /** The sweeper's idle pass: a record whose armed idle time has come, idle or takeable (never a live lease). */
  | 'idle';

export interface Claim {
  mode: ClaimMode;
  /** ownerHash of the requester: required by `owner`, recorded by `new`. */
  owner?: string;
  leaseId: string;
  expiresAt: number;
  reason: string;
  now: number;
  ttl: number;
  /** The page the trigger named: kept on the record for a later holder. */
  pageUrl?: string | null;
}

/** A holder's lease as the stores fence on it. */
export interface LeaseRef {
  threadId: string;
  leaseId: string;
}

export interface EvalCache {
  evalState: string;
  /** JSON of a successful summary for that state; omitted when the summary failed. */
  summary?: string;
}

export const liveLease = (r: LedgerRecord, now: number) => r.status === 'sending' && (r.lock_expires_at ?? 0) > now;
export const coolingDown = (r: LedgerRecord, now: number) => r.status === 'error' && (r.cooldown_until ?? 0) > now;
const takeable = (r: LedgerRecord, now: number) =>
  (r.status === 'sending' && !liveLease(r, now)) || (r.status === 'error' && !coolingDown(r, now));

/** The rule of `claim`. */
export function mayClaim(r: LedgerRecord | undefined, c: Pick<Claim, 'mode' | 'owner' | 'now'>): boolean {
  switch (c.mode) {
    case 'new':
      return !r;
    case 'sweeper':
      return !!r && takeable(r, c.now);
    case 'idle':
      return !!r && r.idle_at !== undefined && r.idle_at <= c.now && (r.status === 'idle' || takeable(r, c.now));
    case 'owner':
      return !!r && r.owner_hash === c.owner && (r.status === 'idle' || takeable(r, c.now));
    case 'trigger':
      return !r || r.status === 'idle' || takeable(r, c.now);
  }
}

/** The rule of `notePending`: the holder is still live (or the record still cooling down). */
export const mayNotePending = (r: LedgerRecord | undefined, holder: 'sending' | 'error', now: number) =>
  !!r && (holder === 'sending' ? liveLease(r, now) : coolingDown(r, now));

/** What the server's schedule writes after activity in a conversation (self-hosted). */
export interface Schedule {
  /** ownerHash of the thread's owner (read from the thread itself). */
  owner: string;
  /** The activity (epoch seconds) this schedule is for, and the idle evaluation it arms. */
  activityAt: number;
  idleAt: number;
  /**
   * Whether the activity's customer lines could hold a contact (self-hosted: the scheduler's cheap
   * check): true marks the record for good; false marks a record that has none yet; left out, the
   * mark is not touched.
   */
  mayHaveContact?: boolean;
  now: number;
  ttl: number;
}

/** Settled records: nothing more is sent for them, so nothing is armed on them. */
const SETTLED: readonly LedgerStatus[] = ['sent', 'failed'];

/**
 * The rule of `schedule`: not settled, the same owner, and newer activity than the record has
 * seen (stream records can be delivered twice or late: an older one arms nothing).
 */
export const maySchedule = (r: LedgerRecord | undefined, s: Pick<Schedule, 'owner' | 'activityAt'>) =>
  !r ||
  (!SETTLED.includes(r.status) &&
    (r.owner_hash === undefined || r.owner_hash === s.owner) &&
    (r.activity_at === undefined || r.activity_at < s.activityAt));

/**
 * The rule of `noteContact`: an unsettled record of this owner not marked yet (a schedule refused for
 * activity no newer than the record's still marks that a customer line could hold a contact).
 */
export const mayNoteContact = (r: LedgerRecord | undefined, owner: string) =>
  !!r && !SETTLED.includes(r.status) && r.owner_hash === owner && r.may_have_contact !== true;

/** The rule of `noteOwner`: a record from before owners were kept. */
export const mayNoteOwner = (r: LedgerRecord | undefined) => !!r && r.owner_hash === undefined;

/** The rule of `finishSent` and `finishError`: fenced on the holder's lease. */
export const holds = (r: LedgerRecord | undefined, lease: LeaseRef) => !!r && r.lease_id === lease.leaseId;

/** The rule of `releaseIdle`: fenced, and no strong trigger arrived that the holder has not seen. */
export const mayRelease = (r: LedgerRecord | undefined, lease: LeaseRef, pendingSeqSeen: number) =>
  holds(r, lease) && (r!.pending_seq === undefined || r!.pending_seq === pendingSeqSeen);

/** The resend rule (`npm run lead -- resend`): only a settled record is cleared, never a held lease. */
export const RESENDABLE: readonly LedgerStatus[] = ['sent', 'error', 'failed'];
export const mayClearForResend = (r: LedgerRecord | undefined) => !!r && RESENDABLE.includes(r.status);

/** What a transition writes, as DynamoDB's SET, SET if_not_exists, ADD and REMOVE. */
export interface Mutation {
  set: Record<string, unknown>;
  setIfMissing?: Record<string, unknown>;
  add?: Record<string, number>;
  remove?: string[];
}

export function claimMutation(c: Claim): Mutation {
  const strong = isStrong(c.reason);
  return {
    set: {
      status: 'sending',
      lease_id: c.leaseId,
      lock_expires_at: c.expiresAt,
      trigger_reason: c.reason,
      updated_at: c.now,
      ttl: c.ttl,
      // Due when the lease expires: if this holder dies, the sweeper finishes its work.
      due_shard: DUE_SHARD,
      due_at: c.expiresAt,
      ...(strong ? { pending_reason: c.reason } : {}),
      ...(c.pageUrl ? { page_url: c.pageUrl } : {}),
    },
    setIfMissing: { created_at: c.now, attempts: 0, ...(c.mode === 'new' && c.owner ? { owner_hash: c.owner } : {}) },
    add: strong ? { pending_seq: 1 } : undefined,
    // The idle evaluation taken is served through pending_reason from here on (a retry keeps it).
    remove: c.mode === 'idle' ? ['idle_shard', 'idle_at'] : undefined,
  };
}

export const scheduleMutation = (s: Schedule): Mutation => ({
  set: {
    idle_shard: IDLE_SHARD,
    idle_at: s.idleAt,
    activity_at: s.activityAt,
    updated_at: s.now,
    ttl: s.ttl,
    ...(s.mayHaveContact === true ? { may_have_contact: true } : {}),
  },
  setIfMissing: {
    status: 'idle',
    created_at: s.now,
    attempts: 0,
    owner_hash: s.owner,
    ...(s.mayHaveContact === false ? { may_have_contact: false } : {}),
  },
});

export const pendingMutation = (reason: string, now: number): Mutation => ({
  set: { pending_reason: reason, updated_at: now },
  add: { pending_seq: 1 },
});

export const ownerMutation = (owner: string): Mutation => ({ set: { owner_hash: owner } });

export const contactMutation: Mutation = { set: { may_have_contact: true } };

const deliveredSet = (d: Record<string, Delivered> | undefined) =>
  Object.fromEntries(Object.entries(d ?? {}).map(([k, v]) => [`delivered_${k}`, v]));

/** One delivery went out (rule: `holds`); the record stays `sending` until every delivery is done. */
export const deliveredMutation = (key: string, d: Delivered, now: number): Mutation => ({
  set: { [`delivered_${key}`]: d, updated_at: now },
});

/** Every delivery is done: `sent`, with the last ones recorded in the same write. */
export const sentMutation = (
  messageId: string,
  now: number,
  ttl: number,
  delivered?: Record<string, Delivered>,
  requests?: string[],
): Mutation => ({
  set: {
    status: 'sent',
    sent_at: now,
    message_id: messageId,
    updated_at: now,
    ttl,
    ...deliveredSet(delivered),
    ...(requests?.length ? { requests: requests.slice(-MAX_CARRIED) } : {}),
  },
  remove: [
    'lease_id',
    'lock_expires_at',
    'pending_reason',
    'pending_seq',
    'due_shard',
    'due_at',
    'cooldown_until',
    'summary',
    'eval_state',
    'idle_shard',
    'idle_at',
    'lead_kind',
  ],
});

export interface ErrorOutcome {
  /** The last attempt: `failed`, out of the sweeper's index. */
  failed: boolean;
  code: string;
  cooldownUntil: number;
  cache?: EvalCache;
  /** A strong reason this holder decided to send for: kept so a retry sends too. */
  keepReason?: string;
  now: number;
  ttl: number;
}

export const errorMutation = (e: ErrorOutcome): Mutation => ({
  set: {
    status: e.failed ? 'failed' : 'error',
    last_error: e.code.slice(0, 80),
    updated_at: e.now,
    ttl: e.ttl,
    ...(e.failed ? {} : { cooldown_until: e.cooldownUntil, due_shard: DUE_SHARD, due_at: e.cooldownUntil }),
    ...(e.cache ? { eval_state: e.cache.evalState, summary: e.cache.summary } : {}),
    ...(e.keepReason ? { pending_reason: e.keepReason } : {}),
  },
  add: { attempts: 1 },
  remove: [
    'lease_id',
    'lock_expires_at',
    ...(e.failed ? ['due_shard', 'due_at', 'cooldown_until', 'idle_shard', 'idle_at'] : []),
    ...(e.cache && e.cache.summary === undefined ? ['summary'] : []),
  ],
});

export const releaseMutation = (cache: EvalCache, served: boolean, now: number, ttl: number, leadKind?: string): Mutation => ({
  set: { status: 'idle', updated_at: now, ttl, eval_state: cache.evalState, summary: cache.summary, lead_kind: leadKind },
  remove: [
    'lease_id',
    'lock_expires_at',
    'due_shard',
    'due_at',
    'cooldown_until',
    ...(served ? ['pending_reason'] : []),
    ...(cache.summary === undefined ? ['summary'] : []),
    ...(leadKind === undefined ? ['lead_kind'] : []),
  ],
});

/**
 * Operations (`npm run lead -- resend --channel`): forgets the named deliveries of a settled record
 * and makes it due now, so the sweeper sends those again and nothing else (rule: `mayClearForResend`).
 */
export const reopenMutation = (keys: string[], now: number, ttl: number): Mutation => ({
  set: {
    status: 'error',
    cooldown_until: now,
    due_shard: DUE_SHARD,
    due_at: now,
    pending_reason: 'manual',
    attempts: 0,
    last_error: 'resend:operator',
    updated_at: now,
    ttl,
  },
  add: { resend_seq: 1 },
  remove: keys.map((k) => `delivered_${k}`),
});

export const forgetMutation: Mutation = { set: {}, remove: ['summary', 'eval_state'] };

/** A mutation applied to a record, as DynamoDB applies it (the in-memory store's write). */
export function applyMutation(threadId: string, r: LedgerRecord | undefined, m: Mutation): LedgerRecord {
  const out: Record<string, unknown> = { ...(r ?? {}), thread_id: threadId };
  for (const [k, v] of Object.entries(m.set)) if (v !== undefined) out[k] = v;
  for (const [k, v] of Object.entries(m.setIfMissing ?? {})) if (out[k] === undefined) out[k] = v;
  for (const [k, v] of Object.entries(m.add ?? {})) out[k] = ((out[k] as number | undefined) ?? 0) + v;
  for (const k of m.remove ?? []) delete out[k];
  return out as unknown as LedgerRecord;
}
