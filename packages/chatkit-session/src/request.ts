import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { badRequest, optionalPageUrl, optionalUserId } from '@lead-intake/http';

export { USER_ID } from '@lead-intake/http';

export interface SessionRequest {
  /** The user the browser names, if any (only with its credential: the server issues users). */
  user: string | null;
  /** Self-hosted mode: the long-lived credential the session endpoint issued with the user. */
  deviceCredential: string | null;
  /** Canonical BCP-47 tag (`en` by default). */
  locale: string;
  /** The page the chat runs on, or `''`. */
  pageUrl: string;
}

const DEVICE_CREDENTIAL = /^[A-Za-z0-9_.-]{1,256}$/;

/** Validates the body `{user?, deviceCredential?, locale?, pageUrl?}`; every failure is a 400 that says why. */
export function parseSessionRequest(body: Record<string, unknown>): SessionRequest {
  const { user, locale, pageUrl, deviceCredential } = body;
  const validUser = optionalUserId(user);
  if (
    deviceCredential !== undefined &&
    deviceCredential !== null &&
    (typeof deviceCredential !== 'string' || !DEVICE_CREDENTIAL.test(deviceCredential))
  ) {
    throw badRequest('deviceCredential must be the device_credential string the session endpoint issued.', 'invalid_device_credential');
  }
  let canonical = 'en';
  if (locale !== undefined) {
    if (typeof locale !== 'string' || locale.length === 0 || locale.length > 64)
      throw badRequest('locale must be a BCP-47 language tag such as en or es-MX.', 'invalid_locale');
    try {
      canonical = Intl.getCanonicalLocales(locale)[0]!;
    } catch {
      throw badRequest('locale must be a BCP-47 language tag such as en or es-MX.', 'invalid_locale');
    }
  }
  const page = optionalPageUrl(pageUrl) ?? '';
  return { user: validUser, deviceCredential: (deviceCredential as string | null | undefined) ?? null, locale: canonical, pageUrl: page };
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
