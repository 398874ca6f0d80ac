export { DynamoThreadStore, type DynamoThreadStoreOptions } from './dynamo';
export { MemoryThreadStore } from './memory';
export { toPage, type ChatStore, type ItemPageOptions, type ThreadPageOptions, type LoadedThread, type StoredAttachment } from './contract';
export { timeSortableId, derivedItemId, ITEM_PREFIX } from './ids';
export { BY_USER_INDEX, isItemId, itemSk } from './keys';
export { migrateThreadKeys, type MigrationReport } from './migrate';
export { StoreTranscriptSource } from './transcript-source';
