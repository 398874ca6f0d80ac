import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ResolvedFunction, UrlCors } from './service-config';
import { stopChild } from './process';

/**
 * Serves one function the way its Lambda Function URL does: payload format 2.0 events, the URL's
 * CORS configuration applied outside the handler, buffered or streamed responses, the function's
 * timeout enforced (the instance is recycled, as Lambda does after a timeout).
 */

const MAX_REQUEST_BYTES = 6 * 1024 * 1024;
const TEXT_TYPE = /^(text\/|application\/(json|javascript|xml|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

type Pending = {
  resolve(v: InvokeOutcome): void;
  onStreamStart?(meta: { statusCode?: number; headers?: Record<string, string>; cookies?: string[] }): void;
  onChunk?(data: Buffer): void;
  /** The instance serving it. */
  child?: ChildProcess;
};
export type InvokeOutcome =
  | { kind: 'result'; result: any }
  | { kind: 'error'; error: { name: string; message: string; stack?: string } }
  | { kind: 'timeout' }
  | { kind: 'crash' }
  | { kind: 'streamed' };

export class LocalFunction {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private pending = new Map<string, Pending>();
  private stopping = false;

  constructor(
    readonly fn: ResolvedFunction,
    private readonly bundle: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  private spawn(): Promise<void> {
    const exportName = this.fn.handler.split('.').pop()!;
    const child = fork(
      join(__dirname, 'lambda-worker.ts'),
      [this.bundle, exportName, `${this.fn.service}-${this.fn.name}`, String(this.fn.memoryMb)],
      {
        env: this.env,
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    this.child = child;
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: any) => {
        if (m.type === 'ready') return resolve();
        if (m.type === 'init-error') return reject(new Error(`${this.fn.name} failed to initialise: ${m.error.message}`));
        const p = this.pending.get(m.id);
        if (!p) return;
        if (m.type === 'result') this.settle(m.id, { kind: 'result', result: m.result });
        else if (m.type === 'error') this.settle(m.id, { kind: 'error', error: m.error });
        else if (m.type === 'stream-start') p.onStreamStart?.(m.meta);
        else if (m.type === 'chunk') p.onChunk?.(Buffer.from(m.data, 'base64'));
        else if (m.type === 'stream-end') this.settle(m.id, { kind: 'streamed' });
      });
      child.once('exit', (code) => {
        reject(new Error(`${this.fn.name} exited during init (code ${code})`));
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        // Only this instance's invocations fail with it.
        for (const [id, p] of [...this.pending]) if (p.child === child) this.settle(id, { kind: 'crash' });
      });
    });
    ready.catch(() => undefined);
    return ready;
  }

  private settle(id: string, outcome: InvokeOutcome) {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.resolve(outcome);
    if (p.child && this.retiring.has(p.child)) this.killIfIdle(p.child);
  }

  /** Instances that timed out: they serve no new invocation and end once their others are done. */
  private readonly retiring = new Set<ChildProcess>();

  private killIfIdle(child: ChildProcess) {
    if ([...this.pending.values()].some((p) => p.child === child)) return;
    this.retiring.delete(child);
    child.kill('SIGKILL');
  }

  /** Starts the instance now (the local stack warms every function before it says `ready`). */
  warm(): Promise<void> {
    this.ready ??= this.spawn();
    return this.ready;
  }

  async invoke(event: unknown, hooks: Omit<Pending, 'resolve'> = {}, signal?: AbortSignal): Promise<InvokeOutcome> {
    if (this.stopping) return { kind: 'crash' };
    await this.warm();
    const child = this.child!;
    const id = randomUUID();
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    return new Promise<InvokeOutcome>((resolve) => {
      const timer = setTimeout(() => {
        console.error(`[local-stack] ${this.fn.name}: Task timed out after ${this.fn.timeoutSeconds.toFixed(2)} seconds`);
        // Lambda discards an instance that timed out; so do we. On Lambda that instance served
        // only this invocation: here it may be serving others, which finish (each with its own
        // deadline) before it is killed. New invocations go to a fresh instance.
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
        this.retiring.add(child);
        this.settle(id, { kind: 'timeout' });
      }, timeoutMs);
      this.pending.set(id, {
        ...hooks,
        child,
        resolve: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
      });
      signal?.addEventListener('abort', () => child.connected && child.send({ type: 'abort', id }), { once: true });
      child.send({ type: 'invoke', id, event, deadline: Date.now() + timeoutMs });
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child) await stopChild(this.child, 2000);
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
