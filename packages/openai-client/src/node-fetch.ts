import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/**
 * A `fetch` for the OpenAI SDK on node:http(s).
 *
 * Why: Node's built-in fetch (undici) compiles its HTTP parser to WebAssembly and sets up its
 * connection machinery on the first request, ~15 ms of every cold start, for one JSON call. This
 * sends what the SDK sends for API calls (a string or byte body, or none) over node:http(s) with
 * keep-alive, and answers with a standard `Response` (streaming bodies included), so the SDK's
 * retries, timeouts and streaming work unchanged. Anything else (FormData, Blob or stream
 * bodies, non-http URLs, redirects) goes to the global fetch, so behaviour never differs from it.
 *
 * Errors follow fetch: an aborted signal rejects with an `AbortError` (the signal's reason as its
 * cause), a network failure with `TypeError('fetch failed', { cause })`: what the SDK classifies
 * into its timeout and connection errors.
 */
export const nodeHttpFetch: typeof fetch = async (input, init) => {
  const body = init?.body;
  const simpleBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
  const href = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  if (!simpleBody || href === undefined || (init?.redirect !== undefined && init.redirect !== 'follow'))
    return globalThis.fetch(input, init);
  const url = new URL(href);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return globalThis.fetch(input, init);

  const signal = init?.signal ?? undefined;
  if (signal?.aborted) throw abortError(signal);
  const method = (init?.method ?? 'GET').toUpperCase();
  const headers = outgoingHeaders(init?.headers, body);

  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    // Node's global agents keep connections alive (5 s idle), so a warm Lambda reuses its TLS
    // connection to OpenAI; a connection that died while the instance was frozen fails fast and
    // the SDK retries it.
    const req = send(url, { method, headers }, resolve);
    const onAbort = () => req.destroy(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: e })));
    // Once the response has ended or failed, the listener has nothing left to abort.
    req.on('close', () => signal?.removeEventListener('abort', onAbort));
    req.end(body ?? undefined);
  });

  const status = res.statusCode ?? 0;
  if (REDIRECT.has(status) && res.headers.location) {
    // Rare for an API: let fetch follow it (the body is a string or bytes, safe to send again).
    res.resume();
    return globalThis.fetch(input, init);
  }
  const responseHeaders = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) responseHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
  if (method === 'HEAD' || NULL_BODY.has(status)) {
    res.resume();
    return new Response(null, { status, statusText: res.statusMessage, headers: responseHeaders });
  }
  // An abort after the headers destroys the request, which errors this stream with the reason.
  const stream = Readable.toWeb(decoded(res, responseHeaders)) as ReadableStream<Uint8Array>;
  return new Response(stream, { status, statusText: res.statusMessage, headers: responseHeaders });
};

/**
 * An Error of this realm named AbortError. Not the signal's DOMException itself: the SDK keeps
 * only `instanceof Error` values as they are, and a DOMException from another realm (a test
 * sandbox, say) would lose its name and turn a timeout into a plain connection error.
 */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('This operation was aborted', { cause: signal.reason }), { name: 'AbortError' });
}

const REDIRECT = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([204, 205, 304]);

function outgoingHeaders(init: HeadersInit | undefined, body: unknown): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  new Headers(init).forEach((value, name) => {
    out[name] = value;
  });
  // What fetch adds on its own: a body length and a type for a bare string. No accept-encoding:
  // API answers are small, and an uncompressed event stream is never held back by a decoder.
  if (typeof body === 'string') {
    out['content-length'] = Buffer.byteLength(body);
    out['content-type'] ??= 'text/plain;charset=UTF-8';
  } else if (body instanceof Uint8Array) {
    out['content-length'] = body.byteLength;
  }
  return out;
}

/** The body as fetch would give it, should a server compress anyway: decoded, the header dropped. */
function decoded(res: IncomingMessage, headers: Headers): Readable {
  const encoding = headers.get('content-encoding')?.trim().toLowerCase();
  if (!encoding || encoding === 'identity') return res;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const zlib = require('node:zlib') as typeof import('node:zlib');
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? zlib.createGunzip()
      : encoding === 'deflate'
        ? zlib.createInflate()
        : encoding === 'br'
          ? zlib.createBrotliDecompress()
          : undefined;
  if (!decoder) return res;
  headers.delete('content-encoding');
  headers.delete('content-length');
  res.on('error', (e) => decoder.destroy(e));
  return res.pipe(decoder);
}
