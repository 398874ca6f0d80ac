import { createHash } from 'node:crypto';
import { ConfigError, intSetting } from '@lead-intake/config';
import { isE164 } from '@lead-intake/contacts/rules';
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
/** The ARN of an End User Messaging SMS phone number, pool or sender id: the IAM policy allows sending from it only. */
export const SMS_ORIGINATION_IDENTITY = /^arn:aws[a-z-]*:sms-voice:[a-z0-9-]+:\d{12}:(phone-number|pool|sender-id)\/[A-Za-z0-9_:/-]+$/;
/** At most this many owner phones: each text is a delivery of its own, and each costs. */
export const MAX_OWNER_PHONES = 5;

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
  stageVariables(entry) {
    const { to, originationIdentity, leads } = entry;
    // An entry without phones is a mistake, not "off" (an empty LEAD_SMS_TO is off).
    if (!Array.isArray(to) || !to.length) throw new ConfigError('LEAD_SMS_TO', `sms.to must list 1 to ${MAX_OWNER_PHONES} owner phones`);
    return {
      LEAD_SMS_TO: to.map(String).join(','),
      LEAD_SMS_ORIGINATION_IDENTITY: typeof originationIdentity === 'string' ? originationIdentity : '',
      LEAD_SMS_LEADS: leads === undefined ? 'all' : String(leads),
    };
  },
  settings(env) {
    const to = (env.LEAD_SMS_TO ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    if (!to.length) return null;
    if (to.length > MAX_OWNER_PHONES || !to.every(isE164))
      throw new ConfigError('LEAD_SMS_TO', `LEAD_SMS_TO must list 1 to ${MAX_OWNER_PHONES} owner phones in E.164 (+15551234567)`);
    const origin = env.LEAD_SMS_ORIGINATION_IDENTITY ?? '';
    if (!SMS_ORIGINATION_IDENTITY.test(origin))
      throw new ConfigError(
        'LEAD_SMS_ORIGINATION_IDENTITY',
        'LEAD_SMS_ORIGINATION_IDENTITY must be the ARN of an End User Messaging SMS phone number, pool or sender id ' +
          '(arn:aws:sms-voice:<region>:<account>:phone-number/<id>): the IAM policy allows sending from it only',
      );
    return {
      to,
      originationIdentity: origin,
      leads: leadsSetting(env, 'LEAD_SMS_LEADS'),
      timeoutMs: intSetting(env, 'LEAD_SMS_TIMEOUT_MS', 3000, { min: 100, max: 30000 }),
    };
  },
  // The owner acts on a callback asked for after the lead first: it reaches the phones the lead did.
  updates: true,
  deliveries(s, alert) {
    let text: Promise<string> | undefined;
    return s.to.map((to) => ({
      key: smsDeliveryKey(to),
      send: async () => {
        const [{ createSmsClient, sendSms }, { leadSmsText, updateSmsText }] = await Promise.all([
          import('../send-sms'),
          import('../lead-sms'),
        ]);
        text ??= Promise.resolve(alert.update ? updateSmsText(alert) : leadSmsText(alert));
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
