import { layout } from './views/layout';
import type { InboxSettings } from './settings';

/** What the inbox answers (a Function URL result, always an object). */
export interface Result {
  statusCode: number;
  headers?: Record<string, string>;
  cookies?: string[];
  body: string;
}

export interface Request {
  method: string;
  path: string;
  /** The path with ids replaced (for logs: no id a client chose). */
  route: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string>;
  cookies: Record<string, string>;
  rawBody: string;
  sourceIp: string;
  /** This function's own origin (from the URL AWS routed, never from a client's Host header): the sign-in link's. */
  origin: string;
  wantsJson: boolean;
}

/**
 * The Content-Security-Policy: this origin's style and script only, no inline anything, forms to
 * this origin only, never framed. Photos load from the files function (and its S3 redirect).
 */
export const csp = (imgSources: string) =>
  `default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' ${imgSources}; form-action 'self'; ` +
  `frame-ancestors 'none'; base-uri 'none'`;

export function securityHeaders(s: Pick<InboxSettings, 'imgSources'>): Record<string, string> {
  return {
    'content-security-policy': csp(s.imgSources),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    // The owner's customers: never kept by a shared cache or the browser's back-forward cache.
    'cache-control': 'no-store',
  };
}

/** An HTML answer. `body` is a whole page, or a fragment put in the layout. */
export function pageResponse(
  statusCode: number,
  body: string,
  s: Pick<InboxSettings, 'imgSources'>,
  session?: { session: { email: string }; csrf: string },
): Result {
  const html = body.startsWith('<!DOCTYPE')
    ? body
    : layout({ title: 'Lead inbox', body, session: session ? { email: session.session.email, csrf: session.csrf } : null });
  return { statusCode, headers: { 'content-type': 'text/html; charset=utf-8', ...securityHeaders(s) }, body: html };
}

export function redirect(location: string): Result {
  return { statusCode: 303, headers: { location, 'cache-control': 'no-store' }, body: '' };
}

/** Where to go after signing in: a path of this inbox only (never another site). */
export function safeNext(next: string | undefined | null): string {
  if (!next || next.length > 300 || !next.startsWith('/') || next.startsWith('//') || next.includes('\\')) return '/';
  return /^\/(leads\/[A-Za-z0-9_-]{1,140}|filtered|numbers)?$/.test(next) ? next : '/';
}
