export * from './types';
export * from './errors';
export { outputText, userMessageItem, assistantMessageItem, type UserMessageFields } from './items';
export {
  parseRequest,
  isStreaming,
  STREAMING_TYPES,
  JSON_TYPES,
  ID,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  MAX_MESSAGE_TEXT,
  MAX_TITLE,
  MAX_FEEDBACK_ITEMS,
  MAX_ATTACHMENTS_PER_MESSAGE,
  type ChatKitRequest,
  type RequestType,
  type StreamingRequest,
  type JsonRequest,
  type UserMessageInput,
  type PageParams,
  type CustomActionParams,
  type StructuredInputSubmission,
  MAX_ACTION_BYTES,
} from './requests';
export { convertHostedThread, convertHostedItem, importedItemId } from './hosted';
export * from './widgets';
