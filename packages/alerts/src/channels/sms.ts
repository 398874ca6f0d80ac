import { createHash } from 'node:crypto';
import { ConfigError, intSetting } from '@lead-intake/config';
import { isE164 } from '@lead-intake/contacts';
import type { ChannelLeads } from '../types';
import type { ChannelModule } from './registry';
import { leadsSetting } from './leads';

export interface SmsSettings {
  to: string[];
  originationIdentity: string;
  leads: ChannelLeads;
  timeoutMs: number;
}

/**
 * The ledger's key for one recipient's text: its own delivery, so a second owner phone that
 * failed is retried without texting the first again. A hash: no phone number in the record.
 */
export const smsDeliveryKey = (to: string) => `sms_${createHash('sha256').update(to).digest('hex').slice(0, 10)}`;

let client: ReturnType<typeof import('../send-sms').createSmsClient> | undefined;

/**
 * A text to each owner phone (stages.config.json `alerts.sms`; LEAD_SMS_*): each phone its own
 * delivery (`sms_<hash of the number>`: no phone in the ledger), so a second phone that failed is
 * retried without texting the first again. Two segments at most, no transcript.
 */
export const smsChannel: ChannelModule<SmsSettings> = {
  name: 'sms',
  variables: ['LEAD_SMS_TO', 'LEAD_SMS_ORIGINATION_IDENTITY', 'LEAD_SMS_LEADS', 'LEAD_SMS_TIMEOUT_MS'],
  settings(env) {
    const to = (env.LEAD_SMS_TO ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (!to.length) return null;
    if (!to.every(isE164)) throw new ConfigError('LEAD_SMS_TO', 'LEAD_SMS_TO must be comma-separated E.164 phone numbers');
    const origin = env.LEAD_SMS_ORIGINATION_IDENTITY ?? '';
    if (!origin.startsWith('arn:'))
      throw new ConfigError('LEAD_SMS_ORIGINATION_IDENTITY', 'LEAD_SMS_ORIGINATION_IDENTITY must be the ARN texts are sent from');
    return {
      to,
      originationIdentity: origin,
      leads: leadsSetting(env, 'LEAD_SMS_LEADS'),
      timeoutMs: intSetting(env, 'LEAD_SMS_TIMEOUT_MS', 3000, { min: 100, max: 30000 }),
    };
  },
  deliveries(s, alert) {
    let text: Promise<string> | undefined;
    return s.to.map((to) => ({
      key: smsDeliveryKey(to),
      send: async () => {
        const [{ createSmsClient, sendSms }, { leadSmsText }] = await Promise.all([import('../send-sms'), import('../lead-sms')]);
        text ??= Promise.resolve(leadSmsText(alert));
        return sendSms(await (client ??= createSmsClient()), {
          originationIdentity: s.originationIdentity,
          to,
          text: await text,
          timeoutMs: s.timeoutMs,
        });
      },
    }));
  },
};
