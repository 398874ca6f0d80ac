import { createHash, createHmac, randomBytes } from 'node:crypto';
import { ChannelError } from './errors';
import type { LeadAlert } from './types';

/**
 * Webhooks the Standard Webhooks way (https://www.standardwebhooks.com): headers `webhook-id`,
 * `webhook-timestamp` (epoch seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
 * id.timestamp.body>` under the secret `whsec_<base64 key>`). The body is one lead document
 * (docs/lead-webhook.schema.json).
 */

export const SECRET_PREFIX = 'whsec_';

/** A new secret in the Standard Webhooks format (for the runbook's setup step and local stages). */
export const newWebhookSecret = () => `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;

/** The key in a `whsec_` secret; throws when it is not one (the setting is named by the caller). */
export function webhookKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error(`a webhook secret starts with ${SECRET_PREFIX}`);
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (key.length < 24 || key.length > 64) throw new Error('a webhook secret holds 24 to 64 bytes of base64 after whsec_');
  return key;
}

/** `v1,<signature>` of one delivery. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', webhookKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * The id of a lead's webhook message: the same for every retry of that lead (receivers drop a
 * repeat), a new one after an operator's full resend (a new ledger record, a new creation time).
 */
export function webhookId(threadId: string, createdAt: number, resend = 0): string {
  const h = createHash('sha256').update(`${threadId}:${createdAt}:${resend}`).digest('base64url').slice(0, 24);
  return `msg_${h}`;
}

const iso = (s: number) => new Date(s * 1000).toISOString();

/** The JSON lead document (schema: docs/lead-webhook.schema.json). Field names are a contract. */
export function leadDocument(a: LeadAlert, now: Date) {
  const s = a.summary;
  const files = a.lines.flatMap((l) =>
    l.attachments.map((f) => ({ name: f.name, mime_type: f.mimeType, url: f.previewUrl, at: iso(l.createdAt) })),
  );
  return {
    type: 'lead.created' as const,
    timestamp: now.toISOString(),
    data: {
      schema_version: 1 as const,
      thread_id: a.threadId,
      trigger: a.trigger,
      urgency: a.urgent ? ('urgent' as const) : ('normal' as const),
      shop_closed: a.urgent && a.shopClosed,
      follow_up: a.followUp ? { thread_id: a.followUp.threadId, sent_at: iso(a.followUp.sentAt) } : null,
      // Added (schema_version 1 still): what the customer asked for through the chat's widgets.
      callback_request: a.callback
        ? { phone: a.callback.phone, name: a.callback.name, best_time: a.callback.bestTime, text_ok: a.callback.textOk }
        : null,
      drop_off_request: a.dropOff ? { time: a.dropOff.time, label: a.dropOff.label } : null,
      shop: { name: a.shop.name, phone: a.shop.phone, timezone: a.shop.timezone },
      contacts: { phones: a.contacts.phones, emails: a.contacts.emails },
      customer: { name: s?.customer_name ?? null, language: s?.customer_language ?? null },
      vehicle: s?.vehicle ?? null,
      summary: s
        ? {
            handoff_ready: s.handoff_ready,
            project_summary: s.project_summary,
            summary: s.summary,
            key_details: s.key_details,
            missing_info: s.missing_info,
            next_steps: s.next_steps,
            call_script_prompts: s.call_script_prompts,
            outreach_message: s.outreach_message,
            sms_draft: s.sms_draft,
            email_subject: s.email_subject,
            email_body: s.email_body,
          }
        : null,
      transcript: a.lines.map((l) => ({
        at: iso(l.createdAt),
        role: l.role,
        speaker: l.speaker,
        text: l.text,
        quote: l.quote,
        attachments: l.attachments.map((f) => ({ name: f.name, mime_type: f.mimeType, url: f.previewUrl })),
      })),
      links: { page: a.pageUrl, files },
    },
  };
}
export type LeadDocument = ReturnType<typeof leadDocument>;

export interface WebhookTarget {
  url: string;
  secret: string;
  timeoutMs: number;
}

/** Only https, except a receiver on this machine (the local stack's): a Lambda has none. */
export function assertWebhookUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error('the webhook URL is not a URL');
  }
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new Error('the webhook URL must be https');
  if (u.username || u.password) throw new Error('the webhook URL must not hold credentials (the signature authenticates)');
  return u;
}

/**
 * One signed delivery. A 2xx is delivered; anything else is a ChannelError with a short code:
 * `http_<status>`, `redirect` (never followed: a redirect could send the lead anywhere),
 * `timeout`, `network`. The receiver's answer body is never read.
 */
export async function deliverWebhook(target: WebhookTarget, id: string, body: string, now = new Date()): Promise<void> {
  const url = assertWebhookUrl(target.url);
  const timestamp = Math.floor(now.getTime() / 1000);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'chatkit-lead-intake-webhooks/1',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(target.secret, id, timestamp, body),
      },
      body,
    });
  } catch (e) {
    const name = (e as Error)?.name;
    throw new ChannelError('webhook', name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network', { cause: e });
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return;
  throw new ChannelError('webhook', res.status >= 300 && res.status < 400 ? 'redirect' : `http_${res.status}`);
}
