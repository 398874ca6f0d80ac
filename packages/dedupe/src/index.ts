export {
  Ledger,
  LEDGER_DEFAULTS,
  ownerHash,
  type Requester,
  type LedgerConfig,
  type Lease,
  type AcquireResult,
  type ReleaseResult,
  type SweepResult,
} from './ledger';
export { LedgerUnavailableError, type LedgerStore, type WriteResult } from './store';
export { DynamoLedgerStore, type StoreOptions } from './dynamo-store';
export { MemoryLedgerStore } from './memory-store';
export { mayClaim, mayClearForResend, RESENDABLE, type Claim, type ClaimMode, type EvalCache, type LeaseRef } from './state';
export { sendOnce, type LedgerContext, type SendOnceOptions } from './middleware';
export { isStrong, nowSeconds, DUE_INDEX, DUE_SHARD, type LedgerRecord, type LedgerStatus } from './record';
export { ledgerConfigFromEnv } from './config';
export { TriggerSpool, SpoolUnavailableError, parseSpooled, type SpooledTrigger, type SpoolOutcome, type DrainResult } from './spool';
