import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { header, HttpError } from '@lead-intake/http';
import { TokenError, verifyClientToken, type TokenClaims } from './tokens';

export interface ChatUserContext extends Context {
  /** The user, from the client token only. */
  chatUser: string;
  /** The token's claims (the visit's locale and page among them). */
  chatClaims: TokenClaims;
}

const unauthorized = (message: string) => new HttpError(401, message, 'unauthorized', { 'www-authenticate': 'Bearer' });

/** The bearer token of a request (`Authorization: Bearer <token>`), or undefined. */
export function bearerToken(event: { headers?: Record<string, string | undefined> }): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header(event, 'authorization') ?? '')?.[1];
}

/** Verifies a client token into an HTTP 401 that says why (never which part was wrong). */
export function claimsOr401(secret: string, token: string | undefined, opts: { graceSeconds?: number } = {}): TokenClaims {
  if (!token) throw unauthorized('A client token is required: Authorization: Bearer <client_secret from the session endpoint>.');
  try {
    return verifyClientToken(secret, token, opts);
  } catch (e) {
    if (e instanceof TokenError)
      throw unauthorized(
        e.reason === 'expired' ? 'The client token has expired; ask the session endpoint for a new one.' : 'The client token is not valid.',
      );
    throw e;
  }
}

/** The chat endpoint's gate: `Authorization: Bearer <client token>`, or 401. The user comes from the token only. */
export function clientToken<C extends ChatUserContext>(opts: { secret: (context: C) => string }): MiddlewareObj<any, any, Error, C> {
  return {
    before: function clientTokenBefore(request) {
      const claims = claimsOr401(opts.secret(request.context), bearerToken(request.event));
      request.context.chatClaims = claims;
      request.context.chatUser = claims.sub;
    },
  };
}
