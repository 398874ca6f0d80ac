// Typed access for Node tools (scripts, tests). The deploy reads the same file through serverless.cjs.
import { createRequire } from 'node:module';

export interface StageSettings {
  stage: string;
  region: string;
  allowedOrigins: string[];
  allowedOriginsCsv: string;
  /** Where the alarm topics' email subscription goes; '' for none. */
  alarmSubscriptionEmail: string;
  logRetentionDays: number;
  /** The owner channels' variables for the lead functions, '' when a channel is off (packages/alerts/src/channels). */
  alertsEnv: Record<string, string>;
  [key: string]: unknown;
}

const require_ = createRequire(__filename);
const { resolveStage: resolve, LOCAL_ACCOUNT_ID: localAccount } = require_('../resolve.cjs') as {
  resolveStage: (stage: string, file?: string) => StageSettings;
  LOCAL_ACCOUNT_ID: string;
};

/** The account id of everything local (the local stack, its S3 and SQS stand-ins). */
export const LOCAL_ACCOUNT_ID = localAccount;

export function resolveStage(stage: string, file?: string): StageSettings {
  return resolve(stage, file);
}

/** The stage's bucket of customers' files in an account (the deploy builds the same name with Fn::Sub). */
export function attachmentsBucketFor(settings: StageSettings, accountId: string): string {
  return String(settings.attachmentsBucketSub).replace('${AWS::AccountId}', accountId);
}
