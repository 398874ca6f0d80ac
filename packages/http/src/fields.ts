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

/** `pageUrl`: absent or null, or an absolute http(s) URL of at most 2048 characters (kept as sent). */
export function optionalPageUrl(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > MAX_URL_LENGTH || !httpUrlOrNull(v))
    throw badRequest(`pageUrl must be an absolute http(s) URL of at most ${MAX_URL_LENGTH} characters.`, 'invalid_page_url');
  return v;
}
