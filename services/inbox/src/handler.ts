import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { secrets, type SecretsContext } from '@lead-intake/config';
import { isSendableAddress } from '@lead-intake/contacts/rules';
import { answerClasses, createLogger, createMetrics, injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { ASSETS } from './assets';
import {
  checkCsrf,
  cookie,
  csrfToken,
  deriveKeys,
  ownerKey,
  parseCookies,
  randomToken,
  readSessionCookie,
  sessionCookieValue,
  SESSION_COOKIE,
  SESSION_SECONDS,
  SIGNIN_COOKIE,
  type Keys,
  type Session,
} from './auth';
import { inboxSettings } from './settings';
import { confirmPage, linkRefusedPage, linkSentPage, signinPage } from './views/signin';
import { deps } from './deps';
import { errorPage } from './errors';
import { pageResponse, redirect, safeNext, type Request, type Result } from './http';

const logger = createLogger('inbox');
const metrics = createMetrics('inbox');
const settings = inboxSettings();

let keysFor: { secret: string; keys: Keys } | undefined;
const keysOf = (secret: string) =>
  keysFor?.secret === secret ? keysFor.keys : (keysFor = { secret, keys: deriveKeys(secret, settings.stage) }).keys;

/**
 * The owner's lead inbox (docs/backend.md, "The owner's inbox"): server-rendered pages behind a
 * Function URL. Signing in takes an emailed single-use link; every page after it a session
 * cookie, every change a CSRF token. Never logs an address, a phone or a customer's words.
 */
export const handler = middy<LambdaFunctionURLEvent, LambdaFunctionURLResult, Error, SecretsContext>()
  .use(injectLambdaContext(logger))
  .use(publishMetrics(metrics))
  .use(answerClasses(metrics))
  .use(
    secrets({
      names: ['CHATKIT_TOKEN_SECRET'],
      ssmPath: settings.secretsSsmPath,
      onMissing: (e) => logger.error(`configuration error: ${e.message}`),
    }),
  )
  .handler(async (event, context) => {
    const req = toRequest(event);
    try {
      const secret = context.secrets.CHATKIT_TOKEN_SECRET!;
      return await route(req, keysOf(secret), secret);
    } catch (e) {
      logger.error('inbox request failed', { errorName: (e as Error)?.name, path: req.route });
      return pageResponse(500, errorPage('Something went wrong', 'The inbox could not answer. Try again in a minute.'), settings);
    }
  });

function toRequest(event: LambdaFunctionURLEvent): Request {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v ?? '']));
  return {
    method: event.requestContext.http.method,
    path: event.rawPath || '/',
    route: (event.rawPath || '/').replace(/\/leads\/[^/]+/, '/leads/:id').replace(/\/filtered\/[^/]+/, '/filtered/:id'),
    query: (event.queryStringParameters ?? {}) as Record<string, string | undefined>,
    headers,
    cookies: parseCookies(headers.cookie, event.cookies),
    rawBody: raw,
    sourceIp: event.requestContext.http.sourceIp,
    origin: `${settings.secureCookies ? 'https' : 'http'}://${event.requestContext.domainName}`,
    wantsJson: (headers.accept ?? '').includes('application/json') && !(headers.accept ?? '').includes('text/html'),
  };
}

async function route(req: Request, keys: Keys, secret: string): Promise<Result> {
  const { method, path } = req;
  if (path.startsWith('/assets/') && (method === 'GET' || method === 'HEAD')) {
    const asset = ASSETS[path.slice('/assets/'.length)];
    if (!asset) return pageResponse(404, errorPage('Not found', 'There is no such page.'), settings);
    return {
      statusCode: 200,
      headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' },
      body: asset.body,
    };
  }
  // No icon: an empty answer the browser keeps (rather than a 404 on every page).
  if (path === '/favicon.ico') return { statusCode: 204, headers: { 'cache-control': 'public, max-age=86400' }, body: '' };
  if (path === '/signin' && method === 'GET') return signinForm(req, keys);
  if (path === '/signin' && method === 'POST') return requestLink(req, keys);
  if (path === '/auth' && method === 'GET') {
    const token = req.query.token ?? '';
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return refusedLink();
    return pageResponse(200, confirmPage({ token, next: safeNext(req.query.next) }), settings);
  }
  if (path === '/auth' && method === 'POST') return useLink(req, keys);

  // Everything else is the owner's: a session first.
  const session = await currentSession(req, keys);
  if (!session) {
    if (req.wantsJson)
      return {
        statusCode: 401,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'unauthorized', message: 'Sign in first.' }),
      };
    metrics.addMetric('InboxSignInRequired', MetricUnit.Count, 1);
    return redirect(`/signin?next=${encodeURIComponent(method === 'GET' ? req.path : '/')}`);
  }
  const csrf = csrfToken(keys, session.sid);
  if (method === 'POST') {
    const form = new URLSearchParams(req.rawBody);
    if (!checkCsrf(keys, session.sid, form.get('csrf'))) {
      metrics.addMetric('InboxCsrfRefused', MetricUnit.Count, 1);
      logger.warn('inbox: a change without a valid CSRF token was refused', { path: req.route });
      return pageResponse(
        403,
        errorPage('This form has expired', 'Nothing was changed. Go back, reload the page and try again.'),
        settings,
        { session, csrf },
      );
    }
    if (path === '/signout') return signOut(session, false);
    if (path === '/signout-all') return signOut(session, true);
  }
  const pages = await import('./pages');
  return pages.ownerRoute(req, { session, csrf, settings, logger, metrics, secret });
}

async function currentSession(req: Request, keys: Keys): Promise<Session | null> {
  const now = Math.floor(Date.now() / 1000);
  const c = readSessionCookie(keys, req.cookies[SESSION_COOKIE], now);
  if (!c) return null;
  return deps(settings).auth.session(c, now);
}

/** The sign-in form, with its CSRF pair (a random cookie, and the form's token bound to it). */
function signinForm(req: Request, keys: Keys, extra: { notice?: string; error?: string } = {}, status = 200): Result {
  const bound = /^[A-Za-z0-9_-]{22,64}$/.test(req.cookies[SIGNIN_COOKIE] ?? '') ? req.cookies[SIGNIN_COOKIE]! : randomToken(18);
  const res = pageResponse(
    status,
    signinPage({ csrf: csrfToken(keys, `signin:${bound}`), next: safeNext(req.query.next), ...extra }),
    settings,
  );
  return { ...res, cookies: [cookie(SIGNIN_COOKIE, bound, 3600, settings.secureCookies)] };
}

/** A link for an owner's address; the same answer for any address (rate limited per address and per network). */
async function requestLink(req: Request, keys: Keys): Promise<Result> {
  const form = new URLSearchParams(req.rawBody);
  const bound = req.cookies[SIGNIN_COOKIE] ?? '';
  if (!bound || !checkCsrf(keys, `signin:${bound}`, form.get('csrf'))) {
    metrics.addMetric('InboxCsrfRefused', MetricUnit.Count, 1);
    return signinForm(req, keys, { error: 'The form expired. Enter your address again.' }, 403);
  }
  const email = (form.get('email') ?? '').trim().toLowerCase();
  if (email.length > 254 || !isSendableAddress(email)) return signinForm(req, keys, { error: 'Enter an email address.' }, 400);
  const { auth, limits, sendLink } = deps(settings);
  const { networkOf } = await import('@lead-intake/usage-limits');
  const taken = await limits().take([
    { key: `signin#addr#${ownerKey(keys, email)}`, limit: settings.linksPerAddressPerHour, windowSeconds: 3600 },
    { key: `signin#net#${networkOf(req.sourceIp)}`, limit: settings.linksPerNetworkPerHour, windowSeconds: 3600 },
  ]);
  if (!taken.ok) {
    metrics.addMetric('InboxLinksRefused', MetricUnit.Count, 1);
    const minutes = Math.ceil(taken.retryAfterSeconds / 60);
    return signinForm(
      req,
      keys,
      { error: `Too many sign-in links were asked for. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.` },
      429,
    );
  }
  if (settings.owners.includes(email)) {
    const token = randomToken();
    await auth.createLink(token, email, Math.floor(Date.now() / 1000));
    const next = safeNext(form.get('next') ?? undefined);
    const link = `${req.origin}/auth?token=${token}${next !== '/' ? `&next=${encodeURIComponent(next)}` : ''}`;
    await sendLink(email, link);
    metrics.addMetric('InboxLinksSent', MetricUnit.Count, 1);
    logger.info('inbox: sign-in link sent');
  } else logger.info('inbox: sign-in asked for an address that is not an owner’s; nothing sent');
  return pageResponse(200, linkSentPage(), settings);
}

function refusedLink(): Result {
  metrics.addMetric('InboxLinksRefused', MetricUnit.Count, 1);
  return pageResponse(400, linkRefusedPage(), settings);
}

/** The link, used once: a session and its cookie, then the page asked for. */
async function useLink(req: Request, keys: Keys): Promise<Result> {
  const form = new URLSearchParams(req.rawBody);
  const token = form.get('token') ?? '';
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return refusedLink();
  const now = Math.floor(Date.now() / 1000);
  const { auth } = deps(settings);
  const email = await auth.consumeLink(token, now);
  // An owner removed since the link was sent may not sign in with it.
  if (!email || !settings.owners.includes(email)) return refusedLink();
  const sid = randomToken(24);
  const key = ownerKey(keys, email);
  const expiresAt = await auth.createSession(sid, email, key, now);
  metrics.addMetric('InboxSignIns', MetricUnit.Count, 1);
  logger.info('inbox: signed in');
  return {
    ...redirect(safeNext(form.get('next') ?? undefined)),
    cookies: [cookie(SESSION_COOKIE, sessionCookieValue(keys, { sid, ownerKey: key }, expiresAt), SESSION_SECONDS, settings.secureCookies)],
  };
}

async function signOut(session: Session, everywhere: boolean): Promise<Result> {
  const { auth } = deps(settings);
  if (everywhere) await auth.endAll(session.ownerKey);
  await auth.endSession(session.sid);
  logger.info(everywhere ? 'inbox: signed out everywhere' : 'inbox: signed out');
  return { ...redirect('/signin'), cookies: [cookie(SESSION_COOKIE, '', 0, settings.secureCookies)] };
}
