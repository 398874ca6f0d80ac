import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ResolvedFunction, UrlCors } from './service-config';
import { stopChild } from './process';

/**
 * Serves one function the way its Lambda Function URL does: payload format 2.0 events, the URL's
 * CORS configuration applied outside the handler, buffered or streamed responses, and invocations
 * run as Lambda runs them: one at a time per instance (more instances start under concurrency), and
 * an invocation that outlives the function's timeout is stopped there (its instance is killed), so
 * nothing it started can go on past it.
 */

const MAX_REQUEST_BYTES = 6 * 1024 * 1024;
const TEXT_TYPE = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

type StreamMeta = { statusCode?: number; headers?: Record<string, string>; cookies?: string[] };
type Hooks = { onStreamStart?(meta: StreamMeta): void; onChunk?(data: Buffer): void };
export type InvokeOutcome =
  | { kind: 'result'; result: any }
  | { kind: 'error'; error: { name: string; message: string; stack?: string } }
  | { kind: 'timeout' }
  | { kind: 'crash' }
  | { kind: 'streamed' };

/** What a caller may learn of an invocation besides its outcome (tests attribute effects to stopped invocations). */
export interface InvokeInfo {
  startedAt: number;
  endedAt: number;
}

/** One instance: a child process serving one invocation at a time. */
interface Instance {
  child: ChildProcess;
  ready: Promise<void>;
  /** The invocation it is running, if any. */
  current?: { id: string; hooks: Hooks; respond(o: InvokeOutcome): void; end(): void };
}

export interface LocalFunctionOptions {
  /** Overrides the function's configured timeout (tests scale a deploy's timings down). */
  timeoutSeconds?: number;
  /** Overrides how many instances may run at once (default: the reserved concurrency, or 10). */
  maxInstances?: number;
}

/** Instances of a function without reserved concurrency, at most (a bound on this machine's processes). */
const DEFAULT_MAX_INSTANCES = 10;

export class LocalFunction {
  private readonly idle: Instance[] = [];
  private readonly all = new Set<Instance>();
  private stopping = false;
  readonly timeoutSeconds: number;
  readonly maxInstances: number;
  /** Invocations waiting for an instance (all are busy and no more may start). */
  private readonly waiting: Array<() => void> = [];
  /** Invocations stopped at the timeout, since the start (the instance was killed with them). */
  timeouts = 0;

  constructor(
    readonly fn: ResolvedFunction,
    private readonly bundle: string,
    private readonly env: NodeJS.ProcessEnv,
    opts: LocalFunctionOptions = {},
  ) {
    this.timeoutSeconds = opts.timeoutSeconds ?? fn.timeoutSeconds;
    this.maxInstances = opts.maxInstances ?? fn.reservedConcurrency ?? DEFAULT_MAX_INSTANCES;
  }

  /**
   * An idle instance, a new one while fewer than `maxInstances` run, or the first one to come free.
   * (Past its reserved concurrency Lambda answers a Function URL 429 and an event source retries
   * later; here the invocation waits for an instance instead, so a test's burst is not refused. The
   * wait is not part of the invocation's timeout, as a retry after a throttle would not be.)
   */
  private async instance(): Promise<Instance> {
    for (;;) {
      const idle = this.idle.pop();
      if (idle) return idle;
      if (this.all.size < this.maxInstances) return this.spawn();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.stopping) throw new Error('stopping');
    }
  }

  /** An instance came free or went away: the next waiting invocation may take one. */
  private wake() {
    this.waiting.shift()?.();
  }

  /** How many instances are running now (busy or idle). */
  get instances(): number {
    return this.all.size;
  }

  private spawn(): Instance {
    const exportName = this.fn.handler.split('.').pop()!;
    const child = fork(
      join(__dirname, 'lambda-worker.cjs'),
      [this.bundle, exportName, `${this.fn.service}-${this.fn.name}`, String(this.fn.memoryMb)],
      // No loader of the parent's (tsx): the worker is plain CommonJS and the bundle is built JavaScript.
      { env: this.env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    // The function's log lines go where this process's output goes (the stack's log; in a test,
    // the output the test environment keeps), as CloudWatch collects an instance's output.
    child.stdout!.on('data', (d: Buffer) => process.stdout.write(d));
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    const inst: Instance = { child, ready: Promise.resolve() };
    this.all.add(inst);
    inst.ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: any) => {
        if (m.type === 'ready') return resolve();
        if (m.type === 'init-error') return reject(new Error(`${this.fn.name} failed to initialise: ${m.error.message}`));
        const cur = inst.current;
        if (!cur || cur.id !== m.id) return;
        if (m.type === 'stream-start') cur.hooks.onStreamStart?.(m.meta);
        else if (m.type === 'chunk') cur.hooks.onChunk?.(Buffer.from(m.data, 'base64'));
        // The response is complete; the instance stays busy until the handler itself returns.
        else if (m.type === 'stream-end') cur.respond({ kind: 'streamed' });
        else if (m.type === 'result') this.finish(inst, { kind: 'result', result: m.result });
        else if (m.type === 'error') this.finish(inst, { kind: 'error', error: m.error });
        else if (m.type === 'done') this.finish(inst, { kind: 'streamed' });
      });
      child.once('exit', (code) => {
        reject(new Error(`${this.fn.name} exited during init (code ${code})`));
        this.all.delete(inst);
        const i = this.idle.indexOf(inst);
        if (i >= 0) this.idle.splice(i, 1);
        inst.current?.respond({ kind: 'crash' });
        inst.current?.end();
        inst.current = undefined;
        this.wake();
      });
    });
    inst.ready.catch(() => undefined);
    return inst;
  }

  /** The invocation ended (the handler returned or threw): its instance serves the next one. */
  private finish(inst: Instance, outcome: InvokeOutcome) {
    const cur = inst.current;
    if (!cur) return;
    inst.current = undefined;
    cur.respond(outcome);
    cur.end();
    if (!this.stopping && this.all.has(inst)) this.idle.push(inst);
    this.wake();
  }

  /**
   * Starts instances until `count` are running (the local stack warms one of every function before
   * it says `ready`; a test may start as many as it will run at once, as provisioned concurrency does).
   */
  async warm(count = 1): Promise<void> {
    const started = Array.from({ length: Math.max(0, count - this.all.size) }, () => this.spawn());
    await Promise.all([...this.all].map((i) => i.ready));
    this.idle.push(...started.filter((i) => this.all.has(i)));
  }

  async invoke(event: unknown, hooks: Hooks = {}, signal?: AbortSignal, info?: InvokeInfo): Promise<InvokeOutcome> {
    if (this.stopping) return { kind: 'crash' };
    let inst: Instance;
    try {
      inst = await this.instance();
      // Init is not part of the invocation's timeout (Lambda gives it its own).
      await inst.ready;
    } catch {
      return { kind: 'crash' };
    }
    if (this.stopping || !this.all.has(inst)) return { kind: 'crash' };
    const id = randomUUID();
    const timeoutMs = this.timeoutSeconds * 1000;
    const startedAt = Date.now();
    return new Promise<InvokeOutcome>((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        console.error(`[local-stack] ${this.fn.name}: Task timed out after ${this.timeoutSeconds.toFixed(2)} seconds`);
        // As Lambda does: the invocation stops here, with everything it was doing; the instance is gone.
        this.timeouts++;
        const cur = inst.current;
        inst.current = undefined;
        this.all.delete(inst);
        inst.child.kill('SIGKILL');
        cur?.respond({ kind: 'timeout' });
        this.wake();
      }, timeoutMs);
      inst.current = {
        id,
        hooks,
        // The response (for a stream, its end); the instance stays busy until `end` (the handler returned).
        respond: (o) => {
          if (settled) return;
          settled = true;
          if (info) {
            info.startedAt = startedAt;
            info.endedAt = Date.now();
          }
          resolve(o);
        },
        end: () => clearTimeout(timer),
      };
      signal?.addEventListener('abort', () => inst.child.connected && inst.child.send({ type: 'abort', id }), { once: true });
      inst.child.send({ type: 'invoke', id, event, deadline: startedAt + timeoutMs });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    while (this.waiting.length) this.wake();
    await Promise.all([...this.all].map((i) => stopChild(i.child, 2000)));
  }
}

export function corsOriginAllowed(cors: UrlCors, origin: string | undefined): string | undefined {
  if (!origin) return undefined;
  if (cors.allowedOrigins.includes('*')) return cors.allowCredentials ? origin : '*';
  return cors.allowedOrigins.includes(origin) ? origin : undefined;
}

export function toEvent(req: IncomingMessage, body: Buffer, domainName: string) {
  const url = new URL(req.url ?? '/', `http://${domainName}`);
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i]!.toLowerCase();
    const v = req.rawHeaders[i + 1]!;
    if (k === 'cookie')
      cookies = [
        ...(cookies ?? []),
        ...v
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      ];
    else headers[k] = headers[k] === undefined ? v : `${headers[k]},${v}`;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const isText = body.length === 0 || TEXT_TYPE.test(headers['content-type'] ?? '');
  const now = new Date();
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0],
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

/** Replaces the function's own CORS headers with the URL's, as AWS does when the URL has CORS. */
function applyCors(headers: Record<string, string>, cors: UrlCors | undefined, origin: string | undefined) {
  if (!cors) return headers;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (!k.toLowerCase().startsWith('access-control-')) out[k] = v;
  const allow = corsOriginAllowed(cors, origin);
  if (allow) {
    out['access-control-allow-origin'] = allow;
    if (cors.exposedHeaders.length) out['access-control-expose-headers'] = cors.exposedHeaders.join(',');
    if (cors.allowCredentials) out['access-control-allow-credentials'] = 'true';
  }
  out.vary = !out.vary ? 'Origin' : /\borigin\b/i.test(out.vary) ? out.vary : `${out.vary}, Origin`;
  return out;
}

function lowerHeaders(h: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = String(v);
  return out;
}

export async function serveFunctionUrl(fn: LocalFunction, host: string, port: number): Promise<{ server: Server; url: string }> {
  const cors = fn.fn.url?.cors;
  const server = createServer(async (req, res) => {
    const started = Date.now();
    const origin = req.headers.origin;
    const log = (status: number) =>
      console.log(`[${fn.fn.name}] ${req.method} ${(req.url ?? '/').split('?')[0]} ${status} ${Date.now() - started}ms`);
    const plain = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, applyCors({ 'content-type': 'application/json', ...headers }, cors, origin));
      res.end(text);
      log(status);
    };

    // Preflight: answered by the URL's CORS configuration; the function never sees it.
    if (cors && req.method === 'OPTIONS' && origin && req.headers['access-control-request-method']) {
      const allow = corsOriginAllowed(cors, origin);
      const method = String(req.headers['access-control-request-method']).toUpperCase();
      const headers: Record<string, string> = { vary: 'Origin' };
      if (allow && (cors.allowedMethods.includes('*') || cors.allowedMethods.includes(method))) {
        headers['access-control-allow-origin'] = allow;
        headers['access-control-allow-methods'] = cors.allowedMethods.join(',');
        if (cors.allowedHeaders.length) headers['access-control-allow-headers'] = cors.allowedHeaders.join(',');
        if (cors.maxAge !== undefined) headers['access-control-max-age'] = String(cors.maxAge);
        if (cors.allowCredentials) headers['access-control-allow-credentials'] = 'true';
      }
      res.writeHead(200, headers);
      res.end();
      log(200);
      return;
    }

    // The body, up to the Function URL's 6 MB. Beyond that the rest is read and dropped (so the
    // client sees the 413 it is sent) and the connection is closed after it, never left hanging.
    const chunks: Buffer[] = [];
    const body = await new Promise<Buffer | null>((resolve) => {
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_REQUEST_BYTES) {
          if (size - c.length <= MAX_REQUEST_BYTES) resolve(null);
          if (size > 8 * MAX_REQUEST_BYTES) req.socket.destroy(); // not worth reading any further
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(size > MAX_REQUEST_BYTES ? null : Buffer.concat(chunks)));
      req.on('error', () => resolve(null));
    });
    if (body === null) {
      res.writeHead(413, applyCors({ 'content-type': 'application/json', connection: 'close' }, cors, origin));
      res.end(JSON.stringify({ message: 'Request Entity Too Large' }));
      log(413);
      return;
    }
    const event = toEvent(req, body, `${host}:${port}`);
    const gone = new AbortController();
    res.on('close', () => !res.writableFinished && gone.abort());
    let streamed = false;
    const outcome = await fn.invoke(
      event,
      {
        onStreamStart: (meta) => {
          streamed = true;
          const headers = applyCors(lowerHeaders(meta.headers), cors, origin);
          if (meta.cookies?.length) (headers as any)['set-cookie'] = meta.cookies;
          res.writeHead(meta.statusCode ?? 200, headers);
          res.flushHeaders();
        },
        onChunk: (data) => res.write(data),
      },
      gone.signal,
    );
    if (streamed) {
      res.end();
      log(res.statusCode);
      return;
    }
    if (outcome.kind !== 'result') {
      if (outcome.kind === 'error') console.error(`[${fn.fn.name}] handler error: ${outcome.error.name}: ${outcome.error.message}`);
      return plain(502, JSON.stringify({ message: 'Internal Server Error' }));
    }
    const result = outcome.result;
    if (result && typeof result === 'object' && 'statusCode' in result) {
      const headers = applyCors(lowerHeaders(result.headers), cors, origin);
      if (Array.isArray(result.cookies) && result.cookies.length) (headers as any)['set-cookie'] = result.cookies;
      res.writeHead(Number(result.statusCode), headers);
      const body = result.body ?? '';
      res.end(result.isBase64Encoded ? Buffer.from(String(body), 'base64') : String(body));
      log(Number(result.statusCode));
      return;
    }
    // A function that returns plain JSON: Lambda answers 200 with it as the body.
    plain(200, JSON.stringify(result));
  });
  // Keep idle connections longer than clients' pools do (as AWS's front ends do), so a client never
  // reuses a socket the server is closing ("other side closed" on a POST).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return { server, url: `http://${host}:${addr.port}/` };
}
