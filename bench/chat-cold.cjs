// One cold first turn of the self-hosted chat: a fresh Node process loads the chat bundle (a
// response-streaming handler, run as the Node.js Lambda runtime runs one) and answers one
// `threads.create`; a line goes to stdout at the first streamed byte, which the parent times from
// spawn. The stream is then read to its end (the turn must succeed).
// Usage: node bench/chat-cold.cjs <bundle> <event-json-file>
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

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  awsRequestId: 'cold',
  functionName: 'bench',
  getRemainingTimeInMillis: () => 60000,
  callbackWaitsForEmptyEventLoop: true,
};
let first = true;
let body = '';
const stream = new Writable({
  write(chunk, _enc, cb) {
    const text = chunk.toString('utf8');
    if (first && text.includes('data: ')) {
      first = false;
      process.stdout.write(`${JSON.stringify({ firstByte: true })}\n`);
    }
    body += text;
    cb();
  },
});
(async () => {
  await require(bundle).handler(event, stream, context);
  await new Promise((r) => (stream.writableFinished ? r() : stream.on('finish', r)));
  const ok = stream.meta?.statusCode === 200 && body.includes('"type":"thread.item.done"') && !body.includes('"type":"error"');
  process.stdout.write(`${JSON.stringify({ statusCode: ok ? 200 : 500 })}\n`, () => process.exit(0));
})();
