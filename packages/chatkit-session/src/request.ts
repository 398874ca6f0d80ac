import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { badRequest } from '@lead-intake/http';

export interface SessionRequest {
  /** The user the browser names, if any (hosted mode: its own id; self-hosted: only with its credential). */
  user: string | null;
  /** Self-hosted mode: the long-lived credential the session endpoint issued with the user. */
  deviceCredential: string | null;
  /** Canonical BCP-47 tag (`en` by default). */
  locale: string;
  /** The page the chat runs on, or `''`. */
  pageUrl: string;
}

export const USER_ID = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_URL = 2048;

const DEVICE_CREDENTIAL = /^[A-Za-z0-9_.-]{1,256}$/;

/** Validates the body `{user?, deviceCredential?, locale?, pageUrl?}`; every failure is a 400 that says why. */
export function parseSessionRequest(body: Record<string, unknown>): SessionRequest {
  const { user, locale, pageUrl, deviceCredential } = body;
  if (user !== undefined && user !== null && (typeof user !== 'string' || !USER_ID.test(user))) {
    throw badRequest('user must be 1-128 characters of A-Z, a-z, 0-9, _ or -.', 'invalid_user');
  }
  if (deviceCredential !== undefined && deviceCredential !== null && (typeof deviceCredential !== 'string' || !DEVICE_CREDENTIAL.test(deviceCredential))) {
    throw badRequest('deviceCredential must be the device_credential string the session endpoint issued.', 'invalid_device_credential');
  }
  let canonical = 'en';
  if (locale !== undefined) {
    if (typeof locale !== 'string' || locale.length === 0 || locale.length > 64) throw badRequest('locale must be a BCP-47 language tag such as en or es-MX.', 'invalid_locale');
    try {
      canonical = Intl.getCanonicalLocales(locale)[0]!;
    } catch {
      throw badRequest('locale must be a BCP-47 language tag such as en or es-MX.', 'invalid_locale');
    }
  }
  let page = '';
  if (pageUrl !== undefined) {
    if (typeof pageUrl !== 'string' || pageUrl.length > MAX_URL) throw badRequest(`pageUrl must be an absolute http(s) URL of at most ${MAX_URL} characters.`, 'invalid_page_url');
    let parsed: URL;
    try {
      parsed = new URL(pageUrl);
    } catch {
      throw badRequest(`pageUrl must be an absolute http(s) URL of at most ${MAX_URL} characters.`, 'invalid_page_url');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw badRequest('pageUrl must use http or https.', 'invalid_page_url');
    page = pageUrl;
  }
  return { user: (user as string | null | undefined) ?? null, deviceCredential: (deviceCredential as string | null | undefined) ?? null, locale: canonical, pageUrl: page };
}

export interface SessionRequestContext extends Context {
  sessionRequest: SessionRequest;
}

/** Validation step: reads `event.parsedBody` (from `jsonBody()`) into `context.sessionRequest`. */
export function sessionRequest(): MiddlewareObj<{ parsedBody?: Record<string, unknown> }, unknown, Error, SessionRequestContext> {
  return {
    before: function sessionRequestBefore(request) {
      request.context.sessionRequest = parseSessionRequest(request.event.parsedBody ?? {});
    },
  };
}
