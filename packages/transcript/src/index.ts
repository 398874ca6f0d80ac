export {
  normalizeItems,
  assembleTranscript,
  toSeconds,
  type SourceItem,
  type Transcript,
  type TranscriptLine,
  type TranscriptAttachment,
} from './normalize';
export { extractContacts, countryOf, type Contacts, type ContactOptions } from './contacts';
export { HostedChatKitSource, FallbackTranscriptSource, ThreadNotFoundError, type TranscriptSource } from './source';
export { formatForModel } from './format';
export { isSendableAddress, withoutInvisible } from './address';
