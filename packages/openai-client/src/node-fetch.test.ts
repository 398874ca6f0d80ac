import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { emulator, emulatorBaseURL } from '@lead-intake/testkit';
import { nodeHttpFetch, openaiClientCache } from './index';

/** A real HTTP server whose handler each test sets; it records what arrived. */
let server: Server;
let base: string;
let handle: (req: IncomingMessage, body: string, res: ServerResponse) => void;
const seen: { method?: string; url?: string; headers: IncomingMessage['headers']; body: string; closed: boolean }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const entry = { method: req.method, url: req.url, headers: req.headers, body: '', closed: false };
    seen.push(entry);
    res.on('close', () => (entry.closed = true));
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      entry.body = body;
      handle(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  seen.length = 0;
});

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error('condition not reached in 2 s');
};

describe('nodeHttpFetch', () => {
  test('sends the method, headers and body, and answers a standard Response', async () => {
    handle = (_req, body, res) => {
      res.writeHead(201, 'Made', { 'content-type': 'application/json', 'x-request-id': 'req_1' });
      res.end(JSON.stringify({ echo: JSON.parse(body) }));
    };
    const res = await nodeHttpFetch(`${base}/v1/things?x=1`, {
      method: 'post',
      headers: new Headers({ 'content-type': 'application/json', authorization: 'Bearer k' }),
      body: JSON.stringify({ hello: 'wörld' }),
    });
    expect(res).toBeInstanceOf(Response);
    expect([res.status, res.statusText, res.ok]).toEqual([201, 'Made', true]);
    expect(res.headers.get('x-request-id')).toBe('req_1');
    expect(await res.json()).toEqual({ echo: { hello: 'wörld' } });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/things?x=1', body: '{"hello":"wörld"}' });
    expect(seen[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: 'Bearer k',
      'content-length': String(Buffer.byteLength('{"hello":"wörld"}')),
    });
  });

  test('a bare string body gets the type fetch gives it; bytes are sent as they are', async () => {
    handle = (_req, _body, res) => res.end('ok');
    await nodeHttpFetch(`${base}/a`, { method: 'POST', body: 'plain' });
    await nodeHttpFetch(`${base}/b`, { method: 'PUT', body: new TextEncoder().encode('bytes') });
    expect(seen[0]!.headers['content-type']).toBe('text/plain;charset=UTF-8');
    expect(seen[1]).toMatchObject({ method: 'PUT', body: 'bytes' });
    expect(seen[1]!.headers['content-length']).toBe('5');
  });

  test('streams the body: the first chunk is readable before the server has finished', async () => {
    let finish!: () => void;
    handle = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      finish = () => res.end('data: two\n\n');
    };
    const res = await nodeHttpFetch(`${base}/stream`, { method: 'POST', body: '{}' });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('data: one\n\n');
    finish();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    expect(rest).toBe('data: two\n\n');
  });

  test('204 has a null body; error statuses come back as responses, not rejections', async () => {
    handle = (req, _body, res) => {
      if (req.url === '/none') return void res.writeHead(204).end();
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '10' }).end('{"error":{"message":"slow down"}}');
    };
    const none = await nodeHttpFetch(`${base}/none`, { method: 'DELETE' });
    expect([none.status, none.body]).toEqual([204, null]);
    const limited = await nodeHttpFetch(`${base}/limited`);
    expect([limited.status, limited.ok, limited.headers.get('retry-after-ms')]).toEqual([429, false, '10']);
    expect(await limited.json()).toEqual({ error: { message: 'slow down' } });
  });

  test('an abort before the headers rejects with AbortError and closes the connection', async () => {
    handle = () => undefined; // never answers
    const controller = new AbortController();
    const pending = nodeHttpFetch(`${base}/hang`, { signal: controller.signal });
    await until(() => seen.length === 1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await until(() => seen[0]!.closed);
  });

  test('an already aborted signal rejects without a request', async () => {
    handle = (_req, _body, res) => res.end('late');
    await expect(nodeHttpFetch(`${base}/x`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(0);
  });

  test('an abort while the body streams errors the body', async () => {
    handle = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: partial\n\n');
    };
    const controller = new AbortController();
    const res = await nodeHttpFetch(`${base}/partial`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await expect(reader.read()).rejects.toBeDefined();
    await until(() => seen[0]!.closed);
  });

  test('a refused connection rejects as fetch does: TypeError with the cause', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await nodeHttpFetch(`http://127.0.0.1:${port}/`).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toBe('fetch failed');
    expect(err.cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('a compressed answer is decoded, as fetch would', async () => {
    handle = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync('{"zipped":true}'));
    };
    const res = await nodeHttpFetch(`${base}/gz`);
    expect(res.headers.get('content-encoding')).toBeNull();
    expect(await res.json()).toEqual({ zipped: true });
  });

  test('what it does not handle itself goes to the global fetch: redirects and form bodies', async () => {
    handle = (req, body, res) => {
      if (req.url === '/old') return void res.writeHead(307, { location: '/new' }).end();
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ url: req.url, type: req.headers['content-type'], body }));
    };
    const moved = await nodeHttpFetch(`${base}/old`, { method: 'POST', body: 'again' });
    expect(await moved.json()).toMatchObject({ url: '/new', body: 'again' });
    const form = new FormData();
    form.append('purpose', 'test');
    const posted = await (await nodeHttpFetch(`${base}/upload`, { method: 'POST', body: form })).json();
    expect(posted.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(posted.body).toContain('name="purpose"');
  });
});

describe('the SDK on nodeHttpFetch, against the emulator', () => {
  const client = () => new OpenAI({ apiKey: 'sk-test', baseURL: emulatorBaseURL(), fetch: nodeHttpFetch, maxRetries: 1, timeout: 2000 });

  beforeEach(() => emulator().reset());

  test('the shared client cache uses it', () => {
    const c = openaiClientCache()('sk-test', { timeoutMs: 1000, maxRetries: 0 });
    expect((c as unknown as { fetch: unknown }).fetch).toBe(nodeHttpFetch);
  });

  test('a 500 is retried and then succeeds', async () => {
    await emulator().fault({ path: '/v1/chatkit/sessions', status: 500, times: 1 });
    const s = await client().beta.chatkit.sessions.create({ user: 'u1', workflow: { id: 'wf_1' } });
    expect(s.client_secret).toMatch(/^ek_/);
    expect((await emulator().requests()).filter((r) => r.path === '/v1/chatkit/sessions')).toHaveLength(2);
  });

  test('a slow upstream becomes the SDK timeout error', async () => {
    await emulator().fault({ path: '/v1/chatkit/sessions', delay_ms: 1500, times: 5 });
    const c = new OpenAI({ apiKey: 'sk-test', baseURL: emulatorBaseURL(), fetch: nodeHttpFetch, maxRetries: 0, timeout: 200 });
    await expect(c.beta.chatkit.sessions.create({ user: 'u1', workflow: { id: 'wf_1' } })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionTimeoutError,
    );
  });

  test('a refused connection becomes the SDK connection error', async () => {
    const c = new OpenAI({ apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1', fetch: nodeHttpFetch, maxRetries: 0 });
    await expect(c.models.list()).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
  });

  test('a streamed Responses answer arrives as events', async () => {
    await emulator().queue({ text: 'Hello there, friend', chunk_delay_ms: 5 });
    const stream = await client().responses.create({ model: 'gpt-4.1-mini', input: 'hi', stream: true });
    let text = '';
    for await (const ev of stream) if (ev.type === 'response.output_text.delta') text += ev.delta;
    expect(text).toBe('Hello there, friend');
  });
});
