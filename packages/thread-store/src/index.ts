export { ThreadStore, BY_USER_INDEX, type ThreadStoreOptions } from './store';
export { timeSortableId, ITEM_PREFIX } from './ids';
export { NotFoundError, HIDDEN_TYPES, type ThreadMetadata, type ThreadItem, type Page, type Order, type ThreadStatus } from './types';
export { StoreTranscriptSource } from './transcript-source';
export { convertHostedThread, convertHostedItem, importedItemId } from './import-hosted';
