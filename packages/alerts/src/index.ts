export { type Channel, type ChannelLeads, type LeadAlert } from './types';
export { ChannelError } from './errors';
export { smsLength, fitSegments, MAX_SMS_SEGMENTS, type SmsLength, type SmsEncoding } from './sms';
export { leadSmsText, updateSmsText } from './lead-sms';
export {
  leadDocument,
  signWebhook,
  webhookId,
  webhookKey,
  newWebhookSecret,
  deliverWebhook,
  assertWebhookUrl,
  SECRET_PREFIX,
  type LeadDocument,
  type WebhookTarget,
} from './webhook';
export { createSmsClient, sendSms } from './send-sms';
export {
  CHANNELS,
  channelNames,
  channelSecretsFromEnv,
  configuredChannels,
  keysOf,
  takesLead,
  takesAlert,
  type ChannelContext,
  type ChannelDelivery,
  type ChannelModule,
  type ConfiguredChannel,
  type StageFacts,
} from './channels/registry';
export { channelsFromStage } from './channels/stage';
export { smsChannel, smsDeliveryKey, SMS_ORIGINATION_IDENTITY, MAX_OWNER_PHONES, type SmsSettings } from './channels/sms';
export { webhookChannel, LOCAL_ALERTS_URL, type WebhookSettings } from './channels/webhook';
