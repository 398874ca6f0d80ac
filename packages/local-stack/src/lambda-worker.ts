/**
 * One local "Lambda instance": a child process that loads a function's bundle (as built for the
 * deploy) and runs invocations sent by the parent over IPC. A separate process per function keeps
 * each function's environment and module state apart, as on AWS.
 */
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';

type Meta = { statusCode?: number; headers?: Record<string, string>; cookies?: string[] };
type Msg = { type: 'invoke'; id: string; event: unknown; deadline: number } | { type: 'abort'; id: string };

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const send = (m: Record<string, unknown>) => process.send!(m);

/** The response stream the Node.js runtime hands to `awslambda.streamifyResponse` handlers. */
class ResponseStream extends Writable {
  meta: Meta | undefined;
  private started = false;
  constructor(private readonly id: string) {
    super();
  }
  setContentType(type: string) {
    this.meta = { ...(this.meta ?? {}), headers: { ...(this.meta?.headers ?? {}), 'content-type': type } };
  }
  private start() {
    if (this.started) return;
    this.started = true;
    send({
      type: 'stream-start',
      id: this.id,
      meta: this.meta ?? { statusCode: 200, headers: { 'content-type': 'application/octet-stream' } },
    });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void) {
    this.start();
    send({ type: 'chunk', id: this.id, data: Buffer.from(chunk).toString('base64') });
    cb();
  }
  override _final(cb: (e?: Error | null) => void) {
    this.start();
    send({ type: 'stream-end', id: this.id });
    cb();
  }
}

(globalThis as any).awslambda = {
  streamifyResponse(fn: (...a: unknown[]) => unknown) {
    (fn as any)[STREAMING] = true;
    return fn;
  },
  HttpResponseStream: {
    from(stream: ResponseStream, meta: Meta) {
      stream.meta = meta;
      return stream;
    },
  },
};

const [bundle, exportName, functionName, memory] = process.argv.slice(2) as [string, string, string, string];
let handler: any;
try {
  handler = require(bundle)[exportName];
  if (typeof handler !== 'function') throw new Error(`${bundle} does not export a function named ${exportName}`);
} catch (e) {
  send({ type: 'init-error', error: serialize(e) });
  process.exit(1);
}

const streams = new Map<string, ResponseStream>();

function serialize(e: unknown) {
  const err = e as Error;
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e), stack: err?.stack };
}

process.on('message', async (msg: Msg) => {
  if (msg.type === 'abort') {
    streams.get(msg.id)?.destroy();
    return;
  }
  const { id, event, deadline } = msg;
  const context = {
    awsRequestId: randomUUID(),
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: memory,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    if (handler[STREAMING]) {
      const stream = new ResponseStream(id);
      streams.set(id, stream);
      stream.on('close', () => streams.delete(id));
      await handler(event, stream, context);
      if (!stream.writableFinished && !stream.destroyed) stream.end();
      return;
    }
    const result = await handler(event, context);
    send({ type: 'result', id, result: result === undefined ? null : result });
  } catch (e) {
    send({ type: 'error', id, error: serialize(e) });
  }
});

// The parent is gone (even killed outright): an instance has nothing left to serve.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
