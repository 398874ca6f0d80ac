import { ConfigError, intSetting } from '@lead-intake/config';
import { httpUrlOrNull } from '@lead-intake/http/fields';
import type { ChannelLeads } from '../types';
import { assertWebhookUrl } from '../webhook';
import type { ChannelModule } from './registry';
import { leadsSetting } from './leads';

/** The local stack's alerts stand-in, named in stages.config.json by a local stage: `local-alerts-url:<path>`. */
export const LOCAL_ALERTS_URL = /^local-alerts-url:[a-z0-9/_-]+$/;
const ON_THIS_MACHINE = /^(localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[::1\])$/i;
const hostOf = (url: string) => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};

export interface WebhookSettings {
  url: string;
  leads: ChannelLeads;
  timeoutMs: number;
}

/**
 * The lead as a signed JSON document (stages.config.json `alerts.webhook`; LEAD_WEBHOOK_*; the
 * Standard Webhooks signature with the SSM SecureString LEAD_WEBHOOK_SECRET): one delivery
 * (`webhook`), the same `webhook-id` for every retry of a lead, a new one for an operator's resend.
 */
export const webhookChannel: ChannelModule<WebhookSettings> = {
  name: 'webhook',
  variables: ['LEAD_WEBHOOK_URL', 'LEAD_WEBHOOK_LEADS', 'LEAD_WEBHOOK_TIMEOUT_MS'],
  secrets: ['LEAD_WEBHOOK_SECRET'],
  stageVariables(entry, stage) {
    const { url, leads } = entry;
    if (typeof url !== 'string') throw new ConfigError('LEAD_WEBHOOK_URL', 'webhook.url must be an https URL');
    // A deployed stage posts to the internet: https, not this machine, and not the local stand-in
    // (`local-alerts-url:<path>`, which a local stage may name; the running local stack resolves it).
    if (stage.deployed && (LOCAL_ALERTS_URL.test(url) || !/^https:\/\//i.test(url) || ON_THIS_MACHINE.test(hostOf(url))))
      throw new ConfigError('LEAD_WEBHOOK_URL', 'webhook.url must be an https URL, not local (a Lambda has no receiver beside it)');
    return { LEAD_WEBHOOK_URL: url, LEAD_WEBHOOK_LEADS: leads === undefined ? 'all' : String(leads) };
  },
  settings(env) {
    // Not a URL (a local stage's marker under `sls invoke local`): no webhook there.
    const url = httpUrlOrNull(env.LEAD_WEBHOOK_URL);
    if (!url) return null;
    try {
      assertWebhookUrl(url);
    } catch (e) {
      throw new ConfigError('LEAD_WEBHOOK_URL', `LEAD_WEBHOOK_URL: ${(e as Error).message}`);
    }
    return {
      url,
      leads: leadsSetting(env, 'LEAD_WEBHOOK_LEADS'),
      timeoutMs: intSetting(env, 'LEAD_WEBHOOK_TIMEOUT_MS', 3000, { min: 100, max: 30000 }),
    };
  },
  deliveries(s, alert, ctx) {
    return [
      {
        key: 'webhook',
        send: async () => {
          const { ChannelError } = await import('../errors');
          const { deliverWebhook, leadDocument, webhookId, webhookKey } = await import('../webhook');
          // The same id for every retry of this lead: a receiver that saw it drops the repeat.
          const id = webhookId(alert.threadId, ctx.record.createdAt, ctx.record.resendSeq);
          let secret: string;
          try {
            secret = await ctx.secret('LEAD_WEBHOOK_SECRET');
          } catch (e) {
            throw new ChannelError(
              'webhook',
              /missing secret/.test((e as Error)?.message ?? '') ? 'secret_missing' : 'secret_unavailable',
              {
                cause: e,
              },
            );
          }
          try {
            webhookKey(secret);
          } catch {
            throw new ChannelError('webhook', 'secret_invalid');
          }
          await deliverWebhook({ url: s.url, secret, timeoutMs: s.timeoutMs }, id, JSON.stringify(leadDocument(alert, new Date())));
          return id;
        },
      },
    ];
  },
};
