import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';
import { documentClient, dynamoEndpoint, emulator, lambdaContext, postJson, stackUrls, urlEvent } from '@lead-intake/testkit';

const admin = emulator();
beforeEach(() => admin.reset());

const ALLOWED = 'http://localhost:4321';
const sessionRequests = async () => (await admin.requests()).filter((r) => r.path.startsWith('/v1/chatkit/sessions'));

/** What self-hosted mode needs in-process: the token secret and the test stack's usage table. */
const selfHostedEnv = () => ({
  CHATKIT_TOKEN_SECRET: LOCAL_TOKEN_SECRET,
  CHAT_LIMITS_TABLE_NAME: 'chatkit-lead-intake-chat-local-limits',
  AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint(),
  AWS_REGION: 'us-west-2',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
});

/** Loads the real handler module in-process with the given environment (a mode, a bound, a missing secret). */
function loadHandler(env: Record<string, string | undefined>) {
  const base = {
    ALLOWED_ORIGINS: 'https://chat.craigs.autos,https://craigs.autos,http://localhost:4321',
    CHATKIT_SESSION_TTL_SECONDS: undefined,
    POWERTOOLS_METRICS_DISABLED: 'true',
    CHATKIT_MODE: 'self-hosted',
    ...selfHostedEnv(),
    NEW_USERS_PER_SOURCE_IP_PER_HOUR: undefined,
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

describe('in-process', () => {
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

describe('through the local stack (Function URL): self-hosted identities', () => {
  const url = () => stackUrls().session;
  const chat = (token: string, body: unknown) => postJson(stackUrls().chat!, body, { authorization: `Bearer ${token}` });
  const input = (text: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {} });

  it(
    'the first mint creates a user: a client token, its expiry, ' + 'the server-issued user and a device credential; no OpenAI call',
    async () => {
      const before = Date.now();
      const res = await postJson(url(), { locale: 'en-US', pageUrl: 'https://craigs.autos/' }, { origin: ALLOWED });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        client_secret: expect.stringMatching(/^ckt1\./),
        expires_at: expect.any(Number),
        user: expect.stringMatching(/^u_[A-Za-z0-9_-]{22}$/),
        device_credential: expect.stringMatching(/^ckd1\./),
      });
      expect(res.body.expires_at).toBeGreaterThanOrEqual(Math.floor(before / 1000) + 600 - 1);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(await admin.requests()).toEqual([]);
      expect((await chat(res.body.client_secret, { type: 'threads.list', params: {} })).status).toBe(200);
    },
  );

  it('a refresh with the device credential resumes the same user with a new token; the visit rides in the token', async () => {
    const first = (await postJson(url(), {}, { origin: ALLOWED })).body;
    await new Promise((r) => setTimeout(r, 1100)); // a new iat, so a new token
    const again = await postJson(
      url(),
      { deviceCredential: first.device_credential, locale: 'es-MX', pageUrl: 'https://craigs.autos/frenos' },
      { origin: ALLOWED },
    );
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ user: first.user, device_credential: first.device_credential });
    expect(again.body.client_secret).not.toBe(first.client_secret);
    const claims = JSON.parse(Buffer.from(again.body.client_secret.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: first.user, loc: 'es-MX', url: 'https://craigs.autos/frenos' });
    expect((await postJson(url(), { user: first.user, deviceCredential: first.device_credential })).body.user).toBe(first.user);
  });

  it('naming another user without their credential never yields a token for them (with or without Origin)', async () => {
    // The victim chats and leaves a phone number.
    const victim = (await postJson(url(), {}, { origin: ALLOWED })).body;
    await admin.queue({ text: 'Thanks!' });
    const created = await fetch(stackUrls().chat!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${victim.client_secret}` },
      body: JSON.stringify({ type: 'threads.create', params: { input: input('Call me at 415-555-0142') } }),
    });
    const threadId = JSON.parse((await created.text()).split('\n\n')[0]!.slice(6)).thread.id;
    const attacker = (await postJson(url(), {})).body; // a plain curl: no Origin header
    const forged = `ckd1.${victim.user}.${attacker.device_credential.split('.')[2]}`;
    for (const [body, code] of [
      [{ user: victim.user }, 'device_credential_required'],
      [{ user: victim.user, deviceCredential: forged }, 'invalid_device_credential'],
      [{ user: victim.user, deviceCredential: attacker.device_credential }, 'invalid_device_credential'],
      [{ deviceCredential: forged }, 'invalid_device_credential'],
    ] as const) {
      for (const headers of [{}, { origin: ALLOWED }] as Array<Record<string, string>>) {
        const res = await postJson(url(), body, headers);
        expect([res.status, res.body.code]).toEqual([401, code]);
        expect(res.body.client_secret).toBeUndefined();
      }
    }
    // What the attacker can get (a token of their own) does not reach the victim's conversation.
    expect((await chat(attacker.client_secret, { type: 'threads.list', params: {} })).body.data).toEqual([]);
    expect((await chat(attacker.client_secret, { type: 'threads.get_by_id', params: { thread_id: threadId } })).status).toBe(404);
    expect((await chat(victim.client_secret, { type: 'threads.get_by_id', params: { thread_id: threadId } })).status).toBe(200);
  });

  it.each([
    ['user too long', { user: 'x'.repeat(129) }, 'invalid_user'],
    ['user with spaces', { user: 'a b' }, 'invalid_user'],
    ['user not a string', { user: 42 }, 'invalid_user'],
    ['empty user', { user: '' }, 'invalid_user'],
    ['deviceCredential not a string', { deviceCredential: 7 }, 'invalid_device_credential'],
    ['locale not BCP-47', { locale: 'not a locale!!' }, 'invalid_locale'],
    ['locale not a string', { locale: ['en'] }, 'invalid_locale'],
    ['relative pageUrl', { pageUrl: '/brakes' }, 'invalid_page_url'],
    ['javascript: pageUrl', { pageUrl: 'javascript:alert(1)' }, 'invalid_page_url'],
    ['ftp pageUrl', { pageUrl: 'ftp://craigs.autos/' }, 'invalid_page_url'],
    ['pageUrl over 2048 characters', { pageUrl: `https://craigs.autos/${'a'.repeat(2048)}` }, 'invalid_page_url'],
    ['non-JSON body', '{"user":', 'invalid_json'],
    ['a JSON array', '[1,2]', 'invalid_json'],
  ])('rejects %s with 400 and a reason', async (_label, body, code) => {
    const res = await postJson(url(), body, { origin: ALLOWED });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code, error: expect.any(String) });
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED); // the browser can read why
  });

  it('rejects a body over 16 KB (413), a wrong content type (415) and a GET (405)', async () => {
    expect((await postJson(url(), { pageUrl: 'https://a.b/', pad: 'x'.repeat(17 * 1024) })).status).toBe(413);
    const xml = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    expect(xml.status).toBe(415);
    const plain = await fetch(url(), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect(plain.status).toBe(415);
    const get = await fetch(url());
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('refuses a disallowed origin with 403 JSON', async () => {
    const res = await postJson(url(), {}, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'origin_not_allowed' });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('self-hosted, in-process: bounds on new users', () => {
  it('creates at most NEW_USERS_PER_SOURCE_IP_PER_HOUR users per source IP; refreshes and other IPs go on', async () => {
    const { handler } = loadHandler({ CHATKIT_MODE: 'self-hosted', ...selfHostedEnv(), NEW_USERS_PER_SOURCE_IP_PER_HOUR: '3' });
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    const mint = (body: object, sourceIp = ip) => {
      const event = urlEvent({ body: JSON.stringify(body) });
      event.requestContext.http.sourceIp = sourceIp;
      return handler(event, lambdaContext()).then((r: any) => ({ status: r.statusCode, headers: r.headers, body: JSON.parse(r.body) }));
    };
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await mint({}));
    expect(made.map((m) => m.status)).toEqual([200, 200, 200]);
    expect(new Set(made.map((m) => m.body.user)).size).toBe(3);
    const fourth = await mint({});
    expect(fourth.status).toBe(429);
    expect(fourth.body.code).toBe('too_many_new_users');
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);
    // A refresh is not a new user.
    expect((await mint({ deviceCredential: made[0]!.body.device_credential })).body.user).toBe(made[0]!.body.user);
    expect((await mint({}, '203.0.113.77')).status).toBe(200);
    // The counter keys on an HMAC of the IP, never the IP itself.
    const rows = await documentClient().send(new ScanCommand({ TableName: 'chatkit-lead-intake-chat-local-limits' }));
    expect(JSON.stringify(rows.Items)).not.toContain(ip);
    expect((rows.Items ?? []).some((r) => String(r.pk).startsWith('newuser#'))).toBe(true);
  });

  it('answers 500 on a missing CHATKIT_TOKEN_SECRET and logs one line naming it', async () => {
    const lines: string[] = [];
    const capture = (chunk: any) => (lines.push(String(chunk)), true);
    const spies = [
      jest.spyOn(process.stdout, 'write').mockImplementation(capture),
      jest.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    try {
      const { handler } = loadHandler({ CHATKIT_MODE: 'self-hosted', ...selfHostedEnv(), CHATKIT_TOKEN_SECRET: undefined });
      const a = await invoke(handler, {});
      expect(a.statusCode).toBe(500);
      expect(a.json.error).not.toMatch(/CHATKIT_TOKEN_SECRET/);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    expect(lines.filter((l) => l.includes('missing secret: CHATKIT_TOKEN_SECRET'))).toHaveLength(1);
  });
});

describe('a stage left in the legacy hosted mode (hosted sessions ended on 2026-11-30)', () => {
  it('answers 410 hosted_sessions_ended with the reason the browser can read; nothing is minted, no secret is needed', async () => {
    const lines: string[] = [];
    const capture = (chunk: any) => (lines.push(String(chunk)), true);
    const spies = [
      jest.spyOn(process.stdout, 'write').mockImplementation(capture),
      jest.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    let res: Awaited<ReturnType<typeof invoke>>;
    try {
      // No token secret, no OpenAI key, no workflow id: the mode needs none of them any more.
      const { handler } = loadHandler({ CHATKIT_MODE: 'hosted', CHATKIT_TOKEN_SECRET: undefined, CHAT_LIMITS_TABLE_NAME: undefined });
      res = await invoke(handler, { user: 'visitor_42', locale: 'es-MX', pageUrl: 'https://craigs.autos/frenos' }, { origin: ALLOWED });
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    expect(res.statusCode).toBe(410);
    expect(res.json).toEqual({ code: 'hosted_sessions_ended', error: expect.stringMatching(/ended with Agent Builder on 2026-11-30/) });
    expect(res.json.error).toMatch(/self-hosted/);
    expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(res.json.client_secret).toBeUndefined();
    expect(await admin.requests()).toEqual([]); // OpenAI is not asked
    const said = lines.filter((l) => l.includes('hosted ChatKit sessions ended'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/"level":"ERROR"/);
    expect(said[0]).not.toMatch(/visitor_42|frenos/); // what the browser sent stays out of the log
  });

  it('still refuses a bad request first (400 with its reason)', async () => {
    const { handler } = loadHandler({ CHATKIT_MODE: 'hosted' });
    const res = await invoke(handler, { pageUrl: 'javascript:alert(1)' }, { origin: ALLOWED });
    expect([res.statusCode, res.json.code]).toEqual([400, 'invalid_page_url']);
  });
});

describe('sls invoke local', () => {
  const dir = join(__dirname, '..');
  const invokeLocal = async (event: string, env: Record<string, string>, override: string[] = []) => {
    const { stdout } = await promisify(execFile)(
      'npx',
      [
        'sls',
        'invoke',
        'local',
        '-f',
        'session',
        '--path',
        `events/${event}`,
        '--stage',
        'local',
        ...override.flatMap((o) => ['--env', o]),
      ],
      {
        cwd: dir,
        env: { ...process.env, ...env, SLS_TELEMETRY_DISABLED: '1' },
        timeout: 120_000,
      },
    );
    const result = JSON.parse(stdout.slice(stdout.lastIndexOf('\n{\n') + 1));
    return { status: result.statusCode, body: JSON.parse(result.body) };
  };

  it('runs the handler with the sample events: a new user, then a refresh with the sample device credential', async () => {
    const env = selfHostedEnv();
    const created = await invokeLocal('session.json', env);
    expect(created).toMatchObject({
      status: 200,
      body: {
        client_secret: expect.stringMatching(/^ckt1\./),
        user: expect.stringMatching(/^u_/),
        device_credential: expect.stringMatching(/^ckd1\./),
      },
    });
    const refreshed = await invokeLocal('session-refresh.json', env);
    const sample = JSON.parse(JSON.parse(readFileSync(join(dir, 'events/session-refresh.json'), 'utf8')).body);
    expect(refreshed).toMatchObject({
      status: 200,
      body: { user: 'u_demoCustomer0000000001', device_credential: sample.deviceCredential },
    });
    expect(await sessionRequests()).toEqual([]);
  }, 180_000);

  it('in hosted mode (--env CHATKIT_MODE=hosted) answers 410: hosted sessions ended', async () => {
    // --env overrides what serverless.yml sets (the stage's chatkitMode).
    const hosted = await invokeLocal('session.json', {}, ['CHATKIT_MODE=hosted']);
    expect(hosted).toMatchObject({ status: 410, body: { code: 'hosted_sessions_ended' } });
    expect(await sessionRequests()).toEqual([]);
  }, 180_000);
});
