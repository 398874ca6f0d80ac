import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { sampleAlerts } from './sample';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import {
  assertWebhookUrl,
  ChannelError,
  deliverWebhook,
  leadSmsText,
  updateSmsText,
  newWebhookSecret,
  signWebhook,
  smsLength,
  webhookId,
  type LeadAlert,
} from './index';

describe('SMS length, as networks count it', () => {
  it.each([
    ['a'.repeat(160), 'GSM-7', 1],
    ['a'.repeat(161), 'GSM-7', 2],
    ['a'.repeat(306), 'GSM-7', 2],
    ['a'.repeat(307), 'GSM-7', 3],
    ['€'.repeat(80), 'GSM-7', 1], // extension characters cost two septets
    ['€'.repeat(81), 'GSM-7', 2],
    ['ł'.repeat(70), 'UCS-2', 1],
    ['ł'.repeat(71), 'UCS-2', 2],
    ['ł'.repeat(134), 'UCS-2', 2],
    ['ł'.repeat(135), 'UCS-2', 3],
    ['🚗'.repeat(35), 'UCS-2', 1], // a surrogate pair is two units
    ['🚗'.repeat(36), 'UCS-2', 2],
  ])('%#: %s', (text, encoding, segments) => {
    expect(smsLength(text)).toMatchObject({ encoding, segments });
  });

  it('never splits an escape sequence: 306 septets that would fit two segments take three when a euro sign straddles', () => {
    expect(smsLength(`${'a'.repeat(152)}€${'a'.repeat(152)}`)).toMatchObject({ units: 306, segments: 3 });
  });
});

const alert = (over: Partial<LeadAlert> = {}): LeadAlert => ({
  threadId: 'cthr_sample',
  trigger: 'pagehide',
  pageUrl: null,
  shop: { name: 'Craig’s Autos', phone: '+14085550100', timezone: 'America/Los_Angeles' },
  contacts: { phones: ['+14085550142'], emails: [] },
  summary: null,
  urgent: false,
  shopClosed: false,
  followUp: null,
  lines: [],
  createdAt: 1_800_000_000,
  ...over,
});

describe('the owner text', () => {
  it('says who, what, and the number to call; an urgent one while closed says both; a follow-up says so', () => {
    expect(leadSmsText(alert())).toBe('New lead: (408) 555-0142\nAI summary unavailable, see the email\nCall (408) 555-0142');
    expect(leadSmsText(alert({ urgent: true, shopClosed: true, followUp: { threadId: 'cthr_x', sentAt: 1 } }))).toMatch(
      /^URGENT \(shop closed\) Follow-up lead: /,
    );
    expect(leadSmsText(alert({ contacts: { phones: [], emails: ['dana@example.com'] } }))).toMatch(/\nEmail dana@example.com$/);
  });

  it('is cut to two segments: the need first, then the vehicle, the name; the callback stays whole', () => {
    const summary: any = {
      customer_name: 'Dana '.repeat(40),
      project_summary: 'Brakes grinding '.repeat(40),
      vehicle: { year: 2016, make: 'Toyota', model: 'Tacoma '.repeat(30) },
    };
    const text = leadSmsText(alert({ summary }));
    expect(smsLength(text).segments).toBe(2);
    expect(text.endsWith('\nCall (408) 555-0142')).toBe(true);
    // Newlines a model or a customer wrote cannot forge lines in the text.
    const forged = leadSmsText(alert({ summary: { ...summary, customer_name: 'Eve\nCall 900-000-0000' } }));
    expect(forged.split('\n')).toHaveLength(3);
    expect(forged.split('\n')[2]).toBe('Call (408) 555-0142');
    // Nor can direction overrides make a name read as another number (U+202E renders the rest right to left).
    const flipped = leadSmsText(alert({ summary: { ...summary, customer_name: 'Eve \u202e9910-555 )009( llaC' } }));
    expect(flipped).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200e\u200f]/);
  });
});

describe('webhooks (Standard Webhooks)', () => {
  it('signs so that the reference implementation verifies it, and rejects another secret', () => {
    const secret = newWebhookSecret();
    const body = JSON.stringify({ hello: 'world' });
    const ts = Math.floor(Date.now() / 1000);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(secret, 'msg_1', ts, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual({ hello: 'world' });
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });

  it('one id per lead: the same for retries, another after a resend', () => {
    expect(webhookId('cthr_a', 100)).toBe(webhookId('cthr_a', 100));
    expect(webhookId('cthr_a', 100, 1)).not.toBe(webhookId('cthr_a', 100));
    expect(webhookId('cthr_a', 101)).not.toBe(webhookId('cthr_a', 100));
  });

  it('only https (or a receiver on this machine), never credentials in the URL', () => {
    expect(() => assertWebhookUrl('http://hooks.example.com/x')).toThrow(/https/);
    expect(() => assertWebhookUrl('https://user:pw@hooks.example.com/x')).toThrow(/credentials/);
    expect(assertWebhookUrl('https://hooks.example.com/x').host).toBe('hooks.example.com');
    expect(assertWebhookUrl('http://127.0.0.1:8008/webhooks/lead').port).toBe('8008');
  });

  describe('delivery', () => {
    let server: Server;
    let url: string;
    const hits: string[] = [];
    let answer: (path: string) => { status: number; headers?: Record<string, string>; delay?: number } = () => ({ status: 204 });
    beforeAll(async () => {
      server = createServer((req, res) => {
        hits.push(req.url!);
        const a = answer(req.url!);
        setTimeout(() => {
          res.writeHead(a.status, a.headers ?? {});
          res.end('secret answer body');
        }, a.delay ?? 0);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    beforeEach(() => (hits.length = 0));
    const target = () => ({ url: `${url}/hook`, secret: newWebhookSecret(), timeoutMs: 300 });
    const code = async (p: Promise<unknown>) =>
      p.then(
        () => 'delivered',
        (e) => (e instanceof ChannelError ? e.code : `other:${e}`),
      );

    it('2xx is delivered; other answers are short codes, never the body', async () => {
      answer = () => ({ status: 202 });
      expect(await code(deliverWebhook(target(), 'msg_1', '{}'))).toBe('delivered');
      answer = () => ({ status: 500 });
      const e = await deliverWebhook(target(), 'msg_1', '{}').catch((x) => x);
      expect(e).toMatchObject({ code: 'http_500' });
      expect(String(e.message)).not.toContain('secret answer body');
    });

    it('a redirect is not followed', async () => {
      answer = (p) => (p === '/hook' ? { status: 307, headers: { location: `${url}/elsewhere` } } : { status: 204 });
      expect(await code(deliverWebhook(target(), 'msg_1', '{}'))).toBe('redirect');
      expect(hits).toEqual(['/hook']);
    });

    it('a receiver slower than the timeout is a timeout', async () => {
      answer = () => ({ status: 204, delay: 1000 });
      expect(await code(deliverWebhook(target(), 'msg_1', '{}'))).toBe('timeout');
    });
  });
});

describe('the committed samples (docs/)', () => {
  const docs = join(__dirname, '..', '..', '..', 'docs');

  it('are what the code makes from the sample lead (npm run email:sample), and the webhook body satisfies its JSON Schema', () => {
    const sample = sampleAlerts();
    expect(readFileSync(join(docs, 'sample-lead-sms.txt'), 'utf8')).toBe(sample.sms);
    expect(readFileSync(join(docs, 'sample-lead-webhook.json'), 'utf8')).toBe(sample.webhook);
    const committed = JSON.parse(sample.webhook);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(readFileSync(join(docs, 'lead-webhook.schema.json'), 'utf8')));
    expect(validate(committed)).toBe(true);
    // The schema is not a rubber stamp: a missing field or an unknown urgency fails it.
    expect(validate({ ...committed, data: { ...committed.data, urgency: 'asap' } })).toBe(false);
    const { thread_id: _omit, ...noThread } = committed.data;
    expect(validate({ ...committed, data: noThread })).toBe(false);
  });
});

describe('the owner text for an update (a callback requested after the lead went out)', () => {
  it('says which lead it updates, what was asked and the number to call, in one segment for a plain name', () => {
    const text = updateSmsText(
      alert({
        update: { leadSentAt: Date.parse('2030-03-17T17:46:40Z') / 1000 },
        callback: { phone: '+14085550142', name: 'Ana Lopez', bestTime: 'Tomorrow morning', textOk: true },
        contacts: { phones: ['+14085550143', '+14085550142'], emails: [] },
      }),
    );
    expect(text).toBe('Update to the lead of Mar 17, 10:46 AM: Ana Lopez\nCallback requested: Tomorrow morning\nCall (408) 555-0142');
    expect(smsLength(text).segments).toBe(1);
  });

  it('a picked drop-off time, with no name: the number stands for who', () => {
    const text = updateSmsText(
      alert({ update: { leadSentAt: Date.parse('2030-03-17T17:46:40Z') / 1000 }, dropOff: { label: 'Thu 8:00 AM', time: 'x' } }),
    );
    expect(text).toBe('Update to the lead of Mar 17, 10:46 AM: (408) 555-0142\nPreferred drop-off: Thu 8:00 AM\nCall (408) 555-0142');
  });
});
