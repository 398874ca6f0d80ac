/** The bench's local stack and its fixtures: ports, bundles, the conversations it seeds, Function URL events. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mintClientToken } from '@lead-intake/chat-auth';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';
import { EmulatorAdmin, type SeedItem } from '@lead-intake/openai-emulator';
import { resolveStage } from '@lead-intake/stage-config';
import { DynamoThreadStore } from '@lead-intake/thread-store';

export const ROOT = join(__dirname, '..', '..');
export const HOST = '127.0.0.1';
export const PORTS = {
  LOCAL_DYNAMODB_PORT: 19000,
  LOCAL_SES_PORT: 19005,
  LOCAL_SQS_PORT: 19006,
  LOCAL_S3_PORT: 19007,
  LOCAL_ALERTS_PORT: 19008,
  LOCAL_OPENAI_PORT: 19110,
  LOCAL_SESSION_PORT: 19101,
  LOCAL_LEAD_PORT: 19102,
  LOCAL_CHAT_PORT: 19103,
  LOCAL_FILES_PORT: 19104,
  LOCAL_INBOX_PORT: 19105,
};
/** A second stack's ports from a base (the scenarios that run their own stack: 19200, 19300...). */
export const portsAt = (base: number) => ({
  LOCAL_DYNAMODB_PORT: base,
  LOCAL_SESSION_PORT: base + 1,
  LOCAL_LEAD_PORT: base + 2,
  LOCAL_CHAT_PORT: base + 3,
  LOCAL_FILES_PORT: base + 4,
  LOCAL_INBOX_PORT: base + 9,
  LOCAL_SES_PORT: base + 5,
  LOCAL_SQS_PORT: base + 6,
  LOCAL_S3_PORT: base + 7,
  LOCAL_ALERTS_PORT: base + 8,
  LOCAL_OPENAI_PORT: base + 10,
});
export const emu = new EmulatorAdmin(`http://${HOST}:${PORTS.LOCAL_OPENAI_PORT}`);
export const dynamoEndpoint = `http://${HOST}:${PORTS.LOCAL_DYNAMODB_PORT}`;
export const sesEndpoint = `http://${HOST}:${PORTS.LOCAL_SES_PORT}`;
export const sessionUrl = `http://${HOST}:${PORTS.LOCAL_SESSION_PORT}/`;
export const leadUrl = `http://${HOST}:${PORTS.LOCAL_LEAD_PORT}/`;
export const BUILD = join(ROOT, '.local', 'build');
export const BUNDLES = {
  session: join(BUILD, 'chatkit-lead-intake-session-session.cjs'),
  lead: join(BUILD, 'chatkit-lead-intake-lead-lead.cjs'),
  chat: join(BUILD, 'chatkit-lead-intake-chat-chat.cjs'),
};
// The bench runs its own stack as the `bench` stage (stages.config.json): the same code, with usage
// limits that hundreds of turns from one bench user do not hit.
export const STAGE = 'bench';
export const stage = resolveStage(STAGE);
export const chatUrl = `http://${HOST}:${PORTS.LOCAL_CHAT_PORT}/`;
export const token = (user: string, ttl = 3600) => mintClientToken(LOCAL_TOKEN_SECRET, user, ttl).token;
export const auth = (user: string) => ({ authorization: `Bearer ${token(user)}` });
export const threadStore = () =>
  new DynamoThreadStore({
    tableName: stage.chatThreadsTable as string,
    client: new DynamoDBClient({
      endpoint: dynamoEndpoint,
      region: 'us-west-2',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  });

/** A self-hosted conversation written as the chat writes it; answers its id. */
export async function seedConversation(user: string, items: SeedItem[]): Promise<string> {
  const s = threadStore();
  const id = s.generateThreadId();
  await s.saveThread({ id, created_at: new Date().toISOString(), status: { type: 'active' }, title: null, metadata: {} }, user);
  await appendItems(id, items);
  return id;
}
export async function appendItems(threadId: string, items: SeedItem[]): Promise<void> {
  const s = threadStore();
  for (const item of items) {
    const base = { id: s.generateItemId('message'), thread_id: threadId, created_at: new Date().toISOString() };
    await s.addThreadItem(
      threadId,
      item.role === 'assistant'
        ? { ...base, type: 'assistant_message', content: [{ type: 'output_text', text: item.text ?? '', annotations: [] }] }
        : {
            ...base,
            type: 'user_message',
            content: [{ type: 'input_text', text: item.text ?? '' }],
            attachments: [],
            inference_options: {},
          },
    );
  }
}

/**
 * The bench's stack. The main one runs no schedules and no stream mappings (the browser-trigger
 * figures are measured alone); the server-scheduled phase starts a second one with both on.
 */
export async function startStack(
  ports: Record<string, number> = PORTS,
  over: NodeJS.ProcessEnv = {},
  name = 'bench',
): Promise<ChildProcess> {
  mkdirSync(join(ROOT, '.local'), { recursive: true });
  const logFile = join(ROOT, '.local', `${name}-stack.log`);
  const out = openSync(logFile, 'w');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOCAL_HOST: HOST,
    LOCAL_STAGE: STAGE,
    LOCAL_SCHEDULE_SECONDS: '0',
    LOCAL_STREAMS: '0',
    LOCAL_OUTPUTS_FILE: join(ROOT, '.local', `${name}-outputs.json`),
    // The functions' own log lines cost CPU the figures should not carry; BENCH_LOG_LEVEL=INFO to see each lead's path.
    POWERTOOLS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'ERROR',
    ...over,
  };
  for (const [k, v] of Object.entries(ports)) env[k] = String(v);
  delete env.OPENAI_API_KEY;
  delete env.OPENAI_BASE_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'local/local-stack/src/cli.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', out, out],
  });
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (/^ready in /m.test(readFileSync(logFile, 'utf8'))) return child;
    if (child.exitCode !== null) throw new Error(`local stack exited:\n${readFileSync(logFile, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('local stack did not become ready');
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return res.json();
}

export const urlEvent = (body: unknown, headers: Record<string, string> = {}) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: '/',
  rawQueryString: '',
  headers: { 'content-type': 'application/json', ...headers },
  requestContext: {
    http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
    requestId: 'bench',
    routeKey: '$default',
    stage: '$default',
    accountId: 'anonymous',
    apiId: 'bench',
    domainName: 'bench',
    domainPrefix: 'bench',
    time: '',
    timeEpoch: 0,
  },
  body: JSON.stringify(body),
  isBase64Encoded: false,
});

/** A DynamoDB proxy that counts requests per table: round trips, measured at the wire. */
export async function countingProxy(target: string) {
  const counts = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let table = '?';
      try {
        const parsed = JSON.parse(body.toString('utf8'));
        // A transaction counts once, under its first item's table.
        const item = parsed.TransactItems?.[0];
        const inItem = item && (Object.values(item)[0] as { TableName?: string } | undefined)?.TableName;
        table = parsed.TableName ?? Object.keys(parsed.RequestItems ?? {})[0] ?? inItem ?? '?';
      } catch {
        /* not JSON */
      }
      counts.set(table, (counts.get(table) ?? 0) + 1);
      const up = httpRequest(target + (req.url ?? '/'), { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  const count = (table?: string) => (table ? (counts.get(table) ?? 0) : [...counts.values()].reduce((a, b) => a + b, 0));
  return {
    url: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    count,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** What every function needs when the bench loads its bundle in a process of its own (self-hosted, the default). */
export function functionEnv(table: string, dynamo: string): NodeJS.ProcessEnv {
  return {
    CHATKIT_MODE: 'self-hosted',
    CHATKIT_TOKEN_SECRET: LOCAL_TOKEN_SECRET,
    CHAT_THREADS_TABLE_NAME: stage.chatThreadsTable as string,
    CHAT_LIMITS_TABLE_NAME: stage.chatLimitsTable as string,
    CHAT_TURNS_PER_MINUTE: String(stage.chatTurnsPerMinute),
    CHAT_DAILY_MODEL_CALLS: String(stage.chatDailyModelCalls),
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo,
    AWS_ENDPOINT_URL_SES: sesEndpoint,
    OPENAI_BASE_URL: `http://${HOST}:${PORTS.LOCAL_OPENAI_PORT}/v1`,
    OPENAI_API_KEY: 'bench-key',
    ALLOWED_ORIGINS: 'https://craigs.autos',
    LEAD_DEDUPE_TABLE_NAME: table,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
}

export const input = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });
