import { UpstreamError } from '@lead-intake/errors';
import type { Delivered, LedgerRecord } from './record';
import type { Claim, ErrorOutcome, EvalCache, LeaseRef, Schedule } from './state';

/**
 * Where the ledger keeps its records: one method per transition of the state machine
 * (./state.ts), each applying that transition's mutation atomically when its rule holds. A write
 * whose rule does not hold changes nothing and answers the record as it is (`ok: false`), so a
 * lost race never needs a second read. Implementations: DynamoLedgerStore (production, one
 * conditional write per transition) and MemoryLedgerStore (tests of the rules, in milliseconds);
 * the same contract tests run on both.
 */
export interface LedgerStore {
  /** Store requests sent, for tests and diagnostics (a duplicate must cost one). */
  readonly roundTrips: number;
  get(threadId: string): Promise<LedgerRecord | undefined>;
  /** Takes the lease (rule: `mayClaim` for the claim's mode). */
  claim(threadId: string, c: Claim): Promise<WriteResult>;
  /** Records a strong trigger on a record someone else holds or that cools down (rule: `mayNotePending`). */
  notePending(threadId: string, holder: 'sending' | 'error', reason: string, now: number): Promise<boolean>;
  /** Marks that a customer line could hold a contact (rule: `mayNoteContact`). */
  noteContact(threadId: string, owner: string): Promise<boolean>;
  /** Notes the verified owner of a record from before owners were kept (rule: `mayNoteOwner`). */
  noteOwner(threadId: string, owner: string): Promise<boolean>;
  /** `sent`, recording the deliveries not yet recorded (rule: `holds`). */
  finishSent(
    lease: LeaseRef,
    messageId: string,
    now: number,
    ttl: number,
    delivered?: Record<string, Delivered>,
    requests?: string[],
  ): Promise<boolean>;
  /** One delivery went out (rule: `holds`). */
  markDelivered(lease: LeaseRef, key: string, d: Delivered, now: number): Promise<boolean>;
  /** Operations: forgets these deliveries of a settled record and makes it due (rule: `mayClearForResend`). */
  reopen(threadId: string, keys: string[], now: number, ttl: number): Promise<WriteResult>;
  /** `error` or `failed` (rule: `holds`). */
  finishError(lease: LeaseRef, e: ErrorOutcome): Promise<boolean>;
  /** `idle`, remembering the evaluated state (rule: `mayRelease`). */
  releaseIdle(
    lease: LeaseRef,
    pendingSeqSeen: number,
    served: boolean,
    cache: EvalCache,
    now: number,
    ttl: number,
    leadKind?: string,
  ): Promise<WriteResult>;
  /** Arms (or re-arms) the idle evaluation after activity in the conversation (rule: `maySchedule`). */
  schedule(threadId: string, s: Schedule): Promise<WriteResult>;
  /** Records due for the sweeper, oldest first (a sparse index: no scan). */
  due(now: number, limit: number): Promise<Array<Pick<LedgerRecord, 'thread_id' | 'due_at'>>>;
  /** Records whose armed idle evaluation is due, oldest first (the idle index: no scan). */
  idleDue(now: number, limit: number): Promise<Array<Pick<LedgerRecord, 'thread_id' | 'idle_at'>>>;
  /** Operations: drops the kept summary (customer details), keeping the status. False: no record. */
  forgetSummary(threadId: string): Promise<boolean>;
}

export type WriteResult = { ok: true; old: LedgerRecord | undefined } | { ok: false; current: LedgerRecord | undefined };

/** The store could not be reached (or failed): the ledger fails closed. */
export class LedgerUnavailableError extends UpstreamError {
  constructor(cause: unknown) {
    super('dynamodb', `ledger unavailable: ${(cause as Error)?.name ?? 'Error'}`, { cause });
  }
}
