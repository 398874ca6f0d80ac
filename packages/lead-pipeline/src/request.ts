import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { bearerToken, claimsOr401 } from '@lead-intake/chat-auth';
import { badRequest, optionalPageUrl, optionalUserId } from '@lead-intake/http';

export const LEAD_REASONS = ['auto', 'idle', 'pagehide', 'close', 'manual'] as const;
export type LeadReason = (typeof LEAD_REASONS)[number];
/**
 * What a lead can go out on: a reason a browser sends, or `request`, the server's own when the
 * customer asked for a call back or picked a drop-off time in the chat (strong, as a browser's
 * non-`auto` reasons are: a lease held meanwhile serves it before letting go).
 */
export type LeadTrigger = LeadReason | 'request' | 'rescue';
// `rescue`: the owner said "This is a customer" in the inbox for a conversation the triage held
// back: its lead goes out once, whatever the triage said (services/inbox, through the trigger spool).

export const THREAD_ID = /^cthr_[A-Za-z0-9_-]{1,128}$/;

export interface LeadRequest {
  threadId: string;
  reason: LeadReason;
  user: string | null;
  /** The page the chat runs on (optional; becomes the "open chat page" action). */
  pageUrl: string | null;
}

/** Validates `{threadId, reason, user?, pageUrl?}`; every failure is a 400 that says why. */
export function parseLeadRequest(body: Record<string, unknown>): LeadRequest {
  const { threadId, reason, user, pageUrl } = body;
  if (threadId === undefined) throw badRequest('threadId is required.', 'invalid_thread_id');
  if (typeof threadId !== 'string' || !THREAD_ID.test(threadId))
    throw badRequest('threadId must look like cthr_ followed by 1-128 of A-Z, a-z, 0-9, _ or -.', 'invalid_thread_id');
  if (reason === undefined) throw badRequest(`reason is required: one of ${LEAD_REASONS.join(', ')}.`, 'invalid_reason');
  if (typeof reason !== 'string' || !(LEAD_REASONS as readonly string[]).includes(reason))
    throw badRequest(`reason must be one of ${LEAD_REASONS.join(', ')}.`, 'invalid_reason');
  const validUser = optionalUserId(user);
  const page = optionalPageUrl(pageUrl);
  return { threadId, reason: reason as LeadReason, user: validUser, pageUrl: page };
}

export interface LeadRequestContext extends Context {
  leadRequest: LeadRequest;
}

/** How long after its expiry a client token still names its user here (a beacon from a tab left open). */
export const LEAD_TOKEN_GRACE_SECONDS = 7 * 86400;

export interface LeadRequestOptions<C> {
  /**
   * Self-hosted mode: the user comes from the client token (`Authorization: Bearer`, or a `token`
   * field in a sendBeacon body, which cannot carry headers), never from the body's `user`. The
   * token's page is the default pageUrl. Without it: hosted mode, the body's `user` (optional).
   */
  tokenSecret?: (context: C) => string;
}

/** Validation step: `event.parsedBody` (from `jsonBody()`) and the client token into `context.leadRequest`. */
export function leadRequest<C extends LeadRequestContext>(
  opts: LeadRequestOptions<C> = {},
): MiddlewareObj<{ parsedBody?: Record<string, unknown>; headers?: Record<string, string | undefined> }, unknown, Error, C> {
  return {
    before: function leadRequestBefore(request) {
      const body = request.event.parsedBody ?? {};
      const req = parseLeadRequest(body);
      if (opts.tokenSecret) {
        const fromBody = typeof body.token === 'string' ? body.token : undefined;
        const claims = claimsOr401(opts.tokenSecret(request.context), bearerToken(request.event) ?? fromBody, {
          graceSeconds: LEAD_TOKEN_GRACE_SECONDS,
        });
        req.user = claims.sub;
        req.pageUrl ??= claims.url ?? null;
      }
      request.context.leadRequest = req;
    },
  };
}
