import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ApiError } from './errors';
import {
  appendItems,
  cancelSession,
  createSession,
  deleteThread,
  getThread,
  isObject,
  listItems,
  listThreads,
  seedThread,
  threadView,
} from './chatkit';
import { planResponse, streamEvents, validateRequest } from './responses';
import { EmulatorState, type QueuedResponse } from './state';

export interface EmulatorOptions {
  host?: string;
  port?: number;
}

export interface RunningEmulator {
  /** Base URL for the SDK, including `/v1`. */
  baseURL: string;
  /** Origin of the admin API (`/__emulator/...`). */
  origin: string;
  state: EmulatorState;
  close(): Promise<void>;
}

const MAX_BODY = 10 * 1024 * 1024;

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const state = new EmulatorState();
  const server = createServer((req, res) => {
    handle(state, req, res).catch((err) => {
      // A bug in the emulator must be loud but must not kill the process.
      console.error('[openai-emulator] unexpected error', err);
      if (!res.headersSent) send(res, 500, new ApiError(500, 'The emulator failed.', 'server_error').body());
      else res.end();
    });
  });
  // Longer than client pools keep idle sockets, so no client reuses one being closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await listen(server, opts.port ?? 3110, opts.host ?? '127.0.0.1');
  const addr = server.address() as AddressInfo;
  const origin = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  state.origin = origin;
  return {
    baseURL: `${origin}/v1`,
    origin,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw ApiError.invalid('Request body too large.', null);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
    'x-request-id': `req_${randomBytes(12).toString('hex')}`,
    'openai-processing-ms': '1',
    ...headers,
  });
  res.end(json);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}

async function handle(state: EmulatorState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const method = (req.method ?? 'GET').toUpperCase();
  const path = url.pathname;
  const gone = new AbortController();
  res.on('close', () => gone.abort());

  let raw: string;
  try {
    raw = await readBody(req);
  } catch (e) {
    return send(res, 413, (e as ApiError).body());
  }
  let body: unknown = null;
  let badJson = false;
  if (raw.length > 0) {
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
      badJson = true;
    }
  }

  if (path.startsWith('/__emulator/')) return admin(state, method, path, body, badJson, res);
  const file = /^\/files\/([A-Za-z0-9_-]+)$/.exec(path);
  if (method === 'GET' && file) {
    const f = state.files.get(file[1]!);
    if (!f) return send(res, 404, { error: 'No such file.' });
    res.writeHead(200, { 'content-type': f.mimeType, 'content-length': f.bytes.length });
    return void res.end(f.bytes);
  }

  const query: Record<string, string | string[]> = {};
  for (const key of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(key);
    query[key] = all.length === 1 ? all[0]! : all;
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  state.requests.push({ method, path, query, headers, body });

  const fault = state.takeFault(method, path, body);
  if (fault) {
    await sleep(fault.delay_ms ?? 0, gone.signal);
    if (gone.signal.aborted) return;
    if (fault.status) {
      const type = fault.status === 429 ? 'rate_limit_exceeded' : fault.status >= 500 ? 'server_error' : 'invalid_request_error';
      return send(res, fault.status, new ApiError(fault.status, `Injected fault: ${fault.status}.`, type).body(), {
        'retry-after-ms': '10',
      });
    }
  }

  try {
    const auth = req.headers.authorization ?? '';
    if (!/^Bearer \S+/.test(auth)) {
      throw new ApiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an " +
          'Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).',
        'invalid_request_error',
        null,
        'missing_api_key',
      );
    }
    if (path.startsWith('/v1/chatkit/') && !/(^|,)\s*chatkit_beta=v1\s*(,|$)/.test(String(req.headers['openai-beta'] ?? ''))) {
      throw ApiError.invalid("ChatKit requests need the header 'OpenAI-Beta: chatkit_beta=v1'.", null);
    }
    if (badJson && method !== 'GET') throw ApiError.invalid('We could not parse the JSON body of your request.', null);
    await route(state, method, path, url.searchParams, body, res, gone.signal);
  } catch (e) {
    if (e instanceof ApiError) return send(res, e.status, e.body());
    throw e;
  }
}

async function route(
  state: EmulatorState,
  method: string,
  path: string,
  q: URLSearchParams,
  body: unknown,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  let m: RegExpExecArray | null;
  const seg = (s: string) => decodeURIComponent(s);
  if (method === 'POST' && path === '/v1/chatkit/sessions') return send(res, 200, createSession(state, body));
  if (method === 'POST' && (m = /^\/v1\/chatkit\/sessions\/([^/]+)\/cancel$/.exec(path)))
    return send(res, 200, cancelSession(state, seg(m[1]!)));
  if (method === 'GET' && path === '/v1/chatkit/threads') return send(res, 200, listThreads(state, q));
  if ((m = /^\/v1\/chatkit\/threads\/([^/]+)$/.exec(path))) {
    if (method === 'GET') return send(res, 200, threadView(getThread(state, seg(m[1]!))));
    if (method === 'DELETE') return send(res, 200, deleteThread(state, seg(m[1]!)));
  }
  if (method === 'GET' && (m = /^\/v1\/chatkit\/threads\/([^/]+)\/items$/.exec(path)))
    return send(res, 200, listItems(state, seg(m[1]!), q));
  if (method === 'POST' && path === '/v1/responses') return responses(state, body, res, signal);
  throw new ApiError(404, `Invalid URL (${method} ${path})`, 'invalid_request_error');
}

async function responses(state: EmulatorState, body: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const req = validateRequest(body);
  const plan = planResponse(req, state.takeResponse());
  if (req.stream !== true) return send(res, 200, plan.body);
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': `req_${randomBytes(12).toString('hex')}`,
  });
  for (const event of streamEvents(plan)) {
    if (signal.aborted) return;
    if (plan.chunkDelayMs && event.type === 'response.output_text.delta') await sleep(plan.chunkDelayMs, signal);
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }
  res.end();
}

function admin(state: EmulatorState, method: string, path: string, body: unknown, badJson: boolean, res: ServerResponse): void {
  const bad = (message: string) => send(res, 400, { error: message });
  if (badJson) return bad('Body must be JSON.');
  if (method === 'POST' && path === '/__emulator/reset') {
    state.reset();
    return send(res, 200, { ok: true });
  }
  if (method === 'GET' && path === '/__emulator/requests') return send(res, 200, state.requests);
  if (method === 'GET' && path === '/__emulator/faults')
    return send(res, 200, { pending: state.faults.reduce((n, f) => n + f.times, 0), served: state.faultsServed });
  if (method === 'POST' && path === '/__emulator/threads') {
    try {
      return send(res, 200, { id: seedThread(state, body).id });
    } catch (e) {
      if (e instanceof ApiError) return bad(e.message);
      throw e;
    }
  }
  const append = /^\/__emulator\/threads\/([^/]+)\/items$/.exec(path);
  if (method === 'POST' && append) {
    try {
      return send(res, 200, { id: appendItems(state, decodeURIComponent(append[1]!), body).id });
    } catch (e) {
      if (e instanceof ApiError) return send(res, e.status, { error: e.message });
      throw e;
    }
  }
  if (method === 'POST' && path === '/__emulator/responses') {
    if (!isObject(body)) return bad('Body must be a JSON object.');
    const times = body.times ?? 1;
    if (!Number.isInteger(times) || times < 1) return bad("'times' must be a positive integer.");
    let entry: QueuedResponse;
    if ('output' in body) entry = { kind: 'output', output: body.output };
    else if (typeof body.refusal === 'string') entry = { kind: 'refusal', refusal: body.refusal };
    else if (body.status === 'incomplete')
      entry = { kind: 'incomplete', reason: typeof body.reason === 'string' ? body.reason : 'max_output_tokens' };
    else if (typeof body.text === 'string') entry = { kind: 'text', text: body.text, chunk_delay_ms: Number(body.chunk_delay_ms) || 0 };
    else if (isObject(body.function_call)) {
      const { name, arguments: args } = body.function_call;
      if (typeof name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(name)) return bad("'function_call.name' must be a function name.");
      if (args !== undefined && !isObject(args)) return bad("'function_call.arguments' must be an object.");
      entry = { kind: 'function_call', name, arguments: (args ?? {}) as Record<string, unknown> };
    } else return bad("Expected one of {output}, {refusal}, {status: 'incomplete'}, {text} or {function_call}.");
    for (let i = 0; i < times; i++) state.responses.push({ ...entry });
    return send(res, 200, { queued: state.responses.length });
  }
  if (method === 'POST' && path === '/__emulator/faults') {
    if (!isObject(body) || typeof body.path !== 'string' || !body.path.startsWith('/'))
      return bad("'path' must be a path prefix starting with '/'.");
    const { status, delay_ms, times, method: m, stream } = body;
    if (!Number.isInteger(times) || times < 1) return bad("'times' must be a positive integer.");
    if (status !== undefined && (!Number.isInteger(status) || status < 400 || status > 599))
      return bad("'status' must be an HTTP error status (400-599).");
    if (delay_ms !== undefined && (!Number.isInteger(delay_ms) || delay_ms < 0)) return bad("'delay_ms' must be a non-negative integer.");
    if (m !== undefined && typeof m !== 'string') return bad("'method' must be a string.");
    if (stream !== undefined && typeof stream !== 'boolean') return bad("'stream' must be true or false.");
    // No status and no delay means a plain 500; a delay alone means a hang, then the normal answer.
    const effective = status ?? (delay_ms ? undefined : 500);
    state.faults.push({ path: body.path, method: m, status: effective, delay_ms, times, ...(stream !== undefined ? { stream } : {}) });
    return send(res, 200, { faults: state.faults.length });
  }
  return send(res, 404, { error: `Unknown admin route ${method} ${path}` });
}
