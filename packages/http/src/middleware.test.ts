import middy from '@middy/core';
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { UpstreamError } from '@lead-intake/errors';
import { HttpError, httpErrors, jsonBody, jsonResponse, methodGuard, originPolicy, parseAllowedOrigins } from './index';

/** The chain every Function URL of the project uses, in its order, around a handler that echoes the parsed body. */
const ALLOWED = 'https://craigs.autos';
function chain(handler: (body: unknown) => unknown = (b) => jsonResponse(200, { got: b }), body = { maxBytes: 64, acceptTextPlain: true }) {
  const unexpected: unknown[] = [];
  const fn = middy<LambdaFunctionURLEvent & { parsedBody?: unknown }, any>()
    .use(originPolicy({ allowedOrigins: [ALLOWED], allowedHeaders: ['content-type', 'authorization'] }))
    .use(httpErrors({ onUnexpected: (e) => unexpected.push(e) }))
    .use(methodGuard(['POST']))
    .use(jsonBody(body))
    .handler(async (event) => handler(event.parsedBody));
  return { fn, unexpected };
}
function event(o: { method?: string; headers?: Record<string, string>; body?: string; base64?: boolean } = {}): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...(o.headers ?? {}) },
    requestContext: { http: { method: o.method ?? 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'x' } } as any,
    body: o.body,
    isBase64Encoded: o.base64 ?? false,
  };
}
const ctx = {} as Context;
const parse = (r: any) => ({ status: r.statusCode, headers: r.headers, body: JSON.parse(r.body || '{}') });

describe('originPolicy: the server enforces the allow-list (http-cors alone never refuses)', () => {
  it('refuses a disallowed origin with 403 before the handler runs, and no CORS header for it', async () => {
    let ran = false;
    const { fn } = chain(() => ((ran = true), jsonResponse(200, {})));
    const r = parse(await fn(event({ headers: { origin: 'https://evil.example' }, body: '{}' }), ctx));
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ error: 'Origin "https://evil.example" is not allowed.', code: 'origin_not_allowed' });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(ran).toBe(false);
  });
  it('answers an allowed origin with its CORS header, on errors too (the browser can read the reason)', async () => {
    const { fn } = chain();
    const ok = parse(await fn(event({ headers: { origin: ALLOWED }, body: '{"a":1}' }), ctx));
    expect(ok).toMatchObject({ status: 200, body: { got: { a: 1 } } });
    expect(ok.headers).toMatchObject({ 'access-control-allow-origin': ALLOWED, vary: 'Origin' });
    const bad = parse(await fn(event({ headers: { origin: ALLOWED }, body: '{' }), ctx));
    expect(bad).toMatchObject({ status: 400, body: { code: 'invalid_json' } });
    expect(bad.headers['access-control-allow-origin']).toBe(ALLOWED);
  });
  it('answers a preflight itself (204 with methods and headers); a request without Origin (a server) passes', async () => {
    const { fn } = chain();
    const pre = await fn(event({ method: 'OPTIONS', headers: { origin: ALLOWED } }), ctx);
    expect(pre.statusCode).toBe(204);
    expect(pre.headers).toMatchObject({
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type, authorization',
    });
    expect(parse(await fn(event({ body: '{}' }), ctx)).status).toBe(200);
  });
  it('parses ALLOWED_ORIGINS as serverless sets it', () => {
    expect(parseAllowedOrigins(' https://a.example, https://b.example ,,')).toEqual(['https://a.example', 'https://b.example']);
    expect(parseAllowedOrigins(undefined)).toEqual([]);
  });
});

describe('methodGuard, jsonBody, httpErrors', () => {
  it('405 with Allow for another method', async () => {
    const r = parse(await chain().fn(event({ method: 'GET' }), ctx));
    expect(r).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
    expect(r.headers.allow).toBe('POST');
  });
  it('takes JSON, a sendBeacon text/plain body and base64 bodies; an empty body is {}', async () => {
    const { fn } = chain();
    const beacon = event({ headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: '{"t":"x"}' });
    expect(parse(await fn(beacon, ctx)).body).toEqual({ got: { t: 'x' } });
    const b64 = event({ body: Buffer.from('{"b":2}').toString('base64'), base64: true });
    expect(parse(await fn(b64, ctx)).body).toEqual({ got: { b: 2 } });
    expect(parse(await fn(event({ body: '' }), ctx)).body).toEqual({ got: {} });
  });
  it('refuses with the reason: too large 413, another type 415, not JSON or not an object 400', async () => {
    const { fn } = chain();
    expect(parse(await fn(event({ body: JSON.stringify({ x: 'y'.repeat(100) }) }), ctx)).status).toBe(413);
    const xml = parse(await fn(event({ headers: { 'content-type': 'application/xml' }, body: '<a/>' }), ctx));
    expect(xml).toMatchObject({ status: 415, body: { error: expect.stringContaining('send application/json or text/plain') } });
    expect(parse(await fn(event({ body: '[1]' }), ctx)).body).toEqual({ error: 'Body must be a JSON object.', code: 'invalid_json' });
    expect(parse(await fn(event({ body: '{"a":' }), ctx))).toMatchObject({ status: 400, body: { code: 'invalid_json' } });
  });
  it('refuses a prototype key (the parser is @middy/http-json-body-parser) and leaves the raw body as it came', async () => {
    let seen: unknown;
    const fn = middy<LambdaFunctionURLEvent & { parsedBody?: unknown }, any>()
      .use(httpErrors())
      .use(jsonBody({ maxBytes: 64 }))
      .handler(async (e) => {
        seen = e.body;
        return jsonResponse(200, { got: e.parsedBody });
      });
    const polluted = parse(await fn(event({ body: '{"__proto__":{"admin":true}}' }), ctx));
    expect(polluted).toMatchObject({ status: 400, body: { code: 'invalid_json', error: expect.stringContaining('forbidden key') } });
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    await fn(event({ body: Buffer.from('{"b":2}').toString('base64'), base64: true }), ctx);
    expect(seen).toBe(Buffer.from('{"b":2}').toString('base64'));
  });
  it('an unexpected error is a bare 500, an upstream failure a 502, neither showing what failed', async () => {
    const bug = chain(() => {
      throw new Error('db password is hunter2');
    });
    const r = parse(await bug.fn(event({ body: '{}' }), ctx));
    expect(r).toEqual(expect.objectContaining({ status: 500, body: { error: 'Internal error.', code: 'internal_error' } }));
    expect(bug.unexpected).toHaveLength(1);
    const up = chain(() => {
      throw new UpstreamError('openai', 'upstream said: secret body');
    });
    expect(parse(await up.fn(event({ body: '{}' }), ctx)).body).toEqual({
      error: 'The upstream service failed; try again shortly.',
      code: 'upstream_error',
    });
    const mine = chain(() => {
      throw new HttpError(409, 'Already sent.', 'conflict');
    });
    expect(parse(await mine.fn(event({ body: '{}' }), ctx)).body).toEqual({ error: 'Already sent.', code: 'conflict' });
  });
});
