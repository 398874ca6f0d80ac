/**
 * The ledger record of one thread. Every time field is Unix epoch SECONDS (integers), the unit
 * DynamoDB TTL requires, so no field mixes units.
 */
export type LedgerStatus = 'sending' | 'sent' | 'error' | 'idle' | 'failed';

export interface LedgerRecord {
  thread_id: string;
  /**
   * sending: a holder has the lease (or had it: see lock_expires_at); sent: the email went out;
   * error: the last attempt failed, retry after cooldown_until; idle: evaluated and let go
   * (not ready or no contact), free for the next trigger; failed: gave up after the maximum attempts.
   */
  status: LedgerStatus;
  lease_id?: string;
  lock_expires_at?: number;
  /** What the current or last holder was triggered by. */
  trigger_reason?: string;
  /** The latest non-auto trigger not yet served (kept until an email covers it). */
  pending_reason?: string;
  /** Counts non-auto triggers recorded; a holder may let go only if it saw the latest. */
  pending_seq?: number;
  sent_at?: number;
  message_id?: string;
  /** Failed attempts so far. */
  attempts?: number;
  /** Short error code, never PII (e.g. ses:MessageRejected, transcript:InternalServerError). */
  last_error?: string;
  cooldown_until?: number;
  /** `<itemCount>:<lastItemId>` of the last evaluated transcript, and its summary (JSON). */
  eval_state?: string;
  summary?: string;
  /** Sparse index: present only while the record needs the sweeper's attention. */
  due_shard?: string;
  due_at?: number;
  /** A hash of the thread owner's user id (never the id): requests from anyone else are refused untouched. */
  owner_hash?: string;
  /**
   * The server's schedule (self-hosted conversations): an `idle` evaluation is due at idle_at, the
   * last activity plus the idle window (sparse index: present only while armed).
   */
  idle_shard?: string;
  idle_at?: number;
  /** The latest activity the schedule has seen: an older one (a stream record delivered again) changes nothing. */
  activity_at?: number;
  /**
   * Whether a customer line the schedule has seen could hold a contact (`mayHoldContact`): false
   * while none could, so an `auto` evaluation (which could only find no contact) is spared; true
   * for good once one could. Absent (a record the schedule did not start): not known.
   */
  may_have_contact?: boolean;
  /** The page the last trigger named, so a lead sent later (by the sweeper) links it too. */
  page_url?: string;
  /**
   * Each delivery of the alert, recorded on its own as it went out (`delivered_email`,
   * `delivered_sms_<hash>`, `delivered_webhook`): a retry sends only what is missing. Read with
   * `deliveriesOf`.
   */
  [delivered: `delivered_${string}`]: Delivered | undefined;
  /**
   * The customer's requests (callback, drop-off time: the ids of the hidden items that recorded
   * them) the sent lead carried: a later request is owed an update to the owner (`requestKey`).
   */
  requests?: string[];
  /** Operator resends of one channel so far: part of the webhook id, so a receiver takes the resend. */
  resend_seq?: number;
  /** Triage of the last evaluation when it was not a customer (spam, test, vendor, job_seeker): no alert went out. */
  lead_kind?: string;
  created_at?: number;
  updated_at?: number;
  ttl?: number;
}

/** One delivery: the channel's message id and when (epoch seconds). */
export interface Delivered {
  id: string;
  at: number;
}

/** A delivery key: `email`, `webhook`, `sms_<hash of the recipient>` (lower-case letters, digits, `_`). */
export const DELIVERY_KEY = /^[a-z][a-z0-9_]{0,39}$/;

/** The deliveries a record holds, by key. */
export function deliveriesOf(r: LedgerRecord | undefined): Record<string, Delivered> {
  const out: Record<string, Delivered> = {};
  for (const [k, v] of Object.entries(r ?? {})) if (k.startsWith('delivered_') && v) out[k.slice('delivered_'.length)] = v as Delivered;
  return out;
}

export const nowSeconds = (clock: () => number = Date.now) => Math.floor(clock() / 1000);

/** All non-auto triggers are equally strong: each sends once a contact exists. */
export const isStrong = (reason: string | undefined | null): boolean => !!reason && reason !== 'auto';

/** The one value in the sparse index's partition key (the record is due; see due_at). */
export const DUE_SHARD = 'due';
export const DUE_INDEX = 'due-index';
/** The one value in the idle index's partition key (an idle evaluation is armed; see idle_at). */
export const IDLE_SHARD = 'idle';
export const IDLE_INDEX = 'idle-index';

/** At most this many carried requests are kept on a sent record (the latest; a conversation has a few). */
export const MAX_CARRIED = 20;

/**
 * The ledger key of the owner's update for one request made after the thread's lead went out:
 * a record of its own, so each request is sent once (its own lease, deliveries and retries) and
 * never re-opens the lead. A thread id never holds `/` (cthr_ + [A-Za-z0-9_-]), so it cannot clash.
 */
export const requestKey = (threadId: string, requestId: string) => `${threadId}/request/${requestId}`;

/** The thread and request of an update's key; null for a lead's own record. */
export function parseRequestKey(key: string): { threadId: string; requestId: string } | null {
  const m = /^([^/]+)\/request\/([^/]+)$/.exec(key);
  return m ? { threadId: m[1]!, requestId: m[2]! } : null;
}
