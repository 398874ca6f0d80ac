import { readFileSync, statSync } from 'node:fs';

/** Where the shared stack's log ends now: a test reads only what came after. */
const stackLogOffset = () => statSync(process.env.TEST_STACK_LOG!).size;
/** The stack's log from `offset`, once `ready` holds for it (the stack writes asynchronously), within 10 s. */
async function stackLogSince(offset: number, ready: (log: string) => boolean): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const log = readFileSync(process.env.TEST_STACK_LOG!).subarray(offset).toString('utf8');
    if (ready(log) || Date.now() > deadline) return log;
    await new Promise((r) => setTimeout(r, 50));
  }
}
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SeedItem } from '@lead-intake/openai-emulator';
import {
  applyEnv,
  clearFollowUps,
  clearSes,
  clientTokenFor,
  ledgerTableName,
  documentClient,
  emulator,
  inboxUrl,
  lambdaContext,
  leadAuth,
  leadEnv,
  leadSummary,
  postJson,
  sesEmails,
  stackUrls,
  threads,
  urlEvent,
} from '@lead-intake/testkit';

const admin = emulator();
const ALLOWED = 'https://chat.craigs.autos';
const url = () => stackUrls().lead;

beforeEach(async () => {
  await admin.reset();
  await clearSes();
  await clearFollowUps(); // the same phone number in every test is a new customer each time
});

const user = (text: string, extra: Partial<SeedItem> = {}): SeedItem => ({ role: 'user', text, ...extra });
const bot = (text: string): SeedItem => ({ role: 'assistant', text });

const summary = leadSummary;

/** A lead trigger as the browser sends it: the thread's owner's client token in `Authorization`. */
const trigger = (
  threadId: string,
  reason = 'pagehide',
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = { origin: ALLOWED },
) => postJson(url(), { threadId, reason, ...extra }, { ...leadAuth(threadId), ...headers });
const responsesCalls = async () => (await admin.requests()).filter((r) => r.path === '/v1/responses');

describe('the lead email, end to end through the local stack (self-hosted conversations)', () => {
  it('sends one email with everything, in both parts, to the shop, replying to the customer', async () => {
    const id = await threads.seedThread({
      user: 'visitor-1',
      items: [
        user('Hi, my 2016 Tacoma has the check engine light on since Monday.'),
        bot('Sorry to hear that! What is your name and the best number to reach you?'),
        user('Dana Whitfield, 415-555-2671, or dana.w@Example.org', {
          attachments: [{ name: 'dash.jpg', mime_type: 'image/jpeg', preview_url: 'https://files.example.com/dash.jpg' }],
        }),
        bot('Thanks Dana, the team will call you.'),
      ],
    });
    await admin.queueOutput(summary());
    const res = await trigger(id, 'pagehide', { pageUrl: 'https://craigs.autos/check-engine' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sent: true, reason: 'sent' });
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);

    const [mail, ...more] = await sesEmails();
    expect(more).toEqual([]);
    expect(mail!.from).toContain('victor@craigs.autos');
    expect(mail!.destination.to.join(',')).toContain('victor@craigs.autos');
    expect(mail!.replyTo.join(',')).toContain('dana.w@example.org');
    expect(mail!.subject).toBe('New lead: Dana Whitfield - Check engine light on');
    for (const part of [mail!.body.html!, mail!.body.text!]) {
      for (const needle of [
        'Dana Whitfield',
        '(415) 555-2671',
        'dana.w@example.org',
        'Check engine light on since Monday',
        'Mileage',
        'Call Dana to book a diagnostic',
        'Ask if it blinks.',
        'Can we call you today?',
        'Your Tacoma check engine light',
        'this is Craig',
        'has the check engine light on since Monday',
        'Roxana',
        'dash.jpg',
        'https://files.example.com/dash.jpg',
        `https://platform.openai.com/logs/${id}`,
        'https://craigs.autos/check-engine',
      ]) {
        expect({ needle, found: part.includes(needle) }).toEqual({ needle, found: true });
      }
    }
    expect(mail!.body.html).toContain('href="tel:+14155552671"');
    expect(mail!.body.html).toContain('href="sms:+14155552671');
    expect(mail!.body.html).toContain('href="mailto:dana.w@example.org');

    // The summary request: the configured model, strict Structured Outputs, the whole transcript.
    const [call] = await responsesCalls();
    const body = call!.body as any;
    expect(body.model).toBe('gpt-5.2-2025-12-11');
    expect(body.store).toBe(false);
    expect(body.text.format).toMatchObject({ type: 'json_schema', name: 'lead_summary', strict: true });
    expect(Object.keys(body.text.format.schema.properties)).toEqual(
      expect.arrayContaining(['handoff_ready', 'customer_language', 'call_script_prompts', 'outreach_message']),
    );
    expect(body.text.format.schema.properties.call_script_prompts).toMatchObject({ minItems: 3, maxItems: 3 });
    expect(body.instructions).toMatch(/never guess/i);
    expect(body.instructions).toMatch(/prices/i);
    expect(JSON.stringify(body.input)).toContain('Roxana: Thanks Dana, the team will call you.');
  });

  it('reads a long transcript whole, in order', async () => {
    const items = Array.from({ length: 230 }, (_, n) => (n % 2 ? bot(`answer ${n}`) : user(`question ${n}`)));
    items[5] = user('call me at 415-555-2671');
    const id = await threads.seedThread({ user: 'u', items });
    await admin.queueOutput(summary());
    expect((await trigger(id, 'close')).body).toEqual({ sent: true, reason: 'sent' });
    const [mail] = await sesEmails();
    expect(mail!.body.text!.indexOf('question 0')).toBeLessThan(mail!.body.text!.indexOf('answer 229'));
    expect(mail!.body.text).toContain('question 0');
    expect(mail!.body.text).toContain('answer 229');
    expect(mail!.body.html).toContain('Transcript (230 messages)');
  });

  it('writes the outreach in the customer’s language (a Spanish conversation)', async () => {
    const id = await threads.seedThread({
      user: 'u',
      items: [
        user('Hola, necesito cambiar el aceite de mi Corolla 2019. Mi número es 408-555-0199.'),
        bot('¡Claro! ¿Cómo se llama?'),
        user('Me llamo Lucía.'),
      ],
    });
    await admin.queueOutput(
      summary({
        customer_name: 'Lucía',
        customer_language: 'Spanish',
        project_summary: 'Oil change',
        outreach_message: 'Hola Lucía, le escribimos de Craig’s Autos sobre el cambio de aceite de su Corolla.',
        sms_draft: 'Hola Lucía, ¿cuándo le conviene traer su Corolla?',
      }),
    );
    expect((await trigger(id, 'idle')).body).toEqual({ sent: true, reason: 'sent' });
    const [mail] = await sesEmails();
    expect(mail!.subject).toBe('New lead: Lucía - Oil change');
    expect(mail!.body.text).toContain('Outreach (Spanish):');
    expect(mail!.body.text).toContain('Hola Lucía, le escribimos de Craig’s Autos');
    expect(mail!.body.html).toContain('Hola Lucía, ¿cuándo le conviene traer su Corolla?');
    const [call] = await responsesCalls();
    expect((call!.body as any).instructions).toMatch(/customer's language/);
  });

  it("excludes the shop's own number in every spelling: no contact, no summary, no email", async () => {
    const id = await threads.seedThread({
      user: 'u',
      items: [user('Is (408) 379-3820 your number? Or 408.379.3820, +1 408 379 3820, 4083793820?'), bot('Yes, that is us.')],
    });
    expect((await trigger(id, 'close')).body).toEqual({ sent: false, reason: 'no_contact' });
    expect(await responsesCalls()).toEqual([]);
    expect(await sesEmails()).toEqual([]);
  });

  it('one address that cannot be sent to never loses a lead that has a phone number: sent, without that Reply-To', async () => {
    for (const text of [
      'my email is ...@example.com and phone (415) 723-4603',
      'email .@gmail.com, phone (415) 723-4603',
      `write to ${'b'.repeat(1500)}@example.com or (415) 723-4603`,
    ]) {
      await clearSes();
      const id = await threads.seedThread({ user: 'u', items: [user(text)] });
      await admin.queueOutput(summary({ customer_name: null }));
      expect((await trigger(id, 'close')).body).toEqual({ sent: true, reason: 'sent' });
      const [mail] = await sesEmails();
      expect(mail!.replyTo).toEqual([]);
      expect(mail!.body.html).toContain('href="tel:+14157234603"');
    }
  });

  it('keeps international numbers in E.164', async () => {
    const id = await threads.seedThread({ user: 'u', items: [user('I am visiting from London, call +44 20 7946 0958 please')] });
    await admin.queueOutput(summary({ customer_name: null }));
    expect((await trigger(id, 'manual')).body).toEqual({ sent: true, reason: 'sent' });
    const [mail] = await sesEmails();
    expect(mail!.body.html).toContain('href="tel:+442079460958"');
    expect(mail!.subject).toBe('New lead: +442079460958 - Check engine light on');
  });

  it('neutralizes a transcript full of HTML and script injection', async () => {
    const evil = '<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>';
    const id = await threads.seedThread({
      user: 'u',
      items: [
        user(`${evil} call 415-555-2671`, {
          attachments: [{ name: `<b>${evil}</b>.png`, mime_type: 'image/png', preview_url: 'javascript:alert(4)' }],
        }),
        bot(evil),
      ],
    });
    await admin.queueOutput(summary({ customer_name: `Eve${evil}\r\nBcc: x@evil.example`, summary: evil, sms_draft: evil }));
    expect((await trigger(id, 'close')).body).toEqual({ sent: true, reason: 'sent' });
    const [mail] = await sesEmails();
    const html = mail!.body.html!;
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<[a-z][^>]*\son[a-z]+=/i);
    // The photo is shown only through our own signed link (the files function), never the URL the item carried.
    const files = `http://127.0.0.1:${process.env.TEST_LOCAL_FILES_PORT}/?`;
    const imgs = [...html.matchAll(/<img src="([^"]*)"/g)].map((m) => m[1]!);
    expect(imgs).toHaveLength(1);
    expect(imgs[0]!.startsWith(files)).toBe(true);
    expect(html).not.toContain('javascript:alert(4)');
    for (const [, href] of html.matchAll(/href="([^"]*)"/g))
      expect(href!.startsWith(files) || href!.startsWith(inboxUrl()) || /^(https:|tel:\+|sms:\+|mailto:)/.test(href!)).toBe(true);
    expect(mail!.subject).not.toMatch(/[\r\n]/);
    expect(mail!.destination.bcc).toEqual([]);
    expect(mail!.destination.to.join(',')).not.toContain('evil.example');
  });
});

describe('the decision', () => {
  const qualified = [user('My brakes squeal. Call me: 415-555-2671.'), bot('Thanks!')];

  it('auto sends only a handoff-ready summary', async () => {
    const id = await threads.seedThread({ user: 'u', items: qualified });
    await admin.queueOutput(summary({ handoff_ready: false }));
    expect((await trigger(id, 'auto')).body).toEqual({ sent: false, reason: 'not_ready' });
    expect(await sesEmails()).toEqual([]);
    // The conversation goes on: a new transcript state gets a new summary.
    await threads.appendItems(id, [user('It is a 2011 Accord.'), bot('Got it!')]);
    await admin.queueOutput(summary({ handoff_ready: true }));
    expect((await trigger(id, 'auto')).body).toEqual({ sent: true, reason: 'sent' });
    expect(await sesEmails()).toHaveLength(1);
  });

  it.each(['idle', 'pagehide', 'close', 'manual'])(
    '%s sends once a contact exists, even when the summary says not ready',
    async (reason) => {
      const id = await threads.seedThread({ user: 'u', items: qualified });
      await admin.queueOutput(summary({ handoff_ready: false }));
      expect((await trigger(id, reason)).body).toEqual({ sent: true, reason: 'sent' });
    },
  );

  it('no contact: no_contact, no summary, no email (any reason)', async () => {
    const id = await threads.seedThread({
      user: 'u',
      items: [user('How much for brakes?'), bot('Happy to help! Can I get a phone number?')],
    });
    for (const reason of ['auto', 'manual']) expect((await trigger(id, reason)).body).toEqual({ sent: false, reason: 'no_contact' });
    expect(await responsesCalls()).toEqual([]);
    expect(await sesEmails()).toEqual([]);
  });

  it('finds contacts only in what the customer wrote', async () => {
    const id = await threads.seedThread({
      user: 'u',
      items: [user('hello', { quoted_text: 'email us at 415-555-2671' }), bot('Call us at 650-555-0123 or leads@craigs.autos')],
    });
    expect((await trigger(id, 'close')).body).toEqual({ sent: false, reason: 'no_contact' });
  });
});

describe('summary failures: nothing lost', () => {
  const items = [user('Need a tire change, 415-555-2671'), bot('Sure')];
  const failures: Array<[string, () => Promise<unknown>]> = [
    ['a refusal', () => admin.queue({ refusal: 'I cannot help with that.' })],
    ['an incomplete output', () => admin.queue({ status: 'incomplete' })],
    ['text that is not JSON', () => admin.queue({ text: 'Sure! Here is the summary: {' })],
    ['JSON that fails the schema', () => admin.queueOutput({ handoff_ready: 'yes' })],
    ['a 500 on every attempt', () => admin.fault({ path: '/v1/responses', status: 500, times: 5 })],
    ['a 429 on every attempt', () => admin.fault({ path: '/v1/responses', status: 429, times: 5 })],
  ];

  it.each(failures)('%s: a non-auto trigger still sends, marked "AI summary unavailable"', async (_label, inject) => {
    const id = await threads.seedThread({ user: 'u', items });
    await inject();
    expect((await trigger(id, 'pagehide')).body).toEqual({ sent: true, reason: 'sent' });
    const [mail] = await sesEmails();
    expect(mail!.subject).toBe('New lead: +14155552671 - AI summary unavailable');
    for (const part of [mail!.body.html!, mail!.body.text!]) {
      expect(part).toContain('AI summary unavailable');
      expect(part).toContain('Need a tire change');
    }
    expect(mail!.body.html).toContain('href="tel:+14155552671"');
  });

  it.each(failures)('%s: auto sends nothing (a later trigger will)', async (_label, inject) => {
    const id = await threads.seedThread({ user: 'u', items });
    await inject();
    expect((await trigger(id, 'auto')).body).toEqual({ sent: false, reason: 'not_ready' });
    expect(await sesEmails()).toEqual([]);
  });
});

describe('requests', () => {
  it.each([
    ['no threadId', { reason: 'auto' }, 'invalid_thread_id'],
    ['a bad threadId', { threadId: 'thr_123', reason: 'auto' }, 'invalid_thread_id'],
    ['a threadId with a slash', { threadId: 'cthr_a/b', reason: 'auto' }, 'invalid_thread_id'],
    ['no reason', { threadId: 'cthr_abc' }, 'invalid_reason'],
    ['an unknown reason', { threadId: 'cthr_abc', reason: 'bored' }, 'invalid_reason'],
    ['a bad user', { threadId: 'cthr_abc', reason: 'auto', user: 'a b' }, 'invalid_user'],
    ['a bad pageUrl', { threadId: 'cthr_abc', reason: 'auto', pageUrl: 'javascript:alert(1)' }, 'invalid_page_url'],
  ])('%s: 400 with a reason and no OpenAI call', async (_label, body, code) => {
    const res = await postJson(url(), body, { origin: ALLOWED });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(code);
    expect(await admin.requests()).toEqual([]);
  });

  it('accepts the text/plain body navigator.sendBeacon sends, the client token in a `token` field', async () => {
    const id = await threads.seedThread({ user: 'beacon-owner', items: [user('call 415-555-2671 about my brakes')] });
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: ALLOWED },
      body: JSON.stringify({ threadId: id, reason: 'pagehide', token: clientTokenFor('beacon-owner') }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sent: true, reason: 'sent' });
  });

  it('takes the user from the client token only: none, forged, or long expired is 401, and nothing is written', async () => {
    const id = await threads.seedThread({ user: 'token-owner', items: [user('call 415-555-2671 about my brakes')] });
    const forged = clientTokenFor('token-owner').replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const stale = clientTokenFor('token-owner', -8 * 86400); // expired past the 7-day grace
    for (const [headers, body] of [
      [{}, { threadId: id, reason: 'manual' }],
      [{}, { threadId: id, reason: 'manual', user: 'token-owner' }], // naming the user proves nothing
      [{ authorization: `Bearer ${forged}` }, { threadId: id, reason: 'manual' }],
      [{ authorization: `Bearer ${stale}` }, { threadId: id, reason: 'manual' }],
      [{}, { threadId: id, reason: 'manual', token: 'ckt1.x.y' }],
    ] as const) {
      const res = await postJson(url(), body, { origin: ALLOWED, ...headers });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('unauthorized');
    }
    expect(await admin.requests()).toEqual([]);
    expect(await sesEmails()).toEqual([]);
    const ledger = await documentClient().send(new GetCommand({ TableName: await ledgerTableName(), Key: { thread_id: id } }));
    expect(ledger.Item).toBeUndefined(); // a refused request leaves no record
    // A token that expired an hour ago (a tab left open) still names its user for a lead.
    const recent = clientTokenFor('token-owner', -3600);
    expect(
      (await postJson(url(), { threadId: id, reason: 'manual' }, { origin: ALLOWED, authorization: `Bearer ${recent}` })).body,
    ).toEqual({ sent: true, reason: 'sent' });
  });

  it('refuses a disallowed origin with 403 and no OpenAI call', async () => {
    const res = await trigger('cthr_abc', 'manual', {}, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(await admin.requests()).toEqual([]);
  });

  it('answers 404 for an unknown thread, and for a thread of another user', async () => {
    expect((await trigger('cthr_unknown', 'manual')).status).toBe(404);
    const id = await threads.seedThread({ user: 'alice', items: [user('415-555-2671')] });
    const res = await trigger(id, 'manual', { user: 'alice' }, { origin: ALLOWED, ...leadAuth(id, 'mallory') });
    expect(res.status).toBe(404);
    expect(await sesEmails()).toEqual([]);
  });
});

describe('in-process, with a changed environment', () => {
  async function loadHandler(env: Record<string, string | undefined>) {
    applyEnv(await leadEnv({ POWERTOOLS_LOG_LEVEL: undefined, ...env }));
    let mod: typeof import('./handler');
    jest.isolateModules(() => {
      mod = require('./handler');
    });
    return mod!.handler;
  }
  const call = async (handler: any, body: { threadId: string; [k: string]: unknown }, opts: { base64?: boolean } = {}) => {
    const raw = JSON.stringify(body);
    const headers = { 'content-type': 'text/plain;charset=UTF-8', ...leadAuth(body.threadId) };
    const res = await handler(
      urlEvent({ body: opts.base64 ? Buffer.from(raw).toString('base64') : raw, isBase64Encoded: opts.base64, headers }),
      lambdaContext(30_000),
    );
    return { status: (res as any).statusCode, body: JSON.parse((res as any).body) };
  };

  it('answers error (and sends nothing) when the transcript cannot be read', async () => {
    const id = await threads.seedThread({ user: 'u', items: [user('415-555-2671')] });
    await admin.queueOutput(summary({ handoff_ready: false }));
    expect((await trigger(id, 'auto')).body).toEqual({ sent: false, reason: 'not_ready' }); // the ledger now knows the owner
    const handler = await loadHandler({ CHAT_THREADS_TABLE_NAME: 'no-such-table' }); // DynamoDB answers ResourceNotFound
    expect((await call(handler, { threadId: id, reason: 'manual' })).body).toEqual({ sent: false, reason: 'error' });
    expect(await sesEmails()).toEqual([]);
  });

  it('answers 503 ledger_unavailable (nothing written) when the owner cannot be checked', async () => {
    const handler = await loadHandler({ CHAT_THREADS_TABLE_NAME: 'no-such-table' });
    const id = await threads.seedThread({ user: 'u', items: [user('415-555-2671')] });
    const res = await call(handler, { threadId: id, reason: 'manual' });
    expect([res.status, res.body.code]).toEqual([503, 'ledger_unavailable']);
  });

  it('delivers to every recipient of a comma-separated LEAD_TO_EMAIL, from a base64 body', async () => {
    const handler = await loadHandler({
      LEAD_TO_EMAIL: 'owner@craigs.autos, service@craigs.autos,desk@craigs.autos',
      LEAD_FROM_EMAIL: 'leads@craigs.autos',
    });
    const id = await threads.seedThread({ user: 'u', items: [user('415-555-2671 about my clutch')] });
    expect((await call(handler, { threadId: id, reason: 'close' }, { base64: true })).body).toEqual({ sent: true, reason: 'sent' });
    const [mail] = await sesEmails();
    const to = mail!.destination.to.join(',');
    for (const r of ['owner@craigs.autos', 'service@craigs.autos', 'desk@craigs.autos']) expect(to).toContain(r);
    expect(mail!.from).toContain('leads@craigs.autos');
  });

  it('answers error when SES fails (nothing half-written)', async () => {
    const handler = await loadHandler({ AWS_ENDPOINT_URL_SES: 'http://127.0.0.1:9' });
    const id = await threads.seedThread({ user: 'u', items: [user('415-555-2671 about my clutch')] });
    expect((await call(handler, { threadId: id, reason: 'close' })).body).toEqual({ sent: false, reason: 'error' });
    expect(await sesEmails()).toEqual([]);
  });

  it('a summary that does not answer in time still lets a pagehide email out', async () => {
    const handler = await loadHandler({ LEAD_SUMMARY_TIMEOUT_MS: '300', LEAD_SUMMARY_MAX_RETRIES: '0' });
    await admin.fault({ path: '/v1/responses', delay_ms: 3000, times: 1 });
    const id = await threads.seedThread({ user: 'u', items: [user('415-555-2671 about my clutch')] });
    expect((await call(handler, { threadId: id, reason: 'pagehide' })).body).toEqual({ sent: true, reason: 'sent' });
    expect((await sesEmails())[0]!.subject).toContain('AI summary unavailable');
  });

  it('refuses to start with an invalid LEAD_TO_EMAIL, naming it', async () => {
    await expect(loadHandler({ LEAD_TO_EMAIL: 'owner@craigs.autos\r\nBcc: x@y.z' })).rejects.toThrow(/LEAD_TO_EMAIL/);
  });
});

describe('hosted mode (legacy, until 2026-11-30): threads from the hosted API, the user named by the browser', () => {
  async function hostedHandler(env: Record<string, string | undefined> = {}) {
    applyEnv(await leadEnv({ CHATKIT_MODE: 'hosted', ...env }));
    let mod: typeof import('./handler');
    jest.isolateModules(() => {
      mod = require('./handler');
    });
    applyEnv({ CHATKIT_MODE: undefined });
    return async (body: object) => {
      const res = await mod!.handler(urlEvent({ body: JSON.stringify(body) }), lambdaContext(30_000));
      return { status: (res as any).statusCode, body: JSON.parse((res as any).body) };
    };
  }

  it('reads every page of a hosted transcript and sends the email; another user is 404', async () => {
    const call = await hostedHandler();
    const items = Array.from({ length: 230 }, (_, n) => (n % 2 ? bot(`answer ${n}`) : user(`question ${n}`)));
    items[5] = user('call me at 415-555-2671');
    const id = await admin.seedThread({ user: 'visitor-h', items });
    expect((await call({ threadId: id, reason: 'close', user: 'mallory' })).status).toBe(404);
    await admin.queueOutput(summary());
    expect((await call({ threadId: id, reason: 'close', user: 'visitor-h', pageUrl: 'https://craigs.autos/h' })).body).toEqual({
      sent: true,
      reason: 'sent',
    });
    const pages = (await admin.requests()).filter((r) => r.path.endsWith('/items'));
    // The wrong user read no transcript (its owner check is one retrieve); the owner: the check (kept), then the transcript.
    expect(pages.map((p) => p.query.order)).toEqual(['asc', 'asc', 'asc']);
    expect((await admin.requests()).filter((r) => r.path === `/v1/chatkit/threads/${id}`)).toHaveLength(2);
    const [mail] = await sesEmails();
    expect(mail!.body.text).toContain('question 0');
    expect(mail!.body.text).toContain('answer 229');
    expect(mail!.body.text).toContain('https://craigs.autos/h');
  });

  it('answers error (and sends nothing) when the hosted transcript cannot be read', async () => {
    const call = await hostedHandler();
    const id = await admin.seedThread({ user: 'u', items: [user('415-555-2671')] });
    await admin.fault({ path: `/v1/chatkit/threads/${id}`, status: 500, times: 10 });
    expect((await call({ threadId: id, reason: 'manual' })).body).toEqual({ sent: false, reason: 'error' });
    expect(await sesEmails()).toEqual([]);
  });
});

describe('logs', () => {
  it('never contain transcript text, customer emails or phone numbers', async () => {
    const from = stackLogOffset();
    const secretText = 'my-unique-secret-problem-description';
    const id = await threads.seedThread({
      user: 'u',
      items: [user(`${secretText} call 415-555-7777 or write pii.person@example.net`), bot('ok')],
    });
    await admin.queueOutput(summary({ customer_name: 'Zebulon Pii' }));
    expect((await trigger(id, 'close')).body).toEqual({ sent: true, reason: 'sent' });
    const id2 = await threads.seedThread({ user: 'u', items: [user(`${secretText} call 415-555-7777 or write pii.person@example.net`)] });
    await admin.fault({ path: '/v1/responses', status: 500, times: 5 });
    expect((await trigger(id2, 'manual')).body).toEqual({ sent: true, reason: 'sent' });
    // This test's part of the stack's log, once both leads' lines are in it (ids are fine).
    const log = await stackLogSince(from, (l) => l.includes(id) && l.includes(id2));
    for (const pii of [secretText, '415-555-7777', '(415) 555-7777', '4155557777', '+14155557777', 'pii.person@example.net', 'Zebulon'])
      expect(log).not.toContain(pii);
    // (The end-of-run scan, test/jest/pii-scan.ts, checks every log of the run, every service, the same way.)
  });

  it('carry the metrics as Embedded Metric Format: leads sent, duplicates suppressed by reason, summary failures', async () => {
    const from = stackLogOffset();
    const id = await threads.seedThread({ user: 'u', items: [user('emf check, call 415-555-2671')] });
    await admin.fault({ path: '/v1/responses', status: 500, times: 5 });
    expect((await trigger(id, 'close')).body).toEqual({ sent: true, reason: 'sent' });
    expect((await trigger(id, 'close')).body).toEqual({ sent: true, reason: 'already_sent' });
    // Only what this test's requests wrote (the log holds the whole run), once the duplicate's metric is in it.
    const emf = (await stackLogSince(from, (l) => /"DuplicatesSuppressed":1/.test(l) && /"LeadsSent"/.test(l)))
      .split('\n')
      .filter((l) => l.startsWith('{"_aws"'))
      .map((l) => JSON.parse(l));
    const metric = (name: string) =>
      emf.filter((m) => m._aws.CloudWatchMetrics[0].Namespace === 'ChatkitLeadIntake' && m[name] !== undefined);
    expect(metric('LeadsSent').length).toBeGreaterThan(0);
    expect(metric('SummaryFailures').length).toBeGreaterThan(0);
    expect(metric('DuplicatesSuppressed')).toContainEqual(
      expect.objectContaining({ service: 'lead', reason: 'already_sent', DuplicatesSuppressed: 1 }),
    );
  });
});
