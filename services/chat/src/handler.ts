import { PassThrough } from 'node:stream';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import { limitsFromEnv, S3FileStore } from '@lead-intake/attachments';
import { assertTokenSecret, clientToken, type ChatUserContext } from '@lead-intake/chat-auth';
import { ChatKitServer, KnownThreads, ResponsesResponder, type TurnGate } from '@lead-intake/chat-server';
import { intSetting, openaiBudgetSetting, secrets, stringSetting, type SecretsContext } from '@lead-intake/config';
import { httpErrors, jsonBody, jsonResponse, methodGuard, originPolicy, parseAllowedOrigins } from '@lead-intake/http';
import {
  answerClasses,
  correlate,
  createLogger,
  createMetrics,
  injectLambdaContext,
  MetricUnit,
  publishMetrics,
} from '@lead-intake/observability';
import { lazyOpenaiClient } from '@lead-intake/openai-client/lazy';
import { loadShopProfile } from '@lead-intake/shop';
import { DynamoThreadStore } from '@lead-intake/thread-store';
import { dynamoClient } from '@lead-intake/dynamo';
import { ID, JSON_TYPES, STREAMING_TYPES } from '@lead-intake/chatkit-protocol';
import { DailyBudget, networkOf, UsageLimits } from '@lead-intake/usage-limits';
import { budgetBlock, keptAnswer, usageGate } from './gate';

const KNOWN_TYPES = new Set<string>([...STREAMING_TYPES, ...JSON_TYPES]);

const logger = createLogger('chat');
const metrics = createMetrics('chat');
// Read once per instance: a bad value fails the cold start loudly, naming the variable.
const settings = {
  tableName: stringSetting(process.env, 'CHAT_THREADS_TABLE_NAME'),
  limitsTable: stringSetting(process.env, 'CHAT_LIMITS_TABLE_NAME'),
  model: stringSetting(process.env, 'CHAT_MODEL', 'gpt-5.2-2025-12-11'),
  retentionDays: intSetting(process.env, 'CHAT_RETENTION_DAYS', 365, { min: 1, max: 3650 }),
  turnsPerMinute: intSetting(process.env, 'CHAT_TURNS_PER_MINUTE', 10, { min: 1, max: 100_000 }),
  dailyModelCalls: intSetting(process.env, 'CHAT_DAILY_MODEL_CALLS', 2000, { min: 1, max: 10_000_000 }),
  // One source network's share of those calls, per day and per hour (stages.config.json; docs/backend.md, "Limits").
  networkDailySharePercent: intSetting(process.env, 'CHAT_NETWORK_DAILY_SHARE_PERCENT', 10, { min: 1, max: 100 }),
  networkHourlySharePercent: intSetting(process.env, 'CHAT_NETWORK_HOURLY_SHARE_PERCENT', 3, { min: 1, max: 100 }),
  // A model turn (streamed) takes longer than a session mint or a transcript read.
  openai: openaiBudgetSetting(process.env, 20000),
};
let store: DynamoThreadStore | undefined;
// One DynamoDB client (one connection pool) for the store and the usage counters: a turn's
// requests reuse warm sockets instead of each opening its own.
let dynamo: DynamoDBClient | undefined;
const getDynamo = () => (dynamo ??= dynamoClient());
const getStore = () =>
  (store ??= new DynamoThreadStore({ tableName: settings.tableName, retentionDays: settings.retentionDays, client: getDynamo() }));
let limits: UsageLimits | undefined;
const getLimits = () => (limits ??= new UsageLimits({ tableName: settings.limitsTable, client: getDynamo() }));
// The instance's share of today's model calls (reserved in blocks: see usage-limits/budget.ts).
let budget: DailyBudget | undefined;
const getBudget = () =>
  (budget ??= new DailyBudget({
    tableName: settings.limitsTable,
    key: 'model#day',
    ceiling: settings.dailyModelCalls,
    block: budgetBlock(settings.dailyModelCalls),
    client: getDynamo(),
  }));
// Customers' photos and files: the stage's bucket and limits (without a bucket, attachments are refused as not supported).
const attachments = process.env.CHAT_ATTACHMENTS_BUCKET
  ? { files: new S3FileStore(process.env.CHAT_ATTACHMENTS_BUCKET), limits: limitsFromEnv(process.env) }
  : undefined;
// Which threads this instance has seen to be whose: lets a turn write while it reads (chat-server).
const knownThreads = new KnownThreads();
// One per instance: what it has seen admitted lets a turn ask the model beside the gate (gate.ts `expects`).
let gate: TurnGate | undefined;
const getGate = (shopPhone: string) =>
  (gate ??= usageGate({
    limits: getLimits(),
    budget: getBudget(),
    turnsPerMinute: settings.turnsPerMinute,
    dailyModelCalls: settings.dailyModelCalls,
    networkDailySharePercent: settings.networkDailySharePercent,
    networkHourlySharePercent: settings.networkHourlySharePercent,
    shopPhone,
    metrics,
  }));
// Loaded on the first model call: a cold start's first streamed byte does not wait for the SDK.
const openaiClient = lazyOpenaiClient();

const flushMetrics = () => metrics.hasStoredMetrics() && metrics.publishStoredMetrics();

type ChatContext = SecretsContext & ChatUserContext;
/** A Function URL request, its JSON body parsed by `jsonBody`. */
type ChatEvent = LambdaFunctionURLEvent & { parsedBody?: Record<string, unknown> };

/**
 * The self-hosted ChatKit endpoint (Function URL, response streaming): origin guard and CORS,
 * body, secrets, client token (the user), then the protocol. The server answers JSON (refusals
 * included, with their HTTP status) or a stream of events, written as SSE frames as they happen.
 */
export const handler = middy<ChatEvent, unknown, Error, ChatContext>({ executionMode: executionModeStreamifyResponse })
  .use(injectLambdaContext(logger))
  // JSON answers (and refusals) are counted and published by these; a stream publishes its own when it ends.
  .use(publishMetrics(metrics))
  .use(answerClasses(metrics))
  .use(
    originPolicy({ allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS), allowedHeaders: ['content-type', 'authorization'] }),
  )
  .use(httpErrors({ onUnexpected: (e) => logger.error('request failed', { errorName: (e as Error)?.name }) }))
  .use(methodGuard(['POST']))
  .use(jsonBody({ maxBytes: 64 * 1024 }))
  .use(
    secrets({
      names: ['OPENAI_API_KEY', 'CHATKIT_TOKEN_SECRET'],
      ssmPath: process.env.SECRETS_SSM_PATH,
      onMissing: (e) => logger.error(`configuration error: ${e.message}`),
    }),
  )
  .use(clientToken<ChatContext>({ secret: (c) => assertTokenSecret(c.secrets.CHATKIT_TOKEN_SECRET) }))
  .handler(async (event, context) => {
    const started = Date.now();
    const params = (event.parsedBody as { params?: { thread_id?: unknown } } | undefined)?.params;
    // Logged only when it has an id's shape (bounded): a client-chosen string is never written as sent.
    const threadId = typeof params?.thread_id === 'string' && ID.test(params.thread_id) ? params.thread_id : null;
    correlate(logger, { user: context.chatClaims.sub, threadId });
    const store = getStore();
    const profile = loadShopProfile();
    const server = new ChatKitServer({
      store,
      attachments,
      responder: new ResponsesResponder({
        openai: () => openaiClient(context.secrets.OPENAI_API_KEY!, settings.openai),
        model: settings.model,
        profile,
        newItemId: () => store.generateItemId('message'),
        tools: true,
      }),
      profile,
      gate: getGate(profile.phone),
      unavailableAnswer: keptAnswer(profile.phone),
      retentionDays: settings.retentionDays,
      knownThreads,
      onError: (stage, e) => {
        metrics.addMetric('ChatErrors', MetricUnit.Count, 1);
        logger.error('chat request failed', { stage, errorName: (e as Error)?.name });
      },
      // A 404/409 met once streaming (a thread deleted, an attachment taken meanwhile): the caller's, never a server error.
      onClientError: () => metrics.addMetric('ClientErrors', MetricUnit.Count, 1),
      // A callback request or a picked drop-off time, recorded (the action type only: never the fields).
      onAction: (type) => {
        const m = metrics.singleMetric();
        m.addDimension('action', type);
        m.addMetric('WidgetRequests', MetricUnit.Count, 1);
        logger.info('widget request recorded', { action: type });
      },
      onRefused: (reason) => {
        const m = metrics.singleMetric();
        m.addDimension('reason', reason);
        m.addMetric('TurnsRefused', MetricUnit.Count, 1);
        logger.info('turn refused', { reason });
      },
    });
    // Aborted when the client goes away (the Stop button): the turn saves what it has and stops.
    const gone = new AbortController();
    const { chatClaims: claims } = context;
    const answer = await server.process(event.parsedBody, {
      user: claims.sub,
      signal: gone.signal,
      locale: claims.loc,
      pageUrl: claims.url,
      network: networkOf(event.requestContext?.http?.sourceIp),
    });
    // One line per request, with its correlation keys: which protocol request and how it was answered (never content).
    const type = (event.parsedBody as { type?: unknown } | undefined)?.type;
    logger.info('chat request', {
      // A request type the protocol has, or 'unknown' (a client-chosen string is never logged as sent).
      type: typeof type === 'string' && KNOWN_TYPES.has(type) ? type : 'unknown',
      answer: answer.kind === 'json' ? answer.status : 'stream',
    });
    if (answer.kind === 'json') return jsonResponse(answer.status, answer.body);
    // A streamed answer: a turn. Its metrics (turn, first byte, a failure) are published when it ends.
    metrics.addMetric('ChatTurns', MetricUnit.Count, 1);
    const out = new PassThrough();
    out.on('close', () => !out.writableEnded && gone.abort());
    void (async () => {
      let first = true;
      try {
        // Drained to the end even after the client left, so the turn can record its cancellation.
        for await (const e of answer.events) {
          if (first) {
            first = false;
            // From the request to the first event the customer sees (what the web client waits on).
            metrics.addMetric('FirstByteMs', MetricUnit.Milliseconds, Date.now() - started);
          }
          if (!out.destroyed) out.write(`data: ${JSON.stringify(e)}\n\n`);
        }
      } catch (e) {
        metrics.addMetric('ChatErrors', MetricUnit.Count, 1);
        logger.error('chat stream failed', { errorName: (e as Error)?.name });
      } finally {
        flushMetrics();
        if (!out.destroyed) out.end();
      }
    })();
    return { statusCode: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, body: out };
  });
