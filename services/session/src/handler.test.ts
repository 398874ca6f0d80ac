import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DateTime } from 'luxon';
import { computeShopState, loadShopProfile } from '@lead-intake/shop-hours';
import { emulator, emulatorBaseURL, lambdaContext, postJson, stackUrls, urlEvent } from '@lead-intake/testkit';

const admin = emulator();
beforeEach(() => admin.reset());

const ALLOWED = 'http://localhost:4321';
const sessionRequests = async () => (await admin.requests()).filter((r) => r.path.startsWith('/v1/chatkit/sessions'));

/** Loads the real handler module in-process with the given environment (for a frozen clock or tight timeouts). */
function loadHandler(env: Record<string, string | undefined>) {
  const base = {
    OPENAI_BASE_URL: emulatorBaseURL(),
    OPENAI_API_KEY: 'sk-test-session',
    CHATKIT_WORKFLOW_ID: 'wf_test_123',
    ALLOWED_ORIGINS: 'https://chat.craigs.autos,https://craigs.autos,http://localhost:4321',
    OPENAI_TIMEOUT_MS: '4000',
    OPENAI_MAX_RETRIES: '1',
    CHATKIT_SESSION_TTL_SECONDS: undefined,
    CHATKIT_RATE_LIMIT_PER_MINUTE: undefined,
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  for (const [k, v] of Object.entries({ ...base, ...env })) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let mod: typeof import('./handler');
  jest.isolateModules(() => {
    mod = require('./handler');
  });
  return mod!;
}

const invoke = async (handler: any, body: unknown, headers: Record<string, string> = {}, method = 'POST') => {
  const res = await handler(urlEvent({ body: typeof body === 'string' ? body : JSON.stringify(body), headers, method }), lambdaContext());
  return { ...res, json: res.body ? JSON.parse(res.body) : undefined };
};

describe('the exact upstream request', () => {
  it('sends user, workflow id, every state variable, expiry and rate limit, under a frozen clock', async () => {
    const frozen = DateTime.fromISO('2026-11-27T16:45', { zone: 'America/Los_Angeles' }).toJSDate();
    const { createSessionHandler } = loadHandler({ CHATKIT_SESSION_TTL_SECONDS: '900', CHATKIT_RATE_LIMIT_PER_MINUTE: '20' });
    const handler = createSessionHandler({ now: () => frozen });
    const res = await invoke(handler, { user: 'visitor_42', locale: 'es-mx', pageUrl: 'https://craigs.autos/brakes?x=1' }, { origin: ALLOWED });
    expect(res.statusCode).toBe(200);
    const [req, ...rest] = await sessionRequests();
    expect(rest).toEqual([]);
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/v1/chatkit/sessions');
    expect(req!.headers).toMatchObject({ authorization: 'Bearer sk-test-session', 'openai-beta': 'chatkit_beta=v1', 'content-type': 'application/json' });
    expect(req!.body).toEqual({
      user: 'visitor_42',
      workflow: {
        id: 'wf_test_123',
        state_variables: {
          locale: 'es-MX',
          page_url: 'https://craigs.autos/brakes?x=1',
          shop_timezone: 'America/Los_Angeles',
          shop_local_weekday: 'Friday',
          shop_local_time_24h: '16:45',
          shop_is_open_now: true,
          shop_next_open_day: 'Monday',
          shop_next_open_time: '8:00 AM',
        },
      },
      expires_after: { anchor: 'created_at', seconds: 900 },
      rate_limits: { max_requests_per_1_minute: 20 },
    });
    expect(res.json).toEqual({ client_secret: expect.stringMatching(/^ek_/), expires_at: expect.any(Number), user: 'visitor_42' });
  });

  it('answers preflight OPTIONS itself when no URL CORS is in front (invoke local, other hosts)', async () => {
    const { handler } = loadHandler({});
    const ok = await invoke(handler, '', { origin: ALLOWED, 'access-control-request-method': 'POST' }, 'OPTIONS');
    expect(ok.statusCode).toBe(204);
    expect(ok.headers).toMatchObject({ 'access-control-allow-origin': ALLOWED, 'access-control-allow-methods': 'POST' });
    const refused = await invoke(handler, '', { origin: 'https://evil.example' }, 'OPTIONS');
    expect(refused.statusCode).toBe(403);
    expect(await sessionRequests()).toEqual([]);
  });
});

describe('through the local stack (Function URL)', () => {
  const url = () => stackUrls().session;

  it('mints a session: client_secret, expires_at, the user, no-store, CORS', async () => {
    const before = Date.now();
    const res = await postJson(url(), { user: 'abc-123', locale: 'en-US', pageUrl: 'https://craigs.autos/' }, { origin: ALLOWED });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ client_secret: expect.stringMatching(/^ek_/), expires_at: expect.any(Number), user: 'abc-123' });
    expect(res.body.expires_at).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 600 - 1);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const [req] = await sessionRequests();
    const sent = (req!.body as any).workflow.state_variables;
    const candidates = [computeShopState(new Date(before), loadShopProfile()), computeShopState(new Date(), loadShopProfile())];
    const { locale, page_url, ...shop } = sent;
    expect(candidates).toContainEqual(shop); // recomputed at mint time (either side of a minute boundary)
    expect({ locale, page_url }).toEqual({ locale: 'en-US', page_url: 'https://craigs.autos/' });
  });

  it('generates a user id when none is sent, and accepts an empty or text/plain body', async () => {
    const res = await postJson(url(), '', { origin: ALLOWED });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatch(/^[0-9a-f-]{36}$/);
    const plain = await fetch(url(), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"user":"u1"}' });
    expect(plain.status).toBe(415);
  });

  it('serves refreshes: each call mints a new secret with the state recomputed', async () => {
    const a = await postJson(url(), { user: 'same-user' });
    const b = await postJson(url(), { user: 'same-user' });
    expect(a.body.client_secret).not.toBe(b.body.client_secret);
    expect(await sessionRequests()).toHaveLength(2);
  });

  it.each([
    ['user too long', { user: 'x'.repeat(129) }, 'invalid_user'],
    ['user with spaces', { user: 'a b' }, 'invalid_user'],
    ['user not a string', { user: 42 }, 'invalid_user'],
    ['empty user', { user: '' }, 'invalid_user'],
    ['locale not BCP-47', { locale: 'not a locale!!' }, 'invalid_locale'],
    ['locale not a string', { locale: ['en'] }, 'invalid_locale'],
    ['relative pageUrl', { pageUrl: '/brakes' }, 'invalid_page_url'],
    ['javascript: pageUrl', { pageUrl: 'javascript:alert(1)' }, 'invalid_page_url'],
    ['ftp pageUrl', { pageUrl: 'ftp://craigs.autos/' }, 'invalid_page_url'],
    ['pageUrl over 2048 characters', { pageUrl: `https://craigs.autos/${'a'.repeat(2048)}` }, 'invalid_page_url'],
    ['non-JSON body', '{"user":', 'invalid_json'],
    ['a JSON array', '[1,2]', 'invalid_json'],
  ])('rejects %s with 400 and a reason, and calls nothing upstream', async (_label, body, code) => {
    const res = await postJson(url(), body, { origin: ALLOWED });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code, error: expect.any(String) });
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED); // the browser can read why
    expect(await sessionRequests()).toEqual([]);
  });

  it('rejects a body over 16 KB (413), a wrong content type (415) and a GET (405)', async () => {
    expect((await postJson(url(), { pageUrl: 'https://a.b/', pad: 'x'.repeat(17 * 1024) })).status).toBe(413);
    const xml = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    expect(xml.status).toBe(415);
    const get = await fetch(url());
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await sessionRequests()).toEqual([]);
  });

  it('refuses a disallowed origin with 403 JSON and makes no upstream call', async () => {
    const res = await postJson(url(), { user: 'u' }, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'origin_not_allowed' });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(await sessionRequests()).toEqual([]);
  });

  it.each([
    ['a 500 on every attempt', { status: 500, times: 5 }],
    ['a 429 on every attempt', { status: 429, times: 5 }],
    ['a 400 (not retried)', { status: 400, times: 1 }],
    ['a 401 (bad key)', { status: 401, times: 1 }],
  ])('answers 502 without leaking anything on %s', async (_label, fault) => {
    await admin.fault({ path: '/v1/chatkit/sessions', ...fault });
    const res = await postJson(url(), { user: 'u' }, { origin: ALLOWED });
    expect(res.status).toBe(502);
    expect(res.body).toEqual({ error: expect.any(String), code: 'upstream_error' });
    expect(JSON.stringify(res.body)).not.toMatch(/Injected|fault|sk-|local-emulator-key/i);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  });

  it('retries once within its budget: one 500 then success is a 200', async () => {
    await admin.fault({ path: '/v1/chatkit/sessions', status: 500, times: 1 });
    const res = await postJson(url(), { user: 'u' });
    expect(res.status).toBe(200);
    expect(await sessionRequests()).toHaveLength(2);
  });
});

describe('in-process failure modes', () => {
  it('answers 502 when OpenAI does not answer in time', async () => {
    const { handler } = loadHandler({ OPENAI_TIMEOUT_MS: '200', OPENAI_MAX_RETRIES: '0' });
    await admin.fault({ path: '/v1/chatkit/sessions', delay_ms: 1500, times: 1 });
    const res = await invoke(handler, { user: 'u' }, { origin: ALLOWED });
    expect(res.statusCode).toBe(502);
    expect(res.json.code).toBe('upstream_error');
  });

  it('answers 500 on missing configuration and logs one line naming it, once', async () => {
    const lines: string[] = [];
    const capture = (chunk: any) => (lines.push(String(chunk)), true);
    const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
    try {
      const { handler } = loadHandler({ CHATKIT_WORKFLOW_ID: undefined });
      const a = await invoke(handler, { user: 'u' });
      const b = await invoke(handler, { user: 'u' });
      expect(a.statusCode).toBe(500);
      expect(b.statusCode).toBe(500);
      expect(a.json.error).not.toMatch(/CHATKIT_WORKFLOW_ID/); // named in the log, not to the browser
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    const configLines = lines.filter((l) => l.includes('missing secret: CHATKIT_WORKFLOW_ID'));
    expect(configLines).toHaveLength(1);
    expect(await sessionRequests()).toEqual([]);
  });
});

describe('sls invoke local', () => {
  it('runs the handler with the sample event against the local emulator', async () => {
    const dir = join(__dirname, '..');
    const { stdout } = await promisify(execFile)('npx', ['sls', 'invoke', 'local', '-f', 'session', '--path', 'events/session.json', '--stage', 'local'], {
      cwd: dir,
      env: { ...process.env, OPENAI_BASE_URL: emulatorBaseURL(), OPENAI_API_KEY: 'sk-invoke-local', CHATKIT_WORKFLOW_ID: 'wf_invoke', SLS_TELEMETRY_DISABLED: '1' },
      timeout: 120_000,
    });
    const result = JSON.parse(stdout.slice(stdout.lastIndexOf('\n{\n') + 1));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ client_secret: expect.stringMatching(/^ek_/), user: 'demo-user-1' });
    const [req] = await sessionRequests();
    expect((req!.body as any).workflow.id).toBe('wf_invoke');
    const sample = JSON.parse(readFileSync(join(dir, 'events/session.json'), 'utf8'));
    expect(JSON.parse(sample.body).user).toBe('demo-user-1');
  }, 120_000);
});
