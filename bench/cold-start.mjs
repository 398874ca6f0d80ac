// One cold start: a fresh Node process loads a handler module, answers one event, prints the
// result and exits. Usage: node bench/cold-start.mjs <module> <event-json-file>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [mod, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = { awsRequestId: 'cold', functionName: 'bench', getRemainingTimeInMillis: () => 30000, callbackWaitsForEmptyEventLoop: true };
const loaded = mod.endsWith('.cjs') ? createRequire(import.meta.url)(mod) : await import(pathToFileURL(mod).href);
const result = await loaded.handler(event, context);
process.stdout.write(`${JSON.stringify({ statusCode: result.statusCode, body: result.body })}\n`);
process.exit(0);
