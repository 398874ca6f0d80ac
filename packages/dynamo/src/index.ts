export { documentClient, dynamoClient } from './client';
export { batchGetAll, batchWriteAll, BatchIncompleteError, type BatchOptions, type BatchGetOptions, type WriteRequest } from './batch';
