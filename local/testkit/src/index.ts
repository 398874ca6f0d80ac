import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EmulatorAdmin } from '@lead-intake/openai-emulator';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';
import { CHAT_THREADS_TABLE, clientTokenFor, conversations } from './conversations';

/** Helpers for tests that run against the stack started by test/jest/global-setup.ts. */

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through \`npm test\` (Jest's global setup starts the local stack)`);
  return v;
};
const host = () => env('TEST_LOCAL_HOST');

export function stackUrls(): { session: string; lead: string; chat?: string } {
  const outputs = JSON.parse(readFileSync(env('TEST_STACK_OUTPUTS'), 'utf8')).custom;
  return { session: outputs.chatkit_session_url, lead: outputs.chatkit_lead_email_url, chat: outputs.chatkit_api_url };
}

export const emulatorOrigin = () => `http://${host()}:${env('TEST_LOCAL_OPENAI_PORT')}`;
export const emulatorBaseURL = () => `${emulatorOrigin()}/v1`;
export const emulator = () => new EmulatorAdmin(emulatorOrigin());
export const dynamoEndpoint = () => `http://${host()}:${env('TEST_LOCAL_DYNAMODB_PORT')}`;
export const sesEndpoint = () => `http://${host()}:${env('TEST_LOCAL_SES_PORT')}`;
export const sqsEndpoint = () => `http://${host()}:${env('TEST_LOCAL_SQS_PORT')}`;
export const s3Endpoint = () => `http://${host()}:${env('TEST_LOCAL_S3_PORT')}`;
/** The local bucket of customers' photos and files (the deploy's name, in the local account). */
export const ATTACHMENTS_BUCKET = 'chatkit-lead-intake-000000000000-local-files';
/** An S3 client for the stack's S3 stand-in (as the functions reach it: AWS_ENDPOINT_URL_S3, path-style). */
export async function s3Client() {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: s3Endpoint(),
    region: 'us-west-2',
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** A fresh queue in the test stack's SQS emulator (a test's own trigger spool); answers its name. */
export async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const { SQSClient, CreateQueueCommand } = await import('@aws-sdk/client-sqs');
  const sqs = new SQSClient({
    endpoint: sqsEndpoint(),
    region: 'us-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const QueueName = `${name}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    await sqs.send(new CreateQueueCommand({ QueueName, Attributes: attributes }));
    return QueueName;
  } finally {
    sqs.destroy();
  }
}

/** Every message in a queue (bodies parsed), read without receiving them, from the emulator's listing. */
export async function queueMessages(queueName: string): Promise<Array<{ body: any; receiveCount: number; visible: boolean }>> {
  const listing = (await (await fetch(`${sqsEndpoint()}/`)).json()) as {
    queues: Array<{ url: string; messages: Array<{ body: string; receiveCount: number; visible: boolean }> }>;
  };
  const q = listing.queues.find((x) => x.url.split('/').pop() === queueName);
  if (!q) throw new Error(`no queue ${queueName} in the SQS emulator`);
  return q.messages.map((m) => ({ ...m, body: JSON.parse(m.body) }));
}

export interface SesEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { text?: string; html?: string };
  at: number;
}

export async function sesEmails(): Promise<SesEmail[]> {
  const res = await fetch(`${sesEndpoint()}/store`);
  return ((await res.json()) as { emails: SesEmail[] }).emails;
}

/** The emails the SES emulator holds for one thread (the thread id is in every lead email). */
export async function emailsFor(threadId: string): Promise<SesEmail[]> {
  return (await sesEmails()).filter((m) => m.body.text?.includes(threadId));
}

/** A thread's ledger record, read consistently from the test stack's ledger table. */
export async function ledgerRecord(threadId: string): Promise<Record<string, any> | undefined> {
  const { GetCommand } = await import('@aws-sdk/lib-dynamodb');
  return (
    await documentClient().send(new GetCommand({ TableName: await ledgerTableName(), Key: { thread_id: threadId }, ConsistentRead: true }))
  ).Item;
}

/** Kills the DynamoDB Local listening on `port` outright (SIGKILL, as a crash), answering its pid. */
export function killDynamoLocal(port: number): number {
  const { execSync } = require('node:child_process') as typeof import('node:child_process');
  const pids = execSync(`pgrep -f "^java .*DynamoDBLocal.jar.*-port ${port}" || true`)
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(Number);
  if (pids.length !== 1) throw new Error(`expected one DynamoDB Local on port ${port}, found ${pids.length}`);
  process.kill(pids[0]!, 'SIGKILL');
  return pids[0]!;
}

/**
 * A complete lead summary as the model returns it (every key of the strict schema), for queueing
 * on the emulator; `over` changes what a test is about.
 */
export function leadSummary(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    handoff_ready: true,
    handoff_reason: 'Phone and project are explicit.',
    customer_name: 'Dana Whitfield',
    customer_language: 'English',
    vehicle: { year: 2016, make: 'Toyota', model: 'Tacoma' },
    project_summary: 'Check engine light on',
    summary: 'Dana reports the check engine light on her 2016 Tacoma.',
    key_details: ['Check engine light on since Monday'],
    missing_info: ['Mileage'],
    next_steps: ['Call Dana to book a diagnostic'],
    call_script_prompts: ['Ask when the light came on.', 'Ask if it blinks.', 'Offer a diagnostic slot.'],
    outreach_message: 'Hi Dana, this is Craig’s Autos about your Tacoma.',
    sms_draft: 'Hi Dana, Craig’s Autos here about your Tacoma. Can we call you today?',
    email_subject: 'Your Tacoma check engine light',
    email_body: 'Hi Dana,\nThanks for reaching out.\nCraig’s Autos',
    urgency: 'normal',
    lead_kind: 'customer',
    ...over,
  };
}

/**
 * Forgets which leads the test stack's phone numbers produced (the follow-up index): tests that
 * reuse a number are different customers, not follow-ups.
 */
export async function clearFollowUps(): Promise<void> {
  const { ScanCommand, BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
  const doc = documentClient();
  const TableName = 'chatkit-lead-intake-lead-local-contacts';
  const keys = ((await doc.send(new ScanCommand({ TableName, ProjectionExpression: 'contact_hash' }))).Items ?? []) as Array<{
    contact_hash: string;
  }>;
  for (let i = 0; i < keys.length; i += 25)
    await doc.send(
      new BatchWriteCommand({ RequestItems: { [TableName]: keys.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })) } }),
    );
}

export async function clearSes(): Promise<void> {
  await fetch(`${sesEndpoint()}/clear-store`, { method: 'POST' });
}

/** A DynamoDB client for the stack's DynamoDB Local. */
export function dynamoClient(): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: dynamoEndpoint(),
    region: 'us-west-2',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

export function documentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamoClient());
}

/** This test file's own ledger table, while it has one (useOwnLedgerTable). */
let ownLedgerTable: string | undefined;

/**
 * Gives the calling test file a ledger table of its own (the stack's definition, a fresh name),
 * created before its tests and deleted after them: every helper (leadEnv, ledgerRecord,
 * ledgerTableName) then uses it. For files that sweep (the sweeper takes the oldest due records
 * of its table) or write records with a clock of their own: nothing another file left can be
 * taken first, and nothing they leave is found by another file.
 */
export function useOwnLedgerTable(label: string): void {
  beforeAll(async () => {
    const source = await ledgerTableName();
    ownLedgerTable = await createTableLike(source, `${source}-${label}-${Date.now().toString(36)}`);
  });
  afterAll(async () => {
    const name = ownLedgerTable;
    ownLedgerTable = undefined;
    if (name) {
      const { DeleteTableCommand } = await import('@aws-sdk/client-dynamodb');
      await dynamoClient().send(new DeleteTableCommand({ TableName: name }));
    }
  });
}

/** A new table in the stack's DynamoDB Local with another table's keys and indexes (read back from it). */
export async function createTableLike(source: string, name: string, client: DynamoDBClient = dynamoClient()): Promise<string> {
  const { CreateTableCommand, DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
  const t = (await dynamoClient().send(new DescribeTableCommand({ TableName: source }))).Table!;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      AttributeDefinitions: t.AttributeDefinitions,
      KeySchema: t.KeySchema,
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: t.GlobalSecondaryIndexes?.map((g) => ({
        IndexName: g.IndexName,
        KeySchema: g.KeySchema,
        Projection: g.Projection,
      })),
    }),
  );
  return name;
}

/** The ledger table the local stack created from services/lead/serverless.yml (or the file's own: useOwnLedgerTable). */
export async function ledgerTableName(): Promise<string> {
  if (ownLedgerTable) return ownLedgerTable;
  const { ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
  const doc = documentClient();
  const names = (await doc.send(new ListTablesCommand({}))).TableNames ?? [];
  const table = names.find((n) => n.endsWith('-dedupe'));
  if (!table) throw new Error(`no *-dedupe table in DynamoDB Local (tables: ${names.join(', ')})`);
  return table;
}

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function postJson<T = any>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** A Function URL (payload 2.0) event, for invoking a handler in-process with a changed environment. */
export function urlEvent(
  opts: { body?: string; headers?: Record<string, string>; method?: string; isBase64Encoded?: boolean } = {},
): LambdaFunctionURLEvent {
  const now = Date.now();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'test',
      domainName: 'test.lambda-url.us-west-2.on.aws',
      domainPrefix: 'test',
      http: { method: opts.method ?? 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date(now).toUTCString(),
      timeEpoch: now,
    },
    body: opts.body,
    isBase64Encoded: opts.isBase64Encoded ?? false,
  };
}

/** A Lambda context with a deadline, for in-process handler calls. */
export function lambdaContext(timeoutMs = 10_000): any {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: randomUUID(),
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-west-2:000000000000:function:test',
    memoryLimitInMB: '256',
    logGroupName: '/aws/lambda/test',
    logStreamName: 'test',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
}
export { launchChromium, chromiumPath } from './browser';

/** Sets (or, for `undefined`, deletes) environment variables before loading a module in-process. */
export function applyEnv(env: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

/** The environment the lead handler needs to run in-process against the test stack. */
export async function leadEnv(over: Record<string, string | undefined> = {}): Promise<Record<string, string | undefined>> {
  return {
    OPENAI_BASE_URL: emulatorBaseURL(),
    OPENAI_API_KEY: 'sk-test-lead',
    ALLOWED_ORIGINS: 'https://chat.craigs.autos,https://craigs.autos,http://localhost:4321',
    AWS_ENDPOINT_URL_SES: sesEndpoint(),
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint(),
    AWS_ENDPOINT_URL_SQS: sqsEndpoint(),
    // No spool unless a test creates one (createQueue): a trigger refused by the ledger is then a 503.
    LEAD_SPOOL_QUEUE_NAME: undefined,
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    LEAD_DEDUPE_TABLE_NAME: await ledgerTableName(),
    // Self-hosted, as the stack runs: threads from the store (hosted fallback), the user from the token.
    CHATKIT_MODE: 'self-hosted',
    CHAT_THREADS_TABLE_NAME: CHAT_THREADS_TABLE,
    CHATKIT_TOKEN_SECRET: LOCAL_TOKEN_SECRET,
    LEAD_TO_EMAIL: undefined,
    LEAD_FROM_EMAIL: undefined,
    LEAD_SUMMARY_TIMEOUT_MS: undefined,
    LEAD_SUMMARY_MAX_RETRIES: undefined,
    LEAD_DEDUPE_LEASE_SECONDS: undefined,
    LEAD_DEDUPE_ERROR_COOLDOWN_SECONDS: undefined,
    LEAD_DEDUPE_MAX_ATTEMPTS: undefined,
    LEAD_FUNCTION_TIMEOUT_SECONDS: undefined,
    // The owner's other channels are off unless a test turns them on (alertsEnv).
    LEAD_SMS_TO: undefined,
    LEAD_SMS_ORIGINATION_IDENTITY: undefined,
    LEAD_WEBHOOK_URL: undefined,
    LEAD_WEBHOOK_SECRET: undefined,
    // No inbox records unless a test asks (the stack's own lead function writes them).
    LEAD_INBOX_TABLE: undefined,
    LEAD_INBOX_URL: undefined,
    SECRETS_SSM_PATH: undefined,
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Logged as deployed: test/jest/environment.cjs keeps it out of the output (unless the test fails)
    // and the end-of-run scan reads it for customer data.
    POWERTOOLS_LOG_LEVEL: 'INFO',
    ...over,
  };
}

/** The test stack's alerts stand-in (texts and the webhook receiver). */
/** The owner's lead inbox of the test stack (services/inbox). */
export const inboxUrl = () => `http://${host()}:${env('TEST_LOCAL_INBOX_PORT')}`;

/** A stack table by the end of its name (`-leads`, `-auth`...), as the local stack created it from the services' resources. */
export async function tableEndingWith(suffix: string): Promise<string> {
  const { ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
  const names = (await dynamoClient().send(new ListTablesCommand({}))).TableNames ?? [];
  const table = names.find((n) => n.endsWith(suffix) && !n.includes('-dedupe-'));
  if (!table) throw new Error(`no *${suffix} table in DynamoDB Local (tables: ${names.join(', ')})`);
  return table;
}

export const alertsEndpoint = () => `http://${host()}:${env('TEST_LOCAL_ALERTS_PORT')}`;
/** The webhook secret the tests sign with (Standard Webhooks format). */
export const TEST_WEBHOOK_SECRET = 'whsec_dGVzdC13ZWJob29rLXNlY3JldC1mb3ItY2hhbm5lbC10ZXN0cw==';
/** The lead functions' settings that turn SMS (two owner phones) and the webhook on, against the alerts stand-in. */
export function alertsEnv(over: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2: alertsEndpoint(),
    LEAD_SMS_TO: '+15555550100,+15555550111',
    LEAD_SMS_ORIGINATION_IDENTITY: 'arn:aws:sms-voice:us-west-2:000000000000:phone-number/phone-test',
    LEAD_SMS_LEADS: 'all',
    LEAD_WEBHOOK_URL: `${alertsEndpoint()}/webhooks/test`,
    LEAD_WEBHOOK_LEADS: 'all',
    LEAD_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    ...over,
  };
}
export interface AlertsStore {
  sms: Array<{ messageId: string; originationIdentity: string; to: string; body: string; encoding: string; segments: number; at: number }>;
  webhooks: Array<{ name: string; headers: Record<string, string>; body: string; status: number; at: number }>;
  refused: { sms: number; webhook: number };
  pending: { sms: number; webhook: number };
}
export async function alertsStore(): Promise<AlertsStore> {
  return (await fetch(`${alertsEndpoint()}/store`)).json() as Promise<AlertsStore>;
}
/** The texts and webhook deliveries of one thread (its id is in the webhook body; texts by the customer's callback number). */
export async function alertsFor(threadId: string, phone?: string) {
  const s = await alertsStore();
  return {
    sms: s.sms.filter((m) => !!phone && m.body.includes(phone)),
    webhooks: s.webhooks.filter((w) => w.body.includes(`"thread_id":"${threadId}"`)),
  };
}
export async function clearAlerts(): Promise<void> {
  await fetch(`${alertsEndpoint()}/clear-store`, { method: 'POST' });
  await fetch(`${alertsEndpoint()}/admin/reset`, { method: 'POST' });
}
/** The next `times` requests of a channel answer `status` and/or are held `delay_ms`. */
export async function alertsFault(f: { channel: 'sms' | 'webhook'; status?: number; delay_ms?: number; times?: number }): Promise<void> {
  const res = await fetch(`${alertsEndpoint()}/admin/fault`, { method: 'POST', body: JSON.stringify(f) });
  if (!res.ok) throw new Error(`alerts stand-in refused the fault: ${await res.text()}`);
}
export { startSsmStandIn, type SsmStandIn } from './ssm-standin';

/** A client token for the local stack's chat endpoint (the local token secret), as the session service mints them. */
export async function chatToken(user: string, ttlSeconds = 600): Promise<string> {
  return clientTokenFor(user, ttlSeconds);
}

/** Self-hosted conversations in the test stack's store, and lead triggers with their owner's token. */
export const threads = conversations(dynamoClient);
export { conversations };
export { leadAuth, ownerOf, clientTokenFor, CHAT_THREADS_TABLE } from './conversations';

/** POSTs a ChatKit request to the chat endpoint; streaming answers come back as parsed SSE events. */
export async function chatRequest(body: unknown, opts: { token?: string; signal?: AbortSignal; headers?: Record<string, string> } = {}) {
  const res = await fetch(stackUrls().chat!, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.headers ?? {}),
    },
    body: JSON.stringify(body),
    signal: opts.signal,
  });
  const text = await res.text();
  const sse = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
  return {
    status: res.status,
    headers: res.headers,
    json: sse ? undefined : (JSON.parse(text) as any),
    events: sse ? parseSse(text) : [],
    raw: text,
  };
}

export function parseSse(text: string): any[] {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('data: '))
    .map((f) => JSON.parse(f.slice(6)));
}
