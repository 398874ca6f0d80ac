// Warm turns of the chat timed inside its instance: the chat bundle in a process of its own (run as
// the Node.js Lambda runtime runs a response-streaming handler) answers a new thread's first turn,
// then `times` more messages on that thread, each timed from the handler's call: to its first
// DynamoDB request at the socket, to the last DynamoDB answer before the first streamed byte, and
// to that byte; then to the model's request at the socket, to its first data (the emulator's
// first event), and to the first streamed text. The second half of the turns is reported
// (medians, ms), the first being warm-up.
// What no relay adds: the local Function URL server's (and Lambda's) hop is outside these times.
// Usage: node bench/chat-inside.cjs <bundle> <event-json-file: {first, then: [event], times}>
const { readFileSync } = require('node:fs');
const { Writable } = require('node:stream');
const http = require('node:http');

globalThis.awslambda = {
  streamifyResponse: (fn) => fn,
  HttpResponseStream: { from: (stream, meta) => Object.assign(stream, { meta }) },
};
let current = null;
const request = http.request;
http.request = function (...args) {
  const opts = args[0] instanceof URL || typeof args[0] === 'string' ? (typeof args[1] === 'object' && args[1]) || {} : args[0];
  const headers = opts.headers || {};
  const target = headers['x-amz-target'] || headers['X-Amz-Target'];
  const url = args[0] instanceof URL ? args[0] : typeof args[0] === 'string' ? new URL(args[0]) : null;
  const path = url ? url.pathname : opts.path || '';
  const r = { dynamo: Boolean(target), model: path.endsWith('/responses'), sent: performance.now() };
  if (current) current.requests.push(r);
  const req = request.apply(this, args);
  req.once('response', (res) => {
    r.answered = performance.now();
    // Seen as it is emitted: a listener of our own would switch the body to flowing mode under its reader.
    const emit = res.emit;
    res.emit = function (name, ...rest) {
      if (name === 'data' && r.firstData === undefined) r.firstData = performance.now();
      return emit.call(this, name, ...rest);
    };
  });
  return req;
};

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  awsRequestId: 'inside',
  functionName: 'bench',
  getRemainingTimeInMillis: () => 60000,
  callbackWaitsForEmptyEventLoop: true,
};

async function turn(handler, ev) {
  const t = { start: performance.now(), requests: [], firstByte: 0, firstText: 0 };
  current = t;
  let body = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      const text = chunk.toString('utf8');
      if (!t.firstByte && text.includes('data: ')) t.firstByte = performance.now();
      if (!t.firstText && text.includes('"assistant_message.content_part.text_delta"')) t.firstText = performance.now();
      body += chunk;
      cb();
    },
  });
  await handler(ev, stream, context);
  current = null;
  if (stream.meta?.statusCode !== 200 || !body.includes('"type":"thread.item.done"') || body.includes('"type":"error"'))
    throw new Error(`a turn did not complete: ${body.slice(0, 300)}`);
  return { t, body };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.ceil(s.length / 2) - 1] * 100) / 100;
};

(async () => {
  const { handler } = require(bundle);
  const first = await turn(handler, event.first);
  const threadId = /"thread":\{"id":"(cthr_[^"]+)"/.exec(first.body)[1];
  const next = JSON.parse(JSON.stringify(event.then[0]).replaceAll('__THREAD__', threadId));
  const measured = [];
  for (let n = 0; n < event.times; n++) {
    const { t } = await turn(handler, next);
    if (n >= event.times / 2) measured.push(t);
  }
  const before = (t) => t.requests.filter((r) => r.dynamo && r.sent < t.firstByte);
  const model = (t) => t.requests.find((r) => r.model);
  process.stdout.write(
    `${JSON.stringify({
      turns: measured.length,
      toFirstRequestMs: median(measured.map((t) => before(t)[0].sent - t.start)),
      dynamoAnsweredMs: median(measured.map((t) => Math.max(...before(t).map((r) => r.answered)) - t.start)),
      firstByteMs: median(measured.map((t) => t.firstByte - t.start)),
      dynamoRequestsBeforeFirstByte: median(measured.map((t) => before(t).length)),
      modelRequestSentMs: median(measured.map((t) => model(t).sent - t.start)),
      modelFirstDataMs: median(measured.map((t) => model(t).firstData - t.start)),
      firstTextMs: median(measured.map((t) => t.firstText - t.start)),
    })}\n`,
  );
  process.exit(0);
})().catch((e) => {
  process.stderr.write(`${e.stack}\n`);
  process.exit(1);
});
