/// <reference lib="dom" />
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { clearSes, emulator, launchChromium, leadAuth, postJson, sesEmails, stackUrls, threads } from '@lead-intake/testkit';

/**
 * Real CORS and the real frontend flow in a real browser: a page served from an allowed origin
 * (http://localhost:4321) and from one that is not (http://127.0.0.1:4322) mints an identity at the
 * session Function URL, keeps its device credential, refreshes with it, chats with the self-hosted
 * ChatKit endpoint (Authorization: Bearer: a preflighted request), triggers the lead endpoint with
 * the token, and on `pagehide` sends the lead trigger with navigator.sendBeacon (token in the body).
 */
const admin = emulator();
let browser: Browser;
const servers: Server[] = [];

/** The test page: the calls the migration guide's frontend snippet makes. */
function page(sessionUrl: string, chatUrl: string, leadUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>chat</title></head><body>
<pre id="out"></pre>
<script>
  const out = (k, v) => { window.results = Object.assign(window.results || {}, { [k]: v }); };
  window.mint = async (key) => {
    try {
      const deviceCredential = localStorage.getItem('chat.deviceCredential') || undefined;
      const res = await fetch(${JSON.stringify(sessionUrl)}, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ deviceCredential, locale: navigator.language, pageUrl: location.href }),
      });
      const body = await res.json();
      if (res.ok) { localStorage.setItem('chat.deviceCredential', body.device_credential); window.token = body.client_secret; }
      out(key || 'session', { status: res.status, body });
    } catch (e) { out(key || 'session', { error: String(e) }); }
  };
  window.chat = async (text) => {
    try {
      const input = { content: [{ type: 'input_text', text }], attachments: [], inference_options: {} };
      const res = await fetch(${JSON.stringify(chatUrl)}, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + window.token },
        body: JSON.stringify({ type: 'threads.create', params: { input } }),
      });
      const events = (await res.text()).split('\\n\\n').filter((f) => f.startsWith('data: ')).map((f) => JSON.parse(f.slice(6)));
      window.threadId = events[0] && events[0].thread && events[0].thread.id;
      out('chat', { status: res.status, types: events.map((e) => e.type) });
    } catch (e) { out('chat', { error: String(e) }); }
  };
  window.trigger = async (threadId, reason) => {
    try {
      const res = await fetch(${JSON.stringify(leadUrl)}, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + window.token },
        body: JSON.stringify({ threadId, reason }),
      });
      out('lead', { status: res.status, body: await res.json() });
    } catch (e) { out('lead', { error: String(e) }); }
  };
  // The ChatKit client's two-phase upload (composer.attachments.uploadStrategy: { type: 'two_phase' }):
  // attachments.create, a PUT of the bytes to the upload URL, then the message that names it.
  window.sendPhoto = async (text) => {
    const step = (s) => out('photoStep', s);
    try {
      const bytes = new Uint8Array(2048).map((_, i) => (i * 7) % 256);
      bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
      const post = (body) => fetch(${JSON.stringify(chatUrl)}, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer ' + window.token },
        body: JSON.stringify(body),
      });
      step('create');
      const params = { name: 'dent.jpg', size: bytes.length, mime_type: 'image/jpeg' };
      const att = await (await post({ type: 'attachments.create', params })).json();
      step('upload');
      const d = att.upload_descriptor;
      const put = await fetch(d.url, { method: d.method, headers: d.headers, body: new Blob([bytes], { type: 'image/jpeg' }) });
      step('send');
      const input = { content: [{ type: 'input_text', text }], attachments: [att.id], inference_options: {} };
      const res = await post({ type: 'threads.create', params: { input } });
      const events = (await res.text()).split('\\n\\n').filter((f) => f.startsWith('data: ')).map((f) => JSON.parse(f.slice(6)));
      const mine = events.find((e) => e.type === 'thread.item.done' && e.item.type === 'user_message');
      const preview = mine && (await fetch(mine.item.attachments[0].preview_url));
      out('photo', {
        put: put.status,
        status: res.status,
        types: events.map((e) => e.type),
        attachment: mine && mine.item.attachments[0].name,
        previewBytes: preview ? (await preview.arrayBuffer()).byteLength : null,
      });
    } catch (e) { out('photo', { error: String(e) }); }
  };
  window.armBeacon = (threadId) => {
    addEventListener('pagehide', () => {
      navigator.sendBeacon(${JSON.stringify(leadUrl)}, JSON.stringify({ threadId, reason: 'pagehide', token: window.token }));
    });
  };
</script></body></html>`;
}

async function serve(port: number, html: string): Promise<void> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  servers.push(server);
}

beforeAll(async () => {
  const { session, lead, chat } = stackUrls();
  // Same page, two origins: localhost:4321 is allowed (stages.config.json), 127.0.0.1:4322 is not.
  await serve(4321, page(session, chat!, lead));
  await serve(4322, page(session, chat!, lead));
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});
beforeEach(async () => {
  await admin.reset();
  await clearSes();
});

const results = (p: import('playwright-core').Page) => p.evaluate(() => (window as any).results);

it('an allowed origin: first mint, refresh with the kept credential, a chat turn, and the lead, all cross-origin', async () => {
  const p = await browser.newPage();
  await p.goto('http://localhost:4321/chat');
  await p.evaluate(() => (window as any).mint('first'));
  await p.evaluate(() => (window as any).mint('refresh'));
  await admin.queue({ text: 'Thanks! The shop will call you.' });
  await p.evaluate(() => (window as any).chat('Need new tires, call 415-555-2671'));
  const threadId = await p.evaluate(() => (window as any).threadId);
  await p.evaluate((tid) => (window as any).trigger(tid, 'manual'), threadId);
  const r = await results(p);
  expect(r.first).toEqual({
    status: 200,
    body: {
      client_secret: expect.stringMatching(/^ckt1\./),
      expires_at: expect.any(Number),
      user: expect.stringMatching(/^u_/),
      device_credential: expect.stringMatching(/^ckd1\./),
    },
  });
  expect(r.refresh.body.user).toBe(r.first.body.user); // the credential kept in localStorage resumed the same user
  expect(r.chat).toEqual({
    status: 200,
    types: expect.arrayContaining(['thread.created', 'thread.item.done', 'stream_options', 'thread.updated']),
  });
  expect(r.lead).toEqual({ status: 200, body: { sent: true, reason: 'sent' } });
  // The page the chat ran on reached the assistant's instructions, and the lead email's link.
  const [turn] = (await admin.requests()).filter((x) => x.path === '/v1/responses' && (x.body as any).stream === true);
  expect((turn!.body as any).instructions).toContain('Page: "http://localhost:4321/chat"');
  const mail = (await sesEmails()).find((m) => m.body.text?.includes(threadId))!;
  expect(mail.body.text).toContain('http://localhost:4321/chat');
  await p.close();
}, 60_000);

it('a disallowed origin is refused: the page sees the failure and no upstream call is made', async () => {
  const p = await browser.newPage();
  await p.goto('http://127.0.0.1:4322/chat');
  await p.evaluate(() => (window as any).mint());
  await p.evaluate(() => (window as any).chat('hello'));
  await p.evaluate(() => (window as any).trigger('cthr_whatever', 'manual'));
  const r = await results(p);
  expect(r.session.error).toMatch(/TypeError|Failed to fetch/);
  expect(r.chat.error).toMatch(/TypeError|Failed to fetch/);
  expect(r.lead.error).toMatch(/TypeError|Failed to fetch/);
  expect(await admin.requests()).toEqual([]);
  await p.close();
}, 60_000);

it(
  'on pagehide the page sends the trigger with navigator.sendBeacon ' + '(text/plain, the token in the body) and the email arrives',
  async () => {
    const p = await browser.newPage();
    await p.goto('http://localhost:4321/chat');
    await p.evaluate(() => (window as any).mint());
    await p.evaluate(() => (window as any).chat('My windshield is cracked, reach me at beacon.user@example.com'));
    const id = await p.evaluate(() => (window as any).threadId);
    await p.evaluate((tid) => (window as any).armBeacon(tid), id);
    await p.goto('about:blank'); // leaving the page fires pagehide
    const deadline = Date.now() + 15_000;
    let mails = await sesEmails();
    while (!mails.some((m) => m.body.text?.includes(id)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      mails = await sesEmails();
    }
    const mail = mails.find((m) => m.body.text?.includes(id));
    expect(mail).toBeDefined();
    expect(mail!.body.text).toContain('trigger: pagehide');
    expect(mail!.replyTo.join(',')).toContain('beacon.user@example.com');
    await p.close();
  },
  60_000,
);

it('uploads a photo from an allowed origin through the two-phase flow to S3, and the message with it streams back', async () => {
  const p = await browser.newPage();
  await p.goto('http://localhost:4321/chat');
  await p.evaluate(() => (window as any).mint());
  await admin.queue({ text: 'That dent can be pulled.' });
  await p.evaluate(() => (window as any).sendPhoto('Here is the dent'));
  const r = await results(p);
  expect(r.photo).toEqual({
    put: 200,
    status: 200,
    types: expect.arrayContaining(['thread.created', 'thread.item.done', 'stream_options', 'thread.item.added']),
    attachment: 'dent.jpg',
    previewBytes: 2048,
  });
  // The model saw the photo.
  const turn = (await admin.requests()).find((x) => x.path === '/v1/responses' && (x.body as any).stream === true)!;
  expect((turn.body as any).input.at(-1).content.map((c: any) => c.type)).toEqual(['input_text', 'input_image']);
  await p.close();
}, 60_000);

it('from a disallowed origin the upload itself is refused by the bucket’s CORS rules', async () => {
  // The page at 127.0.0.1:4322 cannot reach the chat at all; give it an upload URL the way a leaked
  // one would be used, and it is still refused by S3's CORS.
  const { chatRequest, chatToken } = await import('@lead-intake/testkit');
  const token = await chatToken('u_browserCorsUploader001');
  const att = (await chatRequest({ type: 'attachments.create', params: { name: 'x.jpg', size: 4, mime_type: 'image/jpeg' } }, { token }))
    .json;
  const p = await browser.newPage();
  await p.goto('http://127.0.0.1:4322/chat');
  const outcome = await p.evaluate(async (d) => {
    try {
      const r = await fetch(d.url, { method: d.method, headers: d.headers, body: new Blob([new Uint8Array([1, 2, 3, 4])]) });
      return `status ${r.status}`;
    } catch (e) {
      return String(e);
    }
  }, att.upload_descriptor);
  expect(outcome).toMatch(/TypeError|Failed to fetch/);
  // And from the allowed origin the same URL works.
  const ok = await browser.newPage();
  await ok.goto('http://localhost:4321/chat');
  const put = await ok.evaluate(
    async (d) => (await fetch(d.url, { method: d.method, headers: d.headers, body: new Blob([new Uint8Array([1, 2, 3, 4])]) })).status,
    att.upload_descriptor,
  );
  expect(put).toBe(200);
  await p.close();
  await ok.close();
}, 60_000);

it('renders the received lead email in Chromium: nothing executes, nothing is fetched, the layout holds', async () => {
  const evil = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';
  const id = await threads.seedThread({ user: 'u', items: [{ role: 'user', text: `${evil} call 415-555-2671` }] });
  await postJson(stackUrls().lead, { threadId: id, reason: 'close' }, leadAuth(id));
  const mail = (await sesEmails()).find((m) => m.body.text?.includes(id))!;
  const p = await browser.newPage({ viewport: { width: 720, height: 900 } });
  const fetched: string[] = [];
  await p.route('**/*', (route) => {
    fetched.push(route.request().url());
    return route.abort();
  });
  await p.setContent(mail.body.html!, { waitUntil: 'load' });
  expect(await p.evaluate(() => (window as any).pwned)).toBeUndefined();
  expect(fetched).toEqual([]);
  expect(await p.locator('a[href="tel:+14155552671"]').count()).toBeGreaterThan(0);
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(720); // no horizontal overflow at a phone-ish width
  const png = await p.screenshot({ fullPage: true });
  expect(png.length).toBeGreaterThan(10_000);
  await p.close();
}, 60_000);
