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
  created_at?: number;
  updated_at?: number;
  ttl?: number;
}

export const nowSeconds = (clock: () => number = Date.now) => Math.floor(clock() / 1000);

/** All non-auto triggers are equally strong: each sends once a contact exists. */
export const isStrong = (reason: string | undefined | null): boolean => !!reason && reason !== 'auto';

/** The one value in the sparse index's partition key (the record is due; see due_at). */
export const DUE_SHARD = 'due';
export const DUE_INDEX = 'due-index';
