import { PassThrough } from 'node:stream';
import middy from '@middy/core';
import { executionModeStreamifyResponse } from '@middy/core/StreamifyResponse';
import { assertTokenSecret, clientToken, type ChatUserContext } from '@lead-intake/chat-auth';
import { ChatKitServer, KnownThreads, STREAMING_TYPES, type Sink } from '@lead-intake/chat-server';
import { intSetting, secrets, stringSetting, type SecretsContext } from '@lead-intake/config';
import { httpErrors, jsonBody, jsonResponse, methodGuard, originPolicy, parseAllowedOrigins } from '@lead-intake/http';
import { createLogger, injectLambdaContext } from '@lead-intake/observability';
import { openaiClient } from '@lead-intake/openai-client';
import { loadShopProfile } from '@lead-intake/shop-hours';
import { ThreadStore } from '@lead-intake/thread-store';

const logger = createLogger('chat');
const settings = {
  tableName: stringSetting(process.env, 'CHAT_THREADS_TABLE_NAME'),
  model: stringSetting(process.env, 'CHAT_MODEL', 'gpt-5.2-2025-12-11'),
  openai: { timeoutMs: intSetting(process.env, 'OPENAI_TIMEOUT_MS', 20000, { min: 100, max: 60000 }), maxRetries: intSetting(process.env, 'OPENAI_MAX_RETRIES', 1, { min: 0, max: 5 }) },
};
let store: ThreadStore | undefined;
const getStore = () => (store ??= new ThreadStore({ tableName: settings.tableName }));
// Which threads this instance has seen to be whose: lets a turn write while it reads (chat-server).
const knownThreads = new KnownThreads();

type ChatContext = SecretsContext & ChatUserContext;

/**
 * The self-hosted ChatKit endpoint (Function URL, response streaming): origin guard and CORS,
 * body, secrets, client token (the user), then the protocol: SSE for streaming requests, JSON
 * for the others.
 */
export const handler = middy<any, any, Error, ChatContext>({ executionMode: executionModeStreamifyResponse })
  .use(injectLambdaContext(logger))
  .use(originPolicy({ allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS), allowedHeaders: ['content-type', 'authorization'] }))
  .use(httpErrors({ onUnexpected: (e) => logger.error('request failed', { errorName: (e as Error)?.name }) }))
  .use(methodGuard(['POST']))
  .use(jsonBody({ maxBytes: 64 * 1024 }))
  .use(secrets({ names: ['OPENAI_API_KEY', 'CHATKIT_TOKEN_SECRET'], ssmPath: process.env.SECRETS_SSM_PATH, onMissing: (e) => logger.error(`configuration error: ${e.message}`) }))
  .use(clientToken<ChatContext>({ secret: (c) => assertTokenSecret(c.secrets.CHATKIT_TOKEN_SECRET) }))
  .handler(async (event, context) => {
    const body = event.parsedBody as Record<string, unknown>;
    const server = new ChatKitServer({
      store: getStore(),
      openai: openaiClient(context.secrets.OPENAI_API_KEY!, settings.openai),
      model: settings.model,
      profile: loadShopProfile(),
      knownThreads,
      onError: (stage, e) => logger.error('chat request failed', { stage, errorName: (e as Error)?.name }),
    });
    const type = String(body.type ?? '');
    if (!STREAMING_TYPES.has(type)) {
      let answer = { status: 500, body: {} as unknown };
      const never = new AbortController().signal;
      await server.process(body, context.chatUser, { event: () => undefined, json: (status, b) => void (answer = { status, body: b }), signal: never });
      return jsonResponse(answer.status, answer.body);
    }
    // Streaming: events are written as they happen; a client that goes away (Stop) aborts the turn.
    const out = new PassThrough();
    const gone = new AbortController();
    out.on('close', () => !out.writableEnded && gone.abort());
    const sink: Sink = {
      event: (e) => void (!out.destroyed && out.write(`data: ${JSON.stringify(e)}\n\n`)),
      json: () => undefined,
      signal: gone.signal,
    };
    void server.process(body, context.chatUser, sink).finally(() => !out.destroyed && out.end());
    return { statusCode: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }, body: out };
  });
