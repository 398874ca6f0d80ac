import { InvalidRequestError } from '@lead-intake/chatkit-protocol';
import { UNSAFE_TEXT } from '@lead-intake/http/fields';
import { ConfigError } from '@lead-intake/errors';
import { CHECKED_TYPES } from './signature';

/**
 * What a customer may upload (stages.config.json `attachments`, given to the functions as
 * CHAT_ATTACHMENT_* variables). Enforced before any upload URL is issued, and again by the
 * signature: the declared size and content type are signed into the upload URL.
 */
export interface AttachmentLimits {
  maxBytes: number;
  maxPerMessage: number;
  types: readonly string[];
}

export const DEFAULT_LIMITS: AttachmentLimits = {
  maxBytes: 10 * 1024 * 1024,
  maxPerMessage: 4,
  types: ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'application/pdf'],
};

const MIME = /^[a-z]+\/[a-z0-9.+-]+$/;

export function limitsFromEnv(env: Record<string, string | undefined>): AttachmentLimits {
  const int = (name: string, fallback: number, max: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new ConfigError(name, `${name} must be an integer from 1 to ${max}`);
    return n;
  };
  const types = env.CHAT_ATTACHMENT_TYPES
    ? env.CHAT_ATTACHMENT_TYPES.split(',').map((t) => t.trim().toLowerCase())
    : [...DEFAULT_LIMITS.types];
  if (!types.length || types.some((t) => !MIME.test(t)))
    throw new ConfigError('CHAT_ATTACHMENT_TYPES', 'CHAT_ATTACHMENT_TYPES must be a comma-separated list of MIME types');
  // Only types whose content can be checked (signature.ts): a file must be what it claims to be.
  const unchecked = types.filter((t) => !CHECKED_TYPES.includes(t));
  if (unchecked.length)
    throw new ConfigError(
      'CHAT_ATTACHMENT_TYPES',
      `CHAT_ATTACHMENT_TYPES may list only ${CHECKED_TYPES.join(', ')} (not ${unchecked.join(', ')})`,
    );
  return {
    // 5 GB is what one S3 PUT takes.
    maxBytes: int('CHAT_ATTACHMENT_MAX_BYTES', DEFAULT_LIMITS.maxBytes, 5 * 1024 ** 3),
    maxPerMessage: int('CHAT_ATTACHMENT_MAX_PER_MESSAGE', DEFAULT_LIMITS.maxPerMessage, 10),
    types,
  };
}

export interface NewAttachment {
  name: string;
  size: number;
  mime_type: string;
}

/** A name shown to the shop and kept in S3 metadata: at most 255 characters, no slashes, nothing UNSAFE_TEXT names. */
const NAME = /^[^/\\]{1,255}$/u;

/** Refuses an upload the limits do not allow, with the reason, before any URL is issued. */
export function checkNewAttachment(a: NewAttachment, limits: AttachmentLimits): void {
  if (!NAME.test(a.name.trim()) || UNSAFE_TEXT.test(a.name))
    throw new InvalidRequestError(
      'params.name must be a file name of 1 to 255 characters, without slashes, control characters or direction overrides.',
    );
  if (/^image\/hei[cf]/i.test(a.mime_type))
    throw new InvalidRequestError(
      'HEIC photos cannot be read here: please send the photo as JPEG or PNG ' +
        '(on an iPhone: Settings > Camera > Formats > Most Compatible).',
    );
  if (!limits.types.includes(a.mime_type.toLowerCase()))
    throw new InvalidRequestError(`Files of type ${a.mime_type.slice(0, 80)} are not accepted (accepted: ${limits.types.join(', ')}).`);
  if (!Number.isInteger(a.size) || a.size < 1) throw new InvalidRequestError('params.size must be the file size in bytes (at least 1).');
  if (a.size > limits.maxBytes)
    throw new InvalidRequestError(`The file is ${mb(a.size)}; at most ${mb(limits.maxBytes)} per file is accepted.`);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 1)} MB`;

export const isImage = (mime: string) => mime.toLowerCase().startsWith('image/');
