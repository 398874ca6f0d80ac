/**
 * Hosts and ports of the local stack. The defaults are a contract (README, frontend, CI); each can
 * be overridden with the environment variable named beside it.
 */
export interface LocalStackConfig {
  host: string;
  stage: string;
  dynamoPort: number;
  sesPort: number;
  /** The SQS emulator (the lead service's trigger spool). */
  sqsPort: number;
  /** The S3 stand-in (customers' photos and files). */
  s3Port: number;
  /** The alerts stand-in (the owner's texts and the webhook receiver). */
  alertsPort: number;
  openaiPort: number;
  functionPorts: Record<string, number>;
  /** Write `.local/outputs.json` (tests that run a second stack turn this off). */
  outputsFile: string | null;
  /** LOCAL_CHATKIT_MODE: overrides the stage's chatkitMode for this run (stages.config.json stays as it is). */
  chatkitMode: 'self-hosted' | 'hosted' | null;
  /** LOCAL_DYNAMODB_DATA_DIR: keep DynamoDB Local's data in this folder (survives a restart) instead of in memory. */
  dynamoDataDir: string | null;
}

/** The self-hosted chat's token secret locally, unless CHATKIT_TOKEN_SECRET is set (never a deployed value). */
export const LOCAL_TOKEN_SECRET = 'local-development-token-secret-0123456789';

/** The webhook signing secret locally (Standard Webhooks format), unless LEAD_WEBHOOK_SECRET is set (never a deployed value). */
export const LOCAL_WEBHOOK_SECRET = 'whsec_bG9jYWwtZGV2ZWxvcG1lbnQtd2ViaG9vay1zZWNyZXQtMDE=';

export const PORT_VARS = {
  dynamoPort: 'LOCAL_DYNAMODB_PORT',
  sesPort: 'LOCAL_SES_PORT',
  sqsPort: 'LOCAL_SQS_PORT',
  s3Port: 'LOCAL_S3_PORT',
  alertsPort: 'LOCAL_ALERTS_PORT',
  openaiPort: 'LOCAL_OPENAI_PORT',
} as const;

/** Function name -> [port variable, default port, key in outputs.json (none: the frontend does not call it)]. */
export const FUNCTION_URLS: Record<string, { portVar: string; port: number; output?: string }> = {
  session: { portVar: 'LOCAL_SESSION_PORT', port: 3101, output: 'chatkit_session_url' },
  lead: { portVar: 'LOCAL_LEAD_PORT', port: 3102, output: 'chatkit_lead_email_url' },
  chat: { portVar: 'LOCAL_CHAT_PORT', port: 3103, output: 'chatkit_api_url' },
  // The lead email's links to customers' photos (a GET from the owner's mail client).
  files: { portVar: 'LOCAL_FILES_PORT', port: 3104 },
  // The owner's lead inbox (services/inbox): web pages, opened in a browser.
  inbox: { portVar: 'LOCAL_INBOX_PORT', port: 3105, output: 'inbox_url' },
};

function port(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name}=${raw} is not a port number`);
  return n;
}

export function configFromEnv(env: NodeJS.ProcessEnv, outputsFile: string): LocalStackConfig {
  const functionPorts: Record<string, number> = {};
  for (const [fn, d] of Object.entries(FUNCTION_URLS)) functionPorts[fn] = port(env, d.portVar, d.port);
  return {
    host: env.LOCAL_HOST || '127.0.0.1',
    stage: env.LOCAL_STAGE || 'local',
    dynamoPort: port(env, PORT_VARS.dynamoPort, 8000),
    sesPort: port(env, PORT_VARS.sesPort, 8005),
    sqsPort: port(env, PORT_VARS.sqsPort, 8006),
    s3Port: port(env, PORT_VARS.s3Port, 8007),
    alertsPort: port(env, PORT_VARS.alertsPort, 8008),
    openaiPort: port(env, PORT_VARS.openaiPort, 3110),
    functionPorts,
    outputsFile: env.LOCAL_OUTPUTS_FILE === '' ? null : env.LOCAL_OUTPUTS_FILE || outputsFile,
    chatkitMode: chatkitMode(env.LOCAL_CHATKIT_MODE),
    dynamoDataDir: env.LOCAL_DYNAMODB_DATA_DIR || null,
  };
}

function chatkitMode(raw: string | undefined): 'self-hosted' | 'hosted' | null {
  if (raw === undefined || raw === '') return null;
  if (raw !== 'self-hosted' && raw !== 'hosted') throw new Error(`LOCAL_CHATKIT_MODE=${raw} must be self-hosted or hosted`);
  return raw;
}
