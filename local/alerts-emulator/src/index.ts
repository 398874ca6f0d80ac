export { startAlertsEmulator, type RunningAlertsEmulator, type SmsRecord, type WebhookRecord } from './server';
