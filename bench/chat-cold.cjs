// One cold first turn of the self-hosted chat: a fresh Node process loads the chat bundle (a
// response-streaming handler, run as the Node.js Lambda runtime runs one) and answers one
// `threads.create`; a line goes to stdout at the first streamed byte, which the parent times from
// spawn. The stream is then read to its end (the turn must succeed).
// Usage: node bench/chat-cold.cjs <bundle> <event-json-file>
// The event file may also hold {first, then, times}: the first turn, then `then` `times` times on
// its thread (the bench counts a warm turn's DynamoDB requests this way).
const { readFileSync } = require('node:fs');
const { Writable } = require('node:stream');

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
globalThis.awslambda = {
  streamifyResponse(fn) {
    fn[STREAMING] = true;
    return fn;
  },
  HttpResponseStream: { from: (stream, meta) => Object.assign(stream, { meta }) },
};

// BENCH_PHASES=1: where the time goes, on the last line (ms since the process started): the
// bundle's load, the handler's start, each outgoing request (DynamoDB operation or OpenAI path:
// sent, answered, ended) and the first streamed byte. Recorded by wrapping node:http as a
// runtime would see the calls; nothing in the bundle changes.
const at = () => Math.round(performance.now() * 10) / 10;
const phases = process.env.BENCH_PHASES === '1' ? { started: at(), requests: [] } : null;
if (phases) {
  const http = require('node:http');
  const request = http.request;
  http.request = function (...args) {
    // request(options[, cb]) or request(url[, options][, cb]) (the OpenAI client's: a URL, its path there).
    const url = args[0] instanceof URL ? args[0] : typeof args[0] === 'string' ? new URL(args[0]) : null;
    const opts = url ? (typeof args[1] === 'object' && args[1]) || {} : args[0];
    const headers = opts.headers || {};
    const target = headers['x-amz-target'] || headers['X-Amz-Target'];
    const r = { what: target ? String(target).split('.').pop() : (url ? url.pathname : opts.path) || '?', sent: at() };
    phases.requests.push(r);
    const req = request.apply(this, args);
    req.once('response', (res) => {
      r.answered = at();
      res.once('end', () => (r.ended = at()));
    });
    return req;
  };
}

const [bundle, eventFile] = process.argv.slice(2);
const FLOOR = require('node:path').basename(bundle).startsWith('floor-');
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  awsRequestId: 'cold',
  functionName: 'bench',
  getRemainingTimeInMillis: () => 60000,
  callbackWaitsForEmptyEventLoop: true,
};
/** One turn through the handler: its streamed body and whether it succeeded. */
async function turn(handler, ev, onFirst) {
  let first = true;
  let body = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      const text = chunk.toString('utf8');
      if (first && text.includes('data: ')) {
        first = false;
        onFirst?.();
      }
      body += text;
      cb();
    },
  });
  await handler(ev, stream, context);
  await new Promise((r) => (stream.writableFinished ? r() : stream.on('finish', r)));
  // A floor (bench/floor-chat.cjs) streams one event and ends: it has no turn to complete.
  const done = FLOOR ? body.includes('data: ') : body.includes('"type":"thread.item.done"');
  const ok = stream.meta?.statusCode === 200 && done && !body.includes('"type":"error"');
  return { ok, body };
}

(async () => {
  const loaded = require(bundle);
  if (phases) phases.loaded = at();
  const firstTurn = await turn(loaded.handler, event.then ? event.first : event, () => {
    if (phases) phases.firstByte = at();
    process.stdout.write(`${JSON.stringify({ firstByte: true })}\n`);
  });
  if (phases) phases.done = at();
  let ok = firstTurn.ok;
  // {first, then: [events], times}: then more turns on the thread the first one created ("__THREAD__" in their bodies).
  if (event.then && ok) {
    const threadId = /"thread":\{"id":"(cthr_[^"]+)"/.exec(firstTurn.body)?.[1];
    for (let n = 0; n < event.times && ok; n++)
      for (const next of event.then)
        ok = ok && (await turn(loaded.handler, JSON.parse(JSON.stringify(next).replaceAll('__THREAD__', threadId)))).ok;
  }
  process.stdout.write(`${JSON.stringify({ statusCode: ok ? 200 : 500, phases })}\n`, () => process.exit(0));
})();
