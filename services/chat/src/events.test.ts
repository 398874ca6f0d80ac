import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stackUrls } from '@lead-intake/testkit';

/**
 * The chat's sample events (services/chat/events). `sls invoke local` cannot run this function: it
 * is a response-streaming handler (`awslambda.streamifyResponse`), which invoke local does not
 * provide. The samples are the same Function URL requests, sent here to `npm run dev`'s chat URL
 * with their own headers and body (the sample user's client token, signed with the local secret).
 */
const dir = join(__dirname, '..', 'events');

it.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('%s is a request the chat answers', async (file) => {
  const event = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const res = await fetch(stackUrls().chat!, { method: event.requestContext.http.method, headers: event.headers, body: event.body });
  expect(res.status).toBe(200);
  const text = await res.text();
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) expect(text).toContain('"type":"thread.item.done"');
  else expect(JSON.parse(text)).toEqual(expect.any(Object));
});
