export {
  Ledger,
  LEDGER_DEFAULTS,
  ownerHash,
  type Requester,
  type LedgerConfig,
  type Lease,
  type AcquireResult,
  type AcquireOptions,
  type HeldOutcome,
  type ReleaseResult,
  type SweepResult,
} from './ledger';
export { LedgerUnavailableError, type LedgerStore, type WriteResult } from './store';
export { DynamoLedgerStore, type StoreOptions } from './dynamo-store';
export { MemoryLedgerStore } from './memory-store';
export {
  mayClaim,
  mayClearForResend,
  maySchedule,
  RESENDABLE,
  type Claim,
  type ClaimMode,
  type EvalCache,
  type LeaseRef,
  type Schedule,
} from './state';
export { sendOnce, type SendOnceOptions } from './middleware';
export type { SweepOptions } from './sweep';
export {
  deliveriesOf,
  DELIVERY_KEY,
  isStrong,
  nowSeconds,
  type Delivered,
  DUE_INDEX,
  DUE_SHARD,
  IDLE_INDEX,
  IDLE_SHARD,
  type LedgerRecord,
  type LedgerStatus,
  parseRequestKey,
  requestKey,
} from './record';
export { ledgerConfigFromEnv } from './config';
export { ContactIndex, type FollowUp, type ContactIndexOptions } from './contacts';
export { TriggerSpool, SpoolUnavailableError, parseSpooled, type SpooledTrigger, type SpoolOutcome, type DrainResult } from './spool';
