import { randomUUID } from 'node:crypto';
import phoneRule from '@lead-intake/contacts/phone-rule.json';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { smsLength } from '@lead-intake/alerts';

/**
 * Two stand-ins on one port, with no network beyond this machine:
 *
 *   POST /                      the End User Messaging SMS API (AWS JSON 1.0, X-Amz-Target
 *                               PinpointSMSVoiceV2.SendTextMessage), as the SDK calls it
 *   POST /webhooks/<name>       a webhook receiver (any name), answering 204
 *   GET  /store                 {"sms": [...], "webhooks": [...], "refused": {"sms", "webhook"}, "pending": {...}}:
 *                               every text accepted, every webhook received, how many requests a fault
 *                               refused, and how many fault uses are not yet consumed
 *   POST /clear-store           forgets them
 *   GET  /                      the same as a web page
 *   POST /admin/fault           {"channel": "sms"|"webhook", "status"?, "delay_ms"?, "times"?}: the next
 *                               `times` (1) requests of that channel answer `status` and/or are held `delay_ms`
 *   POST /admin/reset           drops every fault
 *
 * A webhook answered with a fault is still recorded (with the status it got), so a test sees the
 * attempt; a text refused with a fault is not (the API did not take it).
 */

export interface SmsRecord {
  messageId: string;
  originationIdentity: string;
  to: string;
  body: string;
  messageType: string | null;
  encoding: string;
  segments: number;
  at: number;
}

export interface WebhookRecord {
  name: string;
  /** The webhook-* and content-type headers as received. */
  headers: Record<string, string>;
  body: string;
  /** What the receiver answered. */
  status: number;
  at: number;
}

interface Fault {
  channel: 'sms' | 'webhook';
  status?: number;
  delayMs?: number;
  times: number;
}

export interface RunningAlertsEmulator {
  endpoint: string;
  server: Server;
  close(): Promise<void>;
}

const SMS_ERRORS: Record<number, string> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  429: 'ThrottlingException',
};

// The project's one phone rule (as the lead runtime and stages.config.json check the owner phones).
const E164 = new RegExp(phoneRule.e164);

export async function startAlertsEmulator(opts: { host: string; port: number }): Promise<RunningAlertsEmulator> {
  const sms: SmsRecord[] = [];
  const webhooks: WebhookRecord[] = [];
  let faults: Fault[] = [];
  /** Requests answered with an injected error, per channel (tests check their faults happened). */
  const refused = { sms: 0, webhook: 0 };

  const takeFault = (channel: Fault['channel']) => {
    const f = faults.find((x) => x.channel === channel && x.times > 0);
    if (f) f.times--;
    faults = faults.filter((x) => x.times > 0);
    return f;
  };
  const json = (res: ServerResponse, status: number, body: unknown, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(JSON.stringify(body));
  };
  const smsError = (res: ServerResponse, status: number, message: string) =>
    json(res, status, { __type: SMS_ERRORS[status] ?? 'InternalServerException', message }, 'application/x-amz-json-1.0');

  async function handle(req: IncomingMessage, res: ServerResponse, body: string) {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'POST' && path === '/' && req.headers['x-amz-target']) return sendText(req, res, body);
    if (req.method === 'POST' && path.startsWith('/webhooks/')) return receiveWebhook(req, res, path.slice('/webhooks/'.length), body);
    if (req.method === 'GET' && path === '/store') {
      // Fault uses not yet consumed, per channel: a test accounts for every fault it set (refused = set - pending).
      const pending = { sms: 0, webhook: 0 };
      for (const f of faults) pending[f.channel] += f.times;
      return json(res, 200, { sms, webhooks, refused, pending });
    }
    if (req.method === 'POST' && path === '/clear-store') {
      sms.length = 0;
      webhooks.length = 0;
      refused.sms = refused.webhook = 0;
      return json(res, 200, { cleared: true });
    }
    if (req.method === 'POST' && path === '/admin/fault') {
      const f = JSON.parse(body || '{}');
      if (f.channel !== 'sms' && f.channel !== 'webhook') return json(res, 400, { error: 'channel must be sms or webhook' });
      if (f.status === undefined && f.delay_ms === undefined) return json(res, 400, { error: 'give status and/or delay_ms' });
      faults.push({ channel: f.channel, status: f.status, delayMs: f.delay_ms, times: f.times ?? 1 });
      return json(res, 200, { faults: faults.length });
    }
    if (req.method === 'POST' && path === '/admin/reset') {
      faults = [];
      return json(res, 200, { faults: 0 });
    }
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(page(sms, webhooks));
    }
    json(res, 404, { error: 'not found' });
  }

  async function sendText(req: IncomingMessage, res: ServerResponse, body: string) {
    const target = String(req.headers['x-amz-target']);
    if (target !== 'PinpointSMSVoiceV2.SendTextMessage') return smsError(res, 400, `this stand-in does not implement ${target}`);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body);
    } catch {
      return smsError(res, 400, 'the request body is not JSON');
    }
    const fault = takeFault('sms');
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault?.status) {
      refused.sms++;
      return smsError(res, fault.status, 'injected');
    }
    const to = input.DestinationPhoneNumber;
    const text = input.MessageBody;
    const origin = input.OriginationIdentity;
    if (typeof to !== 'string' || !E164.test(to)) return smsError(res, 400, 'DestinationPhoneNumber must be E.164');
    if (typeof text !== 'string' || text.length < 1 || text.length > 1600)
      return smsError(res, 400, 'MessageBody must be 1-1600 characters');
    if (origin !== undefined && (typeof origin !== 'string' || !origin)) return smsError(res, 400, 'OriginationIdentity is empty');
    const length = smsLength(text);
    const messageId = randomUUID();
    sms.push({
      messageId,
      originationIdentity: (origin as string | undefined) ?? '',
      to,
      body: text,
      messageType: (input.MessageType as string | undefined) ?? null,
      encoding: length.encoding,
      segments: length.segments,
      at: Date.now(),
    });
    json(res, 200, { MessageId: messageId }, 'application/x-amz-json-1.0');
  }

  async function receiveWebhook(req: IncomingMessage, res: ServerResponse, name: string, body: string) {
    const fault = takeFault('webhook');
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    const status = fault?.status ?? 204;
    if (fault?.status) refused.webhook++;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (k.startsWith('webhook-') || k === 'content-type') headers[k] = String(v);
    if (!res.destroyed) webhooks.push({ name, headers, body, status, at: Date.now() });
    res.writeHead(status, status >= 300 && status < 400 ? { location: 'https://elsewhere.example/' } : {});
    res.end(status === 204 ? undefined : 'answer body the sender must not log');
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e) => {
        if (!res.headersSent) json(res, 500, { error: (e as Error).message });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${opts.host}:${port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(sms: SmsRecord[], webhooks: WebhookRecord[]): string {
  const rows = (cells: string[][]) => cells.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>Local alerts</title>
<style>body{font:14px system-ui;margin:2em}td{border-top:1px solid #ccc;padding:4px 8px;vertical-align:top;white-space:pre-wrap}</style>
<h1>Texts (${sms.length})</h1><table>${rows(
    [...sms].reverse().map((m) => [new Date(m.at).toISOString(), m.to, `${m.segments} segment(s), ${m.encoding}`, m.body]),
  )}</table>
<h1>Webhooks (${webhooks.length})</h1><table>${rows(
    [...webhooks].reverse().map((w) => [new Date(w.at).toISOString(), w.name, String(w.status), w.headers['webhook-id'] ?? '', w.body]),
  )}</table>`;
}
