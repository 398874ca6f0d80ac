// One cold start: a fresh Node process loads a handler module, answers one event and prints the
// result; the parent times spawn-to-answer (the line on stdout), not the process's teardown.
// CommonJS on purpose: an ESM entry would add the ESM loader's start-up to both sides.
// Usage: node bench/cold-start.cjs <module> <event-json-file>
const { readFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');

const [mod, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  awsRequestId: 'cold',
  functionName: 'bench',
  getRemainingTimeInMillis: () => 30000,
  callbackWaitsForEmptyEventLoop: true,
};
(async () => {
  const loaded = mod.endsWith('.mjs') ? await import(pathToFileURL(mod).href) : require(mod);
  const result = await loaded.handler(event, context);
  process.stdout.write(`${JSON.stringify({ statusCode: result.statusCode, body: result.body })}\n`, () => process.exit(0));
})();
