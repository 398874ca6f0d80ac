import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `ckt1.<base64url payload>.<base64url HMAC-SHA256>`, payload `{sub: user, iat, exp}` (Unix
 * seconds). Minted by the session service in self-hosted mode, checked by the chat service; the
 * per-stage secret (CHATKIT_TOKEN_SECRET, at least 32 characters) lives in SSM.
 */
export interface TokenClaims {
  sub: string;
  iat: number;
  exp: number;
}

export class TokenError extends Error {
  constructor(readonly reason: 'malformed' | 'bad_signature' | 'expired') {
    super(`invalid client token: ${reason}`);
    this.name = 'TokenError';
  }
}

const PREFIX = 'ckt1';
const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const sign = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest();

export function assertTokenSecret(secret: string | undefined): string {
  if (!secret || secret.length < 32) throw new Error('CHATKIT_TOKEN_SECRET must be at least 32 characters');
  return secret;
}

export function mintClientToken(secret: string, user: string, ttlSeconds: number, now = Date.now()): { token: string; expiresAt: number } {
  const iat = Math.floor(now / 1000);
  const claims: TokenClaims = { sub: user, iat, exp: iat + ttlSeconds };
  const body = `${PREFIX}.${b64(JSON.stringify(claims))}`;
  return { token: `${body}.${b64(sign(secret, body))}`, expiresAt: claims.exp };
}

export function verifyClientToken(secret: string, token: string, now = Date.now()): TokenClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw new TokenError('malformed');
  const expected = sign(secret, `${parts[0]}.${parts[1]}`);
  const given = Buffer.from(parts[2]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new TokenError('bad_signature');
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError('malformed');
  }
  if (typeof claims.sub !== 'string' || !claims.sub || typeof claims.exp !== 'number') throw new TokenError('malformed');
  if (claims.exp <= Math.floor(now / 1000)) throw new TokenError('expired');
  return claims;
}

import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { header, HttpError } from '@lead-intake/http';

export interface ChatUserContext extends Context {
  chatUser: string;
}

/** The chat endpoint's gate: `Authorization: Bearer <client token>`, or 401. The user comes from the token only. */
export function clientToken<C extends ChatUserContext>(opts: { secret: (context: C) => string }): MiddlewareObj<any, any, Error, C> {
  return {
    before: function clientTokenBefore(request) {
      const m = /^Bearer\s+(\S+)$/i.exec(header(request.event, 'authorization') ?? '');
      if (!m) throw new HttpError(401, 'A client token is required: Authorization: Bearer <token from the session endpoint>.', 'unauthorized', { 'www-authenticate': 'Bearer' });
      try {
        request.context.chatUser = verifyClientToken(opts.secret(request.context), m[1]!).sub;
      } catch (e) {
        if (e instanceof TokenError) throw new HttpError(401, e.reason === 'expired' ? 'The client token has expired; ask the session endpoint for a new one.' : 'The client token is not valid.', 'unauthorized', { 'www-authenticate': 'Bearer' });
        throw e;
      }
    },
  };
}
