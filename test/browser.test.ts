/// <reference lib="dom" />
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { clearSes, emulator, launchChromium, sesEmails, stackUrls } from '@lead-intake/testkit';

/**
 * Real CORS in a real browser: a page served from an allowed origin (http://localhost:4321) and
 * from one that is not (http://127.0.0.1:4322) calls the session and lead Function URLs of the
 * local stack cross-origin; on `pagehide` it sends the lead trigger with navigator.sendBeacon.
 */
const admin = emulator();
let browser: Browser;
const servers: Server[] = [];

/** The test page: the same shape of calls the shop's frontend makes. */
function page(sessionUrl: string, leadUrl: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>chat</title></head><body>
<pre id="out"></pre>
<script>
  const out = (k, v) => { window.results = Object.assign(window.results || {}, { [k]: v }); };
  window.mint = async (user) => {
    try {
      const res = await fetch(${JSON.stringify(sessionUrl)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, locale: navigator.language, pageUrl: location.href }) });
      out('session', { status: res.status, body: await res.json() });
    } catch (e) { out('session', { error: String(e) }); }
  };
  window.trigger = async (threadId, reason) => {
    try {
      const res = await fetch(${JSON.stringify(leadUrl)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ threadId, reason }) });
      out('lead', { status: res.status, body: await res.json() });
    } catch (e) { out('lead', { error: String(e) }); }
  };
  window.armBeacon = (threadId) => {
    addEventListener('pagehide', () => {
      navigator.sendBeacon(${JSON.stringify(leadUrl)}, JSON.stringify({ threadId, reason: 'pagehide' }));
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
  const { session, lead } = stackUrls();
  // Same page, two origins: localhost:4321 is allowed (stages.config.json), 127.0.0.1:4322 is not.
  await serve(4321, page(session, lead));
  await serve(4322, page(session, lead));
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

it('an allowed origin mints a session and triggers the lead endpoint cross-origin', async () => {
  const id = await admin.seedThread({ user: 'browser-user', items: [{ role: 'user', text: 'Need new tires, call 415-555-2671' }] });
  const p = await browser.newPage();
  await p.goto('http://localhost:4321/chat');
  await p.evaluate(() => (window as any).mint('browser-user'));
  await p.evaluate((tid) => (window as any).trigger(tid, 'manual'), id);
  const r = await results(p);
  expect(r.session).toEqual({ status: 200, body: { client_secret: expect.stringMatching(/^ek_/), expires_at: expect.any(Number), user: 'browser-user' } });
  expect(r.lead).toEqual({ status: 200, body: { sent: true, reason: 'sent' } });
  const [req] = (await admin.requests()).filter((x) => x.path === '/v1/chatkit/sessions');
  expect((req!.body as any).workflow.state_variables.page_url).toBe('http://localhost:4321/chat');
  await p.close();
}, 60_000);

it('a disallowed origin is refused: the page sees the failure and no upstream call is made', async () => {
  const p = await browser.newPage();
  await p.goto('http://127.0.0.1:4322/chat');
  await p.evaluate(() => (window as any).mint('someone'));
  await p.evaluate(() => (window as any).trigger('cthr_whatever', 'manual'));
  const r = await results(p);
  expect(r.session.error).toMatch(/TypeError|Failed to fetch/);
  expect(r.lead.error).toMatch(/TypeError|Failed to fetch/);
  expect(await admin.requests()).toEqual([]);
  await p.close();
}, 60_000);

it('on pagehide the page sends the trigger with navigator.sendBeacon (text/plain) and the email arrives', async () => {
  const id = await admin.seedThread({ user: 'u', items: [{ role: 'user', text: 'My windshield is cracked, reach me at beacon.user@example.com' }, { role: 'assistant', text: 'Thanks!' }] });
  const p = await browser.newPage();
  await p.goto('http://localhost:4321/chat');
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
}, 60_000);

it('renders the received lead email in Chromium: nothing executes, nothing is fetched, the layout holds', async () => {
  const evil = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';
  const id = await admin.seedThread({ user: 'u', items: [{ role: 'user', text: `${evil} call 415-555-2671` }] });
  const { postJson } = await import('@lead-intake/testkit');
  await postJson(stackUrls().lead, { threadId: id, reason: 'close' });
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
