// Peak memory of the lead handler on one thread, in a fresh process, through the whole send path.
// Usage: node bench/memory.mjs <lead bundle> <threadId> <client token of the thread's owner>
import { createRequire } from 'node:module';

const [bundle, threadId, token] = process.argv.slice(2);
const { handler } = createRequire(import.meta.url)(bundle);
const event = {
  version: '2.0',
  rawPath: '/',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  requestContext: { http: { method: 'POST', path: '/' } },
  body: JSON.stringify({ threadId, reason: 'close' }),
  isBase64Encoded: false,
};
const res = await handler(event, { awsRequestId: 'mem', functionName: 'bench', getRemainingTimeInMillis: () => 30000 });
const body = JSON.parse(res.body);
if (body.reason !== 'sent') throw new Error(`expected sent, got ${res.body}`);
const mu = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({ maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), heapUsedMb: Math.round(mu.heapUsed / 2 ** 20) })}\n`,
);
process.exit(0);
