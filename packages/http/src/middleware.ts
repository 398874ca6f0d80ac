import type { MiddlewareObj, Request } from '@middy/core';
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { UpstreamError } from '@lead-intake/errors';
import { HttpError } from './errors';

type UrlRequest<TEvent = LambdaFunctionURLEvent> = Request<TEvent, LambdaFunctionURLResult, Error, Context>;
type Mw<TEvent = LambdaFunctionURLEvent> = MiddlewareObj<TEvent, LambdaFunctionURLResult, Error, Context>;

/** Reads a header whatever its case (Function URLs lower-case them; hand-made events may not). */
export function header(event: { headers?: Record<string, string | undefined> }, name: string): string | undefined {
  const headers = event.headers ?? {};
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

export interface OriginPolicyOptions {
  /** Exact origins (`scheme://host[:port]`). */
  allowedOrigins: readonly string[];
  allowedMethods?: readonly string[];
  allowedHeaders?: readonly string[];
  maxAgeSeconds?: number;
}

/** Parses the comma-separated `ALLOWED_ORIGINS` value that serverless.yml sets from stages.config.json. */
export function parseAllowedOrigins(csv: string | undefined): string[] {
  return (csv ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * The origin allow-list, enforced by the server (middy's http-cors never refuses anything):
 * a request whose `Origin` is present and not allowed is answered 403 before any other step runs.
 * Preflights are answered here; every response, errors included, carries the CORS headers for an
 * allowed origin so the browser can read the reason. Register it first, before `httpErrors()`.
 */
export function originPolicy(opts: OriginPolicyOptions): Mw {
  const allowed = new Set(opts.allowedOrigins);
  const methods = (opts.allowedMethods ?? ['POST']).join(', ');
  const headers = (opts.allowedHeaders ?? ['content-type']).join(', ');
  const maxAge = String(opts.maxAgeSeconds ?? 300);

  const decorate = (request: UrlRequest) => {
    const origin = header(request.event, 'origin');
    const res = request.response;
    if (!res || typeof res !== 'object') return;
    res.headers = { ...(res.headers ?? {}), vary: 'Origin' };
    if (origin && allowed.has(origin)) res.headers['access-control-allow-origin'] = origin;
  };

  return {
    before: function originPolicyBefore(request) {
      const origin = header(request.event, 'origin');
      if (origin !== undefined && !allowed.has(origin)) {
        throw new HttpError(403, `Origin ${JSON.stringify(origin.slice(0, 200))} is not allowed.`, 'origin_not_allowed');
      }
      if (request.event.requestContext?.http?.method === 'OPTIONS') {
        request.response = {
          statusCode: 204,
          headers: origin
            ? { 'access-control-allow-methods': methods, 'access-control-allow-headers': headers, 'access-control-max-age': maxAge }
            : {},
          body: '',
        };
        decorate(request);
        return request.response;
      }
    },
    after: function originPolicyAfter(request) {
      decorate(request);
    },
    onError: function originPolicyOnError(request) {
      decorate(request);
    },
  };
}

/** Only the given methods reach the handler; others get 405 with `Allow`. */
export function methodGuard(methods: readonly string[] = ['POST']): Mw {
  return {
    before: function methodGuardBefore(request) {
      const method = request.event.requestContext?.http?.method ?? 'POST';
      if (!methods.includes(method)) {
        throw new HttpError(405, `Method ${method} is not allowed; use ${methods.join(' or ')}.`, 'method_not_allowed', {
          allow: methods.join(', '),
        });
      }
    },
  };
}

export interface JsonBodyOptions {
  maxBytes?: number;
  /** Accept `text/plain` too: `navigator.sendBeacon` sends `text/plain;charset=UTF-8`. */
  acceptTextPlain?: boolean;
}

/**
 * A JSON object body at `request.event.parsedBody` (`event.body` stays the raw text). The parsing is
 * @middy/http-json-body-parser's (base64 bodies, and `__proto__`/`constructor.prototype` keys
 * refused); kept here what it does not do: the size limit (413, before anything is decoded),
 * `text/plain` for beacons and an absent type (415 for others, with the accepted types), an empty
 * body as `{}`, a JSON value that is not an object refused, and its errors as 400 `invalid_json`.
 */
export function jsonBody(opts: JsonBodyOptions = {}): Mw<LambdaFunctionURLEvent & { parsedBody?: Record<string, unknown> }> {
  const maxBytes = opts.maxBytes ?? 16 * 1024;
  // The content type is checked here (the library knows no text/plain): its own check is off.
  // Loaded on first use: the library is ESM-only (an `import` condition alone), and CommonJS
  // processes that load this package without parsing a body (the lead CLI) must not require it.
  let parser: Promise<MiddlewareObj> | undefined;
  const parse = () =>
    (parser ??= import('@middy/http-json-body-parser').then((m) => m.default({ disableContentTypeCheck: true }) as MiddlewareObj));
  return {
    before: async function jsonBodyBefore(request) {
      const { event } = request;
      const raw = event.body ?? '';
      const bytes = event.isBase64Encoded ? Buffer.byteLength(raw, 'base64') : Buffer.byteLength(raw, 'utf8');
      if (bytes > maxBytes) throw new HttpError(413, `Body is larger than ${maxBytes} bytes.`);
      const type = (header(event, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const okType = type === '' || type === 'application/json' || (opts.acceptTextPlain && type === 'text/plain');
      if (!okType) {
        throw new HttpError(
          415,
          `Content-Type ${JSON.stringify(type.slice(0, 100))} is not supported; ` +
            `send application/json${opts.acceptTextPlain ? ' or text/plain' : ''}.`,
        );
      }
      const text = (event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw).trim();
      if (text === '') {
        event.parsedBody = {};
        return;
      }
      // The library parses into `event.body`: give it a copy, so the raw text stays where it was.
      const copy = { ...event, body: text, isBase64Encoded: false };
      const parser = await parse();
      try {
        await parser.before!({ ...request, event: copy } as never);
      } catch (e) {
        const forbidden = (e as Error).message === 'Forbidden key in JSON body';
        throw new HttpError(
          400,
          forbidden ? 'Body has a forbidden key (__proto__ or constructor).' : 'Body is not valid JSON.',
          'invalid_json',
        );
      }
      const parsed: unknown = copy.body;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new HttpError(400, 'Body must be a JSON object.', 'invalid_json');
      }
      event.parsedBody = parsed as Record<string, unknown>;
    },
  };
}

export interface HttpErrorsOptions {
  /** Called once per unexpected error (5xx); log ids and error names only. */
  onUnexpected?: (error: unknown, request: UrlRequest) => void;
}

/**
 * Turns thrown errors into JSON answers: `{"error": message, "code": code}` for an `HttpError`
 * with a 4xx status, a generic message for anything else (no internals or upstream bodies leak).
 */
export function httpErrors(opts: HttpErrorsOptions = {}): Mw {
  return {
    onError: function httpErrorsOnError(request) {
      const err = request.error;
      if (typeof request.response === 'object' && request.response !== null && request.response.statusCode) return;
      if (err instanceof HttpError) {
        const e = err;
        if (e.statusCode >= 500 && !e.expose) opts.onUnexpected?.(e, request);
        request.response = jsonResponse(
          e.statusCode,
          { error: e.expose ? e.message : publicMessage(e.statusCode), code: e.code },
          e.headers,
        );
        return;
      }
      opts.onUnexpected?.(err, request);
      // A dependency that failed is not our bug: 502, and the dependency's answer is never shown.
      if (err instanceof UpstreamError) request.response = jsonResponse(502, { error: publicMessage(502), code: 'upstream_error' });
      else request.response = jsonResponse(500, { error: 'Internal error.', code: 'internal_error' });
    },
  };
}

function publicMessage(status: number): string {
  return status === 502 || status === 504 ? 'The upstream service failed; try again shortly.' : 'Internal error.';
}

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): LambdaFunctionURLResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
