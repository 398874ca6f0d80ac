import { ConfigError } from '@lead-intake/errors';
import { randomBytes } from 'node:crypto';
import { isSendableAddress } from '@lead-intake/contacts/rules';

export interface OutgoingEmail {
  from: string;
  to: string[];
  replyTo?: string[];
  subject: string;
  text: string;
  html: string;
}

/** A header address that cannot be sent to (To and From are configuration; a bad Reply-To never reaches here). */
export class InvalidAddressError extends ConfigError {
  constructor(readonly field: string) {
    super(field, `invalid email address in ${field}`);
  }
}

/** Every address a single bare, sendable one: nothing that could end a header or add a recipient. */
export function assertAddresses(field: string, list: string[]): void {
  if (list.length === 0 && field !== 'Reply-To') throw new InvalidAddressError(field);
  for (const a of list) if (!isSendableAddress(a)) throw new InvalidAddressError(field);
}

/** The email standard's limit on a header line (RFC 5322 2.1.1), CRLF excluded. */
export const MAX_HEADER_LINE = 998;
/** An address list folded one address per line, so no line grows with the list. */
const addressList = (list: string[]) => list.join(',\r\n ');

/** RFC 2047 encoded-word for a header value (UTF-8, base64), folded so no line is too long. */
export function encodeHeader(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  if (/^[\x20-\x7e]*$/.test(clean) && clean.length <= 900) return clean;
  const words: string[] = [];
  let chunk = '';
  for (const ch of clean) {
    // Keep each encoded word under 75 characters: at most 45 bytes of UTF-8 per word.
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

const base64Lines = (s: string) =>
  Buffer.from(s, 'utf8')
    .toString('base64')
    .replace(/.{1,76}/g, '$&\r\n');

/** A multipart/alternative message (text, then HTML), both parts base64 so any content is safe. */
export function buildMime(e: OutgoingEmail, opts: { date?: Date; boundary?: string } = {}): string {
  assertAddresses('From', [e.from]);
  assertAddresses('To', e.to);
  assertAddresses('Reply-To', e.replyTo ?? []);
  const boundary = opts.boundary ?? `=_lead_${randomBytes(12).toString('hex')}`;
  const headers = [
    `From: ${e.from}`,
    `To: ${addressList(e.to)}`,
    ...(e.replyTo?.length ? [`Reply-To: ${addressList(e.replyTo)}`] : []),
    `Subject: ${encodeHeader(e.subject)}`,
    `Date: ${(opts.date ?? new Date()).toUTCString().replace('GMT', '+0000')}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  const head = headers.join('\r\n');
  if (head.split('\r\n').some((l) => l.length > MAX_HEADER_LINE)) throw new InvalidAddressError('header line over 998 characters');
  return [
    head,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(e.text),
    `--${boundary}`,
    'Content-Type: text/html; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(e.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}
