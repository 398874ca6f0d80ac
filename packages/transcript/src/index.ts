export {
  normalizeItems,
  assembleTranscript,
  toSeconds,
  type SourceItem,
  type Transcript,
  type TranscriptLine,
  type TranscriptAttachment,
} from './normalize';
export { HostedChatKitSource, FallbackTranscriptSource, ThreadNotFoundError, type TranscriptSource } from './source';
export { formatForModel } from './format';
export {
  isCallbackRequest,
  isVisitRequest,
  requestLine,
  type CallbackRequest,
  type VisitRequest,
  type CustomerRequest,
  type RecordedRequest,
} from './requests';
