export { DEFAULT_LIMITS, limitsFromEnv, checkNewAttachment, isImage, type AttachmentLimits, type NewAttachment } from './limits';
export { S3FileStore, objectKey, UPLOAD_URL_SECONDS, READ_URL_SECONDS, type FileStore } from './files';
export { signedLink, checkLink, type FileLink, type LinkCheck } from './links';
export { matchesType, typeLabel, CHECKED_TYPES, SIGNATURE_BYTES } from './signature';
