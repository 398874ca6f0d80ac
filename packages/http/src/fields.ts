import { badRequest } from './errors';

/**
 * Request fields that more than one endpoint takes, checked once: a user id and a page URL. Each
 * validator answers the value (or null when absent) or throws a 400 that says why.
 */

export const USER_ID = /^[A-Za-z0-9_-]{1,128}$/;
export const MAX_URL_LENGTH = 2048;

/** An absolute http(s) URL, normalized; anything else (other schemes, relative, not a string) is null. */
export function httpUrlOrNull(v: unknown): string | null {
  if (typeof v !== 'string' || !v) return null;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

/** `user`: absent or null, or 1-128 of A-Z, a-z, 0-9, _ or -. */
export function optionalUserId(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !USER_ID.test(v))
    throw badRequest('user must be 1-128 characters of A-Z, a-z, 0-9, _ or -.', 'invalid_user');
  return v;
}

/**
 * Characters no customer text may carry into a file name, an email subject, a header or a line of
 * an SMS (nor a page address): C0 and C1 controls and DEL, line and paragraph separators, the
 * bidirectional marks and overrides (a name that renders as another phone number), and lone
 * surrogates. One rule: names refuse them, one-line texts replace them (`UNSAFE_TEXT_ALL`).
 */
const CONTROLS_SEPARATORS_BIDI = '[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]';
const LONE_SURROGATE = '[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
export const UNSAFE_TEXT = new RegExp(`${CONTROLS_SEPARATORS_BIDI}|${LONE_SURROGATE}`);
export const UNSAFE_TEXT_ALL = new RegExp(UNSAFE_TEXT.source, 'g');

/**
 * `pageUrl`: absent or null, or an absolute http(s) URL of at most 2048 characters, answered
 * normalized (as `new URL` writes it). Only the normalized value is kept: it flows into the
 * assistant's context, the ledger, the lead email and the webhook, so a value with control
 * characters (a line break that could pose as a new line of instructions) is refused outright.
 */
export function optionalPageUrl(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const invalid = () =>
    badRequest(
      `pageUrl must be an absolute http(s) URL of at most ${MAX_URL_LENGTH} characters, without control characters.`,
      'invalid_page_url',
    );
  if (typeof v !== 'string' || v.length > MAX_URL_LENGTH || UNSAFE_TEXT.test(v)) throw invalid();
  const url = httpUrlOrNull(v);
  if (!url || url.length > MAX_URL_LENGTH) throw invalid();
  return url;
}
