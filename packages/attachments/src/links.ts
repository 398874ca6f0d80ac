import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Links to a thread's attachments that work when the owner reads the lead email days later: our
 * own URL (the lead service's `files` function), signed with a key derived from the stage's token
 * secret over the thread, the attachment and the expiry. A link names one file of one thread, so
 * it never exposes another thread's files; the function answers with a short-lived presigned S3
 * URL. (A presigned S3 URL itself cannot outlive the Lambda role's session credentials: hours, not
 * days.) See docs/backend.md, "Attachments", for the trade-off.
 */
export interface FileLink {
  threadId: string;
  attachmentId: string;
  /** Epoch seconds. */
  expires: number;
}

const key = (secret: string) => createHmac('sha256', secret).update('lead-intake:attachment-links:v1').digest();
const sign = (secret: string, l: FileLink) =>
  createHmac('sha256', key(secret)).update(`${l.threadId}\n${l.attachmentId}\n${l.expires}`).digest('base64url');

export function signedLink(base: string, secret: string, l: FileLink): string {
  const url = new URL(base);
  url.search = new URLSearchParams({ t: l.threadId, a: l.attachmentId, e: String(l.expires), s: sign(secret, l) }).toString();
  return url.toString();
}

export type LinkCheck = { ok: true; link: FileLink } | { ok: false; reason: 'malformed' | 'expired' | 'bad_signature' };

const ID = /^[a-z]{2,8}_[0-9a-zA-Z]{1,64}$/;

/** Checks a link's query (`t`, `a`, `e`, `s`) at `now` (epoch seconds). */
export function checkLink(query: Record<string, string | undefined>, secret: string, now: number): LinkCheck {
  const { t, a, e, s } = query;
  if (!t || !a || !e || !s || !ID.test(t) || !ID.test(a) || !/^\d{1,12}$/.test(e)) return { ok: false, reason: 'malformed' };
  const link = { threadId: t, attachmentId: a, expires: Number(e) };
  const want = Buffer.from(sign(secret, link));
  const got = Buffer.from(s);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { ok: false, reason: 'bad_signature' };
  if (link.expires < now) return { ok: false, reason: 'expired' };
  return { ok: true, link };
}
