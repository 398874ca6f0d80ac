import middy from '@middy/core';
import { intSetting, secrets, type SecretsContext } from '@lead-intake/config';
import { httpErrors, jsonBody, jsonResponse, methodGuard, originPolicy, parseAllowedOrigins } from '@lead-intake/http';
import { createLogger, createMetrics, injectLambdaContext, MetricUnit, publishMetrics } from '@lead-intake/observability';
import { openaiClient } from '@lead-intake/openai-client';
import { shopState, type ShopStateContext } from '@lead-intake/shop-hours';
import { mintHostedSession, sessionRequest, stateVariables, type SessionRequestContext } from '@lead-intake/chatkit-session';
import { assertTokenSecret, mintClientToken } from '@lead-intake/chat-auth';

const logger = createLogger('session');
const metrics = createMetrics('session');

// Read once per instance. A bad value fails the cold start loudly rather than every request quietly.
const settings = {
  ttlSeconds: intSetting(process.env, 'CHATKIT_SESSION_TTL_SECONDS', 600, { min: 60, max: 3600 }),
  maxRequestsPerMinute: intSetting(process.env, 'CHATKIT_RATE_LIMIT_PER_MINUTE', 10, { min: 1, max: 600 }),
  // 10 s function timeout: two 4 s attempts plus the SDK's 0.5 s backoff still answer in time.
  openai: {
    timeoutMs: intSetting(process.env, 'OPENAI_TIMEOUT_MS', 4000, { min: 100, max: 60000 }),
    maxRetries: intSetting(process.env, 'OPENAI_MAX_RETRIES', 1, { min: 0, max: 5 }),
  },
};

/**
 * hosted: a ChatKit session for the Agent Builder workflow (OpenAI holds the conversation).
 * self-hosted: our own signed client token for services/chat (OpenAI's Agent Builder shuts down
 * on 2026-11-30). Same answer shape either way: {client_secret, expires_at, user}.
 */
const mode = (process.env.CHATKIT_MODE ?? 'hosted') as 'hosted' | 'self-hosted';
if (mode !== 'hosted' && mode !== 'self-hosted') throw new Error(`CHATKIT_MODE must be 'hosted' or 'self-hosted' (got '${mode}')`);
const secretNames = mode === 'hosted' ? ['OPENAI_API_KEY', 'CHATKIT_WORKFLOW_ID'] : ['CHATKIT_TOKEN_SECRET'];

type SessionContext = SecretsContext & ShopStateContext & SessionRequestContext;

export interface SessionHandlerOptions {
  /** The clock for the shop state (tests freeze it). */
  now?: () => Date;
}

/** The pipeline: origin guard and CORS, body parsing, validation, shop state, secrets, mint. */
export function createSessionHandler(opts: SessionHandlerOptions = {}) {
  return middy<any, any, Error, SessionContext>()
    .use(injectLambdaContext(logger))
    .use(publishMetrics(metrics))
    .use(originPolicy({ allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS) }))
    .use(httpErrors({ onUnexpected: (e) => logger.error('request failed', { errorName: (e as Error)?.name, upstream: (e as any)?.upstream, upstreamStatus: (e as any)?.upstreamStatus }) }))
    .use(methodGuard(['POST']))
    .use(jsonBody({ maxBytes: 16 * 1024 }))
    .use(sessionRequest())
    .use(shopState({ now: opts.now }))
    .use(secrets({ names: secretNames, ssmPath: process.env.SECRETS_SSM_PATH, onMissing: (e) => logger.error(`configuration error: ${e.message}`) }))
    .handler(async (_event, context) => {
      const { user, locale, pageUrl } = context.sessionRequest;
      if (mode === 'self-hosted') {
        // The shop state is computed by the chat service on every turn; the token binds the user.
        const { token, expiresAt } = mintClientToken(assertTokenSecret(context.secrets.CHATKIT_TOKEN_SECRET), user, settings.ttlSeconds, { locale, pageUrl });
        metrics.addMetric('SessionsMinted', MetricUnit.Count, 1);
        logger.info('client token minted', { locale, mode });
        return jsonResponse(200, { client_secret: token, expires_at: expiresAt, user });
      }
      const minted = await mintHostedSession(openaiClient(context.secrets.OPENAI_API_KEY!, settings.openai), {
        user,
        workflowId: context.secrets.CHATKIT_WORKFLOW_ID!,
        stateVariables: stateVariables(locale, pageUrl, context.shopState),
        ttlSeconds: settings.ttlSeconds,
        maxRequestsPerMinute: settings.maxRequestsPerMinute,
      });
      metrics.addMetric('SessionsMinted', MetricUnit.Count, 1);
      logger.info('session minted', { locale, shopOpen: context.shopState.shop_is_open_now });
      return jsonResponse(200, minted);
    });
}

export const handler = createSessionHandler();
