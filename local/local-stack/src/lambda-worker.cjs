/**
 * One local "Lambda instance": a child process that loads a function's bundle (as built for the
 * deploy) and runs the invocations the parent sends over IPC, one at a time, as a Lambda instance
 * does. The parent kills the process when an invocation outlives the function's timeout, so no
 * holder of a lease can outlive it (as on AWS). Plain CommonJS: an instance starts without a
 * TypeScript loader, so starting more of them under load costs only the bundle's own import.
 */
'use strict';
const { randomUUID } = require('node:crypto');
const { Writable } = require('node:stream');

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const send = (m) => process.send(m);

/** The response stream the Node.js runtime hands to `awslambda.streamifyResponse` handlers. */
class ResponseStream extends Writable {
  constructor(id) {
    super();
    this.id = id;
    this.meta = undefined;
    this.started = false;
  }
  setContentType(type) {
    this.meta = { ...(this.meta ?? {}), headers: { ...(this.meta?.headers ?? {}), 'content-type': type } };
  }
  start() {
    if (this.started) return;
    this.started = true;
    send({
      type: 'stream-start',
      id: this.id,
      meta: this.meta ?? { statusCode: 200, headers: { 'content-type': 'application/octet-stream' } },
    });
  }
  _write(chunk, _enc, cb) {
    this.start();
    send({ type: 'chunk', id: this.id, data: Buffer.from(chunk).toString('base64') });
    cb();
  }
  _final(cb) {
    this.start();
    send({ type: 'stream-end', id: this.id });
    cb();
  }
}

globalThis.awslambda = {
  streamifyResponse(fn) {
    fn[STREAMING] = true;
    return fn;
  },
  HttpResponseStream: {
    from(stream, meta) {
      stream.meta = meta;
      return stream;
    },
  },
};

function serialize(e) {
  return { name: e?.name ?? 'Error', message: e?.message ?? String(e), stack: e?.stack };
}

const [bundle, exportName, functionName, memory] = process.argv.slice(2);
let handler;
try {
  handler = require(bundle)[exportName];
  if (typeof handler !== 'function') throw new Error(`${bundle} does not export a function named ${exportName}`);
} catch (e) {
  send({ type: 'init-error', error: serialize(e) });
  process.exit(1);
}

const streams = new Map();

process.on('message', async (msg) => {
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
      // Told even when the client went away (the stream was destroyed): the instance is free again.
      send({ type: 'done', id });
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
