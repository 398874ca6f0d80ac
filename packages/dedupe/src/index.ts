export { Ledger, LEDGER_DEFAULTS, ownerHash, type Requester, type LedgerConfig, type Lease, type AcquireResult, type ReleaseResult, type EvalCache, type SweepResult } from './ledger';
export { LedgerStore, LedgerUnavailableError, type WriteResult, type StoreOptions } from './store';
export { sendOnce, type LedgerContext, type SendOnceOptions } from './middleware';
export { isStrong, nowSeconds, DUE_INDEX, DUE_SHARD, type LedgerRecord, type LedgerStatus } from './record';
export { ledgerConfigFromEnv } from './config';
export { TriggerSpool, SpoolUnavailableError, parseSpooled, type SpooledTrigger, type SpoolOutcome, type DrainResult } from './spool';
