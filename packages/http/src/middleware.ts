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
 * Decodes (base64 when the Function URL says so), size-checks and parses a JSON object body into
 * `event.body`-as-object at `request.event.parsedBody`. An empty body parses as `{}`.
 */
export function jsonBody(opts: JsonBodyOptions = {}): Mw<LambdaFunctionURLEvent & { parsedBody?: Record<string, unknown> }> {
  const maxBytes = opts.maxBytes ?? 16 * 1024;
  return {
    before: function jsonBodyBefore(request) {
      const { event } = request;
      const raw = event.body ?? '';
      const buf = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (buf.length > maxBytes) throw new HttpError(413, `Body is larger than ${maxBytes} bytes.`);
      const type = (header(event, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const okType = type === '' || type === 'application/json' || (opts.acceptTextPlain && type === 'text/plain');
      if (!okType) {
        throw new HttpError(
          415,
          `Content-Type ${JSON.stringify(type.slice(0, 100))} is not supported; ` +
            `send application/json${opts.acceptTextPlain ? ' or text/plain' : ''}.`,
        );
      }
      const text = buf.toString('utf8').trim();
      if (text === '') {
        event.parsedBody = {};
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new HttpError(400, 'Body is not valid JSON.', 'invalid_json');
      }
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
      // Structural as well as instanceof: a lazily loaded module may hold its own copy of the class
      // (in tests, a module loaded outside an isolated registry).
      if (err instanceof HttpError || isHttpErrorLike(err)) {
        const e = err as HttpError;
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
      if (err instanceof UpstreamError || isUpstreamErrorLike(err))
        request.response = jsonResponse(502, { error: publicMessage(502), code: 'upstream_error' });
      else request.response = jsonResponse(500, { error: 'Internal error.', code: 'internal_error' });
    },
  };
}

function isUpstreamErrorLike(e: unknown): e is UpstreamError {
  return e instanceof Error && typeof (e as Partial<UpstreamError>).upstream === 'string';
}

function isHttpErrorLike(e: unknown): e is HttpError {
  const x = e as Partial<HttpError> | undefined;
  return !!x && typeof x.statusCode === 'number' && typeof x.expose === 'boolean' && typeof x.code === 'string';
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
