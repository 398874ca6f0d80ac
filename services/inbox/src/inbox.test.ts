import { InboxStore, type NewInboxLead } from '@lead-intake/inbox-store';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';
import {
  applyEnv,
  clearSes,
  dynamoClient,
  dynamoEndpoint,
  inboxUrl,
  lambdaContext,
  sesEmails,
  sesEndpoint,
  tableEndingWith,
  urlEvent,
} from '@lead-intake/testkit';
import { AuthStore, deriveKeys, ownerKey, randomToken, readSessionCookie, sessionCookieValue } from './auth';

/**
 * The inbox over HTTP on the local stack (issue 30 §2, §3, §5): signing in with an emailed link,
 * every refusal, the CSRF rule, and the owner's list, filters, detail, outcomes and numbers.
 */
const OWNER = 'victor@craigs.autos';
const OTHER_OWNER = 'shop@craigs.autos';
const SHOP = 'craigs-autos';
const base = () => inboxUrl();
let inbox: InboxStore;
let auth: AuthStore;

beforeAll(async () => {
  inbox = new InboxStore({ tableName: await tableEndingWith('-leads'), client: dynamoClient() });
  auth = new AuthStore(await tableEndingWith('-auth'), dynamoClient());
});
beforeEach(() => clearSes());

interface Res {
  status: number;
  headers: Headers;
  text: string;
  cookies: string[];
}
async function http(
  path: string,
  o: { method?: string; cookie?: string; form?: Record<string, string>; accept?: string } = {},
): Promise<Res> {
  const res = await fetch(`${base()}${path}`, {
    method: o.method ?? (o.form ? 'POST' : 'GET'),
    redirect: 'manual',
    headers: {
      ...(o.cookie ? { cookie: o.cookie } : {}),
      ...(o.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...(o.accept ? { accept: o.accept } : {}),
    },
    body: o.form ? new URLSearchParams(o.form).toString() : undefined,
  });
  return { status: res.status, headers: res.headers, text: await res.text(), cookies: res.headers.getSetCookie() };
}
const cookieOf = (r: Res, name: string) => r.cookies.find((c) => c.startsWith(`${name}=`))?.split(';')[0];
const field = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]?.replace(/&amp;/g, '&');

/** The whole sign-in: the form, the emailed link, its page, its use. Answers the session cookie. */
async function signInByEmail(email: string): Promise<string> {
  const form = await http('/signin');
  const signin = cookieOf(form, 'inbox_signin')!;
  const sent = await http('/signin', { cookie: signin, form: { csrf: field(form.text, 'csrf')!, email, next: '/' } });
  expect(sent.status).toBe(200);
  const mail = (await sesEmails()).filter((m) => m.destination.to.includes(email)).at(-1)!;
  expect(mail.subject).toBe('Sign in to the lead inbox');
  const link = /(http:\/\/\S+\/auth\?token=[A-Za-z0-9_-]+)/.exec(mail.body.text!)![1]!;
  const landing = await http(link.slice(base().length));
  expect(landing.status).toBe(200);
  expect(landing.text).toContain('<script src="/assets/signin.js" defer></script>');
  return useLink(field(landing.text, 'token')!);
}

async function useLink(token: string): Promise<string> {
  const used = await http('/auth', { form: { token, next: '/' } });
  expect(used.status).toBe(303);
  return cookieOf(used, 'inbox_session')!;
}

/** A session without the email step (the link written as the inbox writes it): for the tests after the sign-in's own. */
async function session(email = OWNER): Promise<string> {
  const token = randomToken();
  await auth.createLink(token, email, Math.floor(Date.now() / 1000));
  return useLink(token);
}

const csrfOf = async (cookie: string) => field((await http('/', { cookie })).text, 'csrf')!;

function lead(over: Partial<NewInboxLead> = {}): NewInboxLead {
  const threadId = `cthr_inbox${Math.random().toString(36).slice(2, 12)}`;
  const at = Math.floor(Date.now() / 1000) - 600;
  return {
    shopId: SHOP,
    threadId,
    kind: 'lead',
    at,
    name: 'Dana Whitfield',
    phones: ['+14085550142'],
    emails: ['dana@example.com'],
    vehicle: '2016 Toyota Tacoma',
    need: 'Will not start',
    urgent: false,
    afterHours: false,
    followUpOf: null,
    request: null,
    leadKind: null,
    pageUrl: null,
    trigger: 'auto',
    summary: null,
    flags: null,
    expiresAt: at + 86400,
    ...over,
  };
}

describe('signing in', () => {
  it('an owner’s address gets a single-use link; opening it signs in and shows the list', async () => {
    const cookie = await signInByEmail(OWNER);
    expect(cookie).toMatch(/^inbox_session=v1\.local\./);
    const list = await http('/', { cookie });
    expect(list.status).toBe(200);
    expect(list.text).toContain('<h1>Leads</h1>');
    expect(list.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(list.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('answers the same for any address, and sends nothing to one that is not an owner’s', async () => {
    const form = await http('/signin');
    const signin = cookieOf(form, 'inbox_signin')!;
    const csrf = field(form.text, 'csrf')!;
    const owner = await http('/signin', { cookie: signin, form: { csrf, email: OTHER_OWNER, next: '/' } });
    const stranger = await http('/signin', { cookie: signin, form: { csrf, email: 'stranger@example.com', next: '/' } });
    expect(stranger.status).toBe(owner.status);
    expect(stranger.text).toBe(owner.text);
    const mails = await sesEmails();
    expect(mails.filter((m) => m.destination.to.includes('stranger@example.com'))).toHaveLength(0);
    expect(mails.filter((m) => m.destination.to.includes(OTHER_OWNER))).toHaveLength(1);
  });

  it('refuses a reused, an expired and an altered link', async () => {
    const token = randomToken();
    await auth.createLink(token, OWNER, Math.floor(Date.now() / 1000));
    await useLink(token);
    expect((await http('/auth', { form: { token, next: '/' } })).status).toBe(400);

    const expired = randomToken();
    await auth.createLink(expired, OWNER, Math.floor(Date.now() / 1000) - 16 * 60);
    const refused = await http('/auth', { form: { token: expired, next: '/' } });
    expect(refused.status).toBe(400);
    expect(refused.cookies.some((c) => c.startsWith('inbox_session=v1'))).toBe(false);

    const good = randomToken();
    await auth.createLink(good, OWNER, Math.floor(Date.now() / 1000));
    const altered = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
    expect((await http('/auth', { form: { token: altered, next: '/' } })).status).toBe(400);
    // The real one still works: a wrong guess spends nothing.
    await useLink(good);
  });

  it('refuses a request without a session: the sign-in page for a browser, 401 for JSON', async () => {
    const page = await http('/leads/cthr_abc');
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/signin?next=%2Fleads%2Fcthr_abc');
    const json = await http('/', { accept: 'application/json' });
    expect(json.status).toBe(401);
    expect(JSON.parse(json.text)).toEqual({ error: 'unauthorized', message: 'Sign in first.' });
  });

  it('refuses an altered cookie, one of another stage, and one forged for another owner', async () => {
    const cookie = await session();
    const value = cookie.slice('inbox_session='.length);
    const flipped = value.slice(0, -2) + (value.endsWith('AA') ? 'BB' : 'AA');
    expect((await http('/', { cookie: `inbox_session=${flipped}` })).status).toBe(303);
    const mine = readSessionCookie(deriveKeys(LOCAL_TOKEN_SECRET, 'local'), value, Math.floor(Date.now() / 1000))!;
    expect(mine).not.toBeNull();
    // The same session, signed for another stage with the same secret: not this stage's.
    const prod = deriveKeys(LOCAL_TOKEN_SECRET, 'prod');
    const foreign = sessionCookieValue(prod, mine, Math.floor(Date.now() / 1000) + 3600).replace('.prod.', '.local.');
    expect((await http('/', { cookie: `inbox_session=${foreign}` })).status).toBe(303);
    // Another owner's key in the cookie: the signature no longer matches.
    const other = ownerKey(deriveKeys(LOCAL_TOKEN_SECRET, 'local'), OTHER_OWNER);
    const [v, stage, sid, , exp, sig] = value.split('.');
    expect((await http('/', { cookie: `inbox_session=${[v, stage, sid, other, exp, sig].join('.')}` })).status).toBe(303);
    expect((await http('/', { cookie })).status).toBe(200);
  });

  it('sign out ends the session; sign out everywhere ends every session of that owner only', async () => {
    const a = await session();
    await http('/signout', { cookie: a, form: { csrf: await csrfOf(a) } });
    expect((await http('/', { cookie: a })).status).toBe(303);

    const b = await session();
    const c = await session();
    const other = await session(OTHER_OWNER);
    expect((await http('/', { cookie: b })).text).toContain('action="/signout-all"');
    const out = await http('/signout-all', { cookie: b, form: { csrf: await csrfOf(b) } });
    expect(out.status).toBe(303);
    expect((await http('/', { cookie: b })).status).toBe(303);
    expect((await http('/', { cookie: c })).status).toBe(303);
    expect((await http('/', { cookie: other })).status).toBe(200);
    // A new sign-in after it works.
    expect((await http('/', { cookie: await session() })).status).toBe(200);
  });

  it('limits link requests per address (the answer says to wait; nothing is sent)', async () => {
    const form = await http('/signin');
    const signin = cookieOf(form, 'inbox_signin')!;
    const csrf = field(form.text, 'csrf')!;
    const email = `limit-${Date.now()}@example.com`;
    for (let i = 0; i < 5; i++) expect((await http('/signin', { cookie: signin, form: { csrf, email, next: '/' } })).status).toBe(200);
    const sixth = await http('/signin', { cookie: signin, form: { csrf, email, next: '/' } });
    expect(sixth.status).toBe(429);
    expect(sixth.text).toContain('Too many sign-in links were asked for');
  });

  it('limits link requests per source network too (the function in-process, from a network of its own)', async () => {
    applyEnv({
      STAGE: 'local',
      INBOX_OWNERS: `${OWNER},${OTHER_OWNER}`,
      INBOX_FROM_EMAIL: OWNER,
      INBOX_LEADS_TABLE: await tableEndingWith('-leads'),
      INBOX_AUTH_TABLE: await tableEndingWith('-auth'),
      CHAT_THREADS_TABLE: 'unused',
      LEAD_DEDUPE_TABLE_NAME: 'unused',
      LEAD_SPOOL_QUEUE_NAME: 'unused',
      INBOX_SECURE_COOKIES: 'false',
      INBOX_LINKS_PER_NETWORK_PER_HOUR: '3',
      CHATKIT_TOKEN_SECRET: LOCAL_TOKEN_SECRET,
      SECRETS_SSM_PATH: undefined,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint(),
      AWS_ENDPOINT_URL_SES: sesEndpoint(),
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    let handler: any;
    jest.isolateModules(() => {
      handler = require('./handler').handler;
    });
    // A network no other test uses (TEST-NET-3), one address each time: only the network's counter can refuse.
    const network = `203.0.113.${1 + (Date.now() % 200)}`;
    const call = async (path: string, o: { method?: string; body?: string; cookie?: string } = {}) => {
      const e = urlEvent({
        method: o.method ?? 'GET',
        body: o.body,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(o.cookie ? { cookie: o.cookie } : {}) },
      });
      e.rawPath = path;
      e.requestContext.http.path = path;
      e.requestContext.http.sourceIp = network;
      return handler(e, lambdaContext());
    };
    const form = await call('/signin');
    const signin = (form.cookies as string[])[0]!.split(';')[0]!;
    const csrf = field(form.body, 'csrf')!;
    const ask = (n: number) =>
      call('/signin', {
        method: 'POST',
        cookie: signin,
        body: new URLSearchParams({ csrf, email: `net-${n}-${Date.now()}@example.com` }).toString(),
      });
    for (let n = 0; n < 3; n++) expect((await ask(n)).statusCode).toBe(200);
    const refused = await ask(3);
    expect(refused.statusCode).toBe(429);
    expect(refused.body).toContain('Too many sign-in links were asked for');
  });

  it('refuses a sign-in form without its CSRF token', async () => {
    const form = await http('/signin');
    const r = await http('/signin', { cookie: cookieOf(form, 'inbox_signin')!, form: { email: OWNER, next: '/' } });
    expect(r.status).toBe(403);
    expect((await sesEmails()).filter((m) => m.destination.to.includes(OWNER))).toHaveLength(0);
  });
});

describe('the owner’s leads', () => {
  it('lists the shop’s leads newest first, escaped, with filters and a search that finds a phone however it is written', async () => {
    const cookie = await session();
    // The first page is the newest 50, and the shared stack's other files record many leads in the last
    // minutes (how many depends on the files' order): these two are dated just ahead, so they are on it.
    const now = Math.floor(Date.now() / 1000);
    const older = lead({ name: '<script>alert(1)</script>', at: now + 60 });
    const urgent = lead({ name: 'Urgent Ursula', urgent: true, phones: ['+14085550199'], at: now + 120 });
    const elsewhere = lead({ shopId: 'another-shop', name: 'Not Ours' });
    for (const l of [older, urgent, elsewhere]) expect(await inbox.recordLead(l)).toBe('recorded');
    const list = await http('/', { cookie });
    // Other tests' leads share the shop: these two by their ids, newest first, the older one's name escaped.
    expect(list.text.indexOf(urgent.threadId)).toBeGreaterThan(-1);
    expect(list.text.indexOf(urgent.threadId)).toBeLessThan(list.text.indexOf(older.threadId));
    const olderRow = list.text.slice(list.text.indexOf(older.threadId)).split('</li>')[0]!;
    expect(olderRow).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(list.text).not.toContain('<script>alert(1)');
    expect(list.text).not.toContain('Not Ours');
    expect((await http('/?urgent=1', { cookie })).text).not.toContain(older.threadId);
    for (const q of ['(408) 555-0199', '408.555.0199', '+1 408 555 0199', '5550199']) {
      const found = await http(`/?q=${encodeURIComponent(q)}`, { cookie });
      expect(found.text).toContain(urgent.threadId);
      expect(found.text).not.toContain(older.threadId);
    }
    expect((await http(`/leads/${elsewhere.threadId}`, { cookie })).status).toBe(404);
    expect((await http('/?status=bogus', { cookie })).status).toBe(400);
  });

  it('records an outcome with who and when (the first Contacted: time to callback); CSRF missing or wrong changes nothing', async () => {
    const cookie = await session();
    const l = lead();
    await inbox.recordLead(l);
    const csrf = await csrfOf(cookie);
    const otherCsrf = await csrfOf(await session(OTHER_OWNER));
    for (const bad of [{}, { csrf: otherCsrf }, { csrf: 'x' }] as Array<Record<string, string>>) {
      const r = await http(`/leads/${l.threadId}/outcome`, { cookie, form: { ...bad, status: 'booked' } });
      expect(r.status).toBe(403);
    }
    expect((await inbox.get(SHOP, l.threadId))!.lead.status).toBe('new');

    expect((await http(`/leads/${l.threadId}/outcome`, { cookie, form: { csrf, status: 'contacted' } })).status).toBe(303);
    expect((await http(`/leads/${l.threadId}/outcome`, { cookie, form: { csrf, status: 'booked', value: '450.50' } })).status).toBe(303);
    expect((await http(`/leads/${l.threadId}/outcome`, { cookie, form: { csrf, status: 'nonsense' } })).status).toBe(400);
    expect((await http(`/leads/${l.threadId}/outcome`, { cookie, form: { csrf, status: 'booked', value: 'lots' } })).status).toBe(400);
    await http(`/leads/${l.threadId}/note`, { cookie, form: { csrf, note: 'Customer <b>prefers</b> mornings' } });
    const d = (await inbox.get(SHOP, l.threadId))!;
    expect(d.lead).toMatchObject({ status: 'booked', bookedValue: 450.5, note: 'Customer <b>prefers</b> mornings' });
    expect(d.lead.firstContactedAt).toBeGreaterThanOrEqual(l.at);
    expect(d.history.map((h) => [h.by, h.status ?? null])).toEqual([
      [OWNER, 'contacted'],
      [OWNER, 'booked'],
      [OWNER, null],
    ]);
    const page = await http(`/leads/${l.threadId}`, { cookie });
    expect(page.text).toContain('Customer &lt;b&gt;prefers&lt;/b&gt; mornings');
    for (const label of ['Contacted', 'Booked', 'Lost', 'Not a customer']) expect(page.text).toContain(`>${label}</button>`);
    expect(page.text).toContain('href="tel:+14085550142"');
    expect(page.text).toContain('href="mailto:dana@example.com"');
  });

  it('shows the numbers and exports the leads as CSV without transcripts, a formula neutralized', async () => {
    const cookie = await session();
    const l = lead({ name: '=HYPERLINK("http://evil")', afterHours: true });
    await inbox.recordLead(l);
    const numbers = await http('/numbers', { cookie });
    expect(numbers.status).toBe(200);
    expect(numbers.text).toContain('Median time to callback');
    const csv = await http('/export.csv', { cookie });
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const row = csv.text.split('\r\n').find((r) => r.includes(l.threadId))!;
    expect(row).toContain(`"'=HYPERLINK(""http://evil"")"`);
  });
});
