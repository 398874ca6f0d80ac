// Peak memory of the lead handler on one thread, in a fresh process, through the whole send path,
// and the connections it opened to DynamoDB.
// Usage: node bench/memory.mjs <lead bundle> <threadId> <client token of the thread's owner>
import { createRequire } from 'node:module';
import net from 'node:net';

const [bundle, threadId, token] = process.argv.slice(2);
// The connections the send opens to DynamoDB (each one a TLS handshake when deployed).
const dynamoPort = Number(new URL(process.env.AWS_ENDPOINT_URL_DYNAMODB ?? 'http://x:0').port);
let dynamoConnections = 0;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const o = args[0];
  const port = Number(Array.isArray(o) ? o[0]?.port : typeof o === 'object' ? o.port : o);
  if (port === dynamoPort) dynamoConnections++;
  return connect.apply(this, args);
};
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
  `${JSON.stringify({
    maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    heapUsedMb: Math.round(mu.heapUsed / 2 ** 20),
    dynamoConnections,
  })}\n`,
);
process.exit(0);
