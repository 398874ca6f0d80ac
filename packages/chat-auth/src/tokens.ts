import { HttpError } from '@lead-intake/errors';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The self-hosted chat's credentials, both HMAC-SHA256 under the per-stage CHATKIT_TOKEN_SECRET
 * (SSM), neither stored anywhere:
 * - client token `ckt1.<payload>.<sig>`: short-lived (the session TTL); payload
 *   `{sub: user, iat, exp, loc?, url?}` (Unix seconds; the visit's locale and page). Sent by the
 *   browser as `Authorization: Bearer` to the chat and the lead endpoints.
 * - device credential `ckd1.<user>.<sig>`: long-lived, issued with a new user by the session
 *   endpoint and kept by the browser; proves the user when it asks for a new client token.
 *   Signed with a key derived for this purpose only, so one kind can never pass for the other.
 * Every part is unpadded base64url (or, for the user, the user id's own alphabet) in exactly one
 * spelling: a token that decodes to the same bytes but is written differently is malformed.
 */
export interface TokenClaims {
  sub: string;
  iat: number;
  exp: number;
  /** The visit's locale (BCP-47), as validated by the session service. */
  loc?: string;
  /** The page the chat runs on, as validated by the session service. */
  url?: string;
}

export type TokenFailure = 'malformed' | 'bad_signature' | 'expired';

/** A token or credential that proves nothing: 401 if nothing turns it into a friendlier answer. */
export class TokenError extends HttpError {
  constructor(readonly reason: TokenFailure) {
    super(401, `invalid credential: ${reason}`, 'unauthorized');
  }
}

const CLIENT = 'ckt1';
const DEVICE = 'ckd1';
/** Server-issued user ids: `u_` and 22 base64url characters (128 random bits). */
export const ISSUED_USER_ID = /^u_[A-Za-z0-9_-]{22}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
const deviceKey = (secret: string) => hmac(secret, 'chatkit-lead-intake device credential v1');

/** Decodes base64url written in its one canonical spelling (no padding, no stray bits), or throws malformed. */
function strictDecode(part: string): Buffer {
  if (!B64URL.test(part)) throw new TokenError('malformed');
  const buf = Buffer.from(part, 'base64url');
  if (buf.toString('base64url') !== part) throw new TokenError('malformed');
  return buf;
}

function checkSignature(expected: Buffer, sigPart: string): void {
  const given = strictDecode(sigPart);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new TokenError('bad_signature');
}

export function assertTokenSecret(secret: string | undefined): string {
  if (!secret || secret.length < 32) throw new Error('CHATKIT_TOKEN_SECRET must be at least 32 characters');
  return secret;
}

export function newUserId(): string {
  return `u_${randomBytes(16).toString('base64url')}`;
}

export function mintClientToken(
  secret: string,
  user: string,
  ttlSeconds: number,
  opts: { now?: number; locale?: string; pageUrl?: string } = {},
): { token: string; expiresAt: number } {
  const iat = Math.floor((opts.now ?? Date.now()) / 1000);
  const claims: TokenClaims = {
    sub: user,
    iat,
    exp: iat + ttlSeconds,
    ...(opts.locale ? { loc: opts.locale } : {}),
    ...(opts.pageUrl ? { url: opts.pageUrl } : {}),
  };
  const body = `${CLIENT}.${b64(JSON.stringify(claims))}`;
  return { token: `${body}.${b64(hmac(secret, body))}`, expiresAt: claims.exp };
}

/**
 * Checks a client token. `graceSeconds` accepts a token that expired at most that long ago (the
 * lead endpoint: a pagehide beacon from a tab left open past its token's life still names its user).
 */
export function verifyClientToken(secret: string, token: string, opts: { now?: number; graceSeconds?: number } = {}): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== CLIENT) throw new TokenError('malformed');
  const payload = strictDecode(parts[1]!);
  checkSignature(hmac(secret, `${parts[0]}.${parts[1]}`), parts[2]!);
  let claims: TokenClaims;
  try {
    claims = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new TokenError('malformed');
  }
  if (!claims || typeof claims.sub !== 'string' || !claims.sub || typeof claims.exp !== 'number') throw new TokenError('malformed');
  if (claims.exp + (opts.graceSeconds ?? 0) <= Math.floor((opts.now ?? Date.now()) / 1000)) throw new TokenError('expired');
  return claims;
}

export function mintDeviceCredential(secret: string, user: string): string {
  if (!ISSUED_USER_ID.test(user)) throw new Error('device credentials are only issued for server-issued user ids');
  const body = `${DEVICE}.${user}`;
  return `${body}.${b64(hmac(deviceKey(secret), body))}`;
}

/** The user a device credential proves; throws TokenError when it proves nothing. */
export function verifyDeviceCredential(secret: string, credential: string): string {
  const parts = credential.split('.');
  if (parts.length !== 3 || parts[0] !== DEVICE || !ISSUED_USER_ID.test(parts[1]!)) throw new TokenError('malformed');
  checkSignature(hmac(deviceKey(secret), `${parts[0]}.${parts[1]}`), parts[2]!);
  return parts[1]!;
}
