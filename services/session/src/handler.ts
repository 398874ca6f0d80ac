import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { assertTokenSecret, mintClientToken } from '@lead-intake/chat-auth';
import { resolveIdentity, sessionRequest, type SessionRequestContext } from '@lead-intake/chatkit-session';
import { chatkitModeSetting, intSetting, openaiBudgetSetting, secrets, stringSetting, type SecretsContext } from '@lead-intake/config';
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
import type { UsageLimits } from '@lead-intake/usage-limits';
import { randomUUID } from 'node:crypto';

const logger = createLogger('session');
const metrics = createMetrics('session');

/**
 * self-hosted (the default): our own signed client token for services/chat, for a user the server
 * issues (a device credential resumes it). hosted (legacy, ends with Agent Builder on 2026-11-30):
 * a ChatKit session for the Agent Builder workflow, for the user the browser names.
 */
const mode = chatkitModeSetting(process.env);

// Read once per instance. A bad value fails the cold start loudly rather than every request quietly.
const settings = {
  ttlSeconds: intSetting(process.env, 'CHATKIT_SESSION_TTL_SECONDS', 600, { min: 60, max: 3600 }),
  maxRequestsPerMinute: intSetting(process.env, 'CHATKIT_RATE_LIMIT_PER_MINUTE', 10, { min: 1, max: 600 }),
  newUsersPerHour: intSetting(process.env, 'NEW_USERS_PER_SOURCE_IP_PER_HOUR', 20, { min: 1, max: 100_000 }),
  limitsTable: mode === 'self-hosted' ? stringSetting(process.env, 'CHAT_LIMITS_TABLE_NAME') : '',
  // 10 s function timeout: two 4 s attempts plus the SDK's 0.5 s backoff still answer in time.
  openai: openaiBudgetSetting(process.env, 4000),
};
const secretNames = mode === 'hosted' ? ['OPENAI_API_KEY', 'CHATKIT_WORKFLOW_ID'] : ['CHATKIT_TOKEN_SECRET'];
// The usage counters (and with them the DynamoDB client) load on the first new user: a token
// refresh, the common request, needs neither.
let limits: Promise<UsageLimits> | undefined;
const getLimits = () =>
  (limits ??= import('@lead-intake/usage-limits').then(({ UsageLimits }) => new UsageLimits({ tableName: settings.limitsTable })));

type SessionContext = SecretsContext & SessionRequestContext;

export interface SessionHandlerOptions {
  /** The clock for the shop state (tests freeze it). */
  now?: () => Date;
}

/**
 * The pipeline: origin guard and CORS, body parsing, validation, secrets, then the identity and its
 * token (or, hosted, the shop state and a hosted session).
 */
export function createSessionHandler(opts: SessionHandlerOptions = {}) {
  return middy<LambdaFunctionURLEvent, LambdaFunctionURLResult, Error, SessionContext>()
    .use(injectLambdaContext(logger))
    .use(publishMetrics(metrics))
    .use(answerClasses(metrics))
    .use(originPolicy({ allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS) }))
    .use(
      httpErrors({
        onUnexpected: (e) => {
          // The shop's chat cannot open: a token or a hosted session could not be minted.
          metrics.addMetric('MintFailures', MetricUnit.Count, 1);
          logger.error('request failed', {
            errorName: (e as Error)?.name,
            upstream: (e as any)?.upstream,
            upstreamStatus: (e as any)?.upstreamStatus,
          });
        },
      }),
    )
    .use(methodGuard(['POST']))
    .use(jsonBody({ maxBytes: 16 * 1024 }))
    .use(sessionRequest())
    .use(
      secrets({
        names: secretNames,
        ssmPath: process.env.SECRETS_SSM_PATH,
        onMissing: (e) => logger.error(`configuration error: ${e.message}`),
      }),
    )
    .handler(async (event, context) => {
      const { locale, pageUrl } = context.sessionRequest;
      if (mode === 'self-hosted') {
        const secret = assertTokenSecret(context.secrets.CHATKIT_TOKEN_SECRET);
        const identity = await resolveIdentity(context.sessionRequest, {
          secret,
          sourceIp: event.requestContext?.http?.sourceIp ?? 'unknown',
          limits: getLimits,
          newUsersPerHour: settings.newUsersPerHour,
        });
        correlate(logger, { user: identity.user });
        // The chat computes the shop state on every turn; the token carries the user and the visit.
        const { token, expiresAt } = mintClientToken(secret, identity.user, settings.ttlSeconds, { locale, pageUrl: pageUrl || undefined });
        metrics.addMetric('SessionsMinted', MetricUnit.Count, 1);
        if (identity.created) metrics.addMetric('UsersCreated', MetricUnit.Count, 1);
        logger.info('client token minted', { locale, mode, newUser: identity.created });
        return jsonResponse(200, {
          client_secret: token,
          expires_at: expiresAt,
          user: identity.user,
          device_credential: identity.deviceCredential,
        });
      }
      // Loaded on the first hosted request: the self-hosted path never pays for the OpenAI SDK or
      // the shop state (the chat computes that on every turn).
      const [{ mintHostedSession, stateVariables }, { openaiClient }, { computeShopState, loadShopProfile }] = await Promise.all([
        import('@lead-intake/chatkit-session/hosted'),
        import('@lead-intake/openai-client'),
        import('@lead-intake/shop'),
      ]);
      const shop = computeShopState((opts.now ?? (() => new Date()))(), loadShopProfile());
      const user = context.sessionRequest.user ?? randomUUID();
      correlate(logger, { user });
      const minted = await mintHostedSession(openaiClient(context.secrets.OPENAI_API_KEY!, settings.openai), {
        user,
        workflowId: context.secrets.CHATKIT_WORKFLOW_ID!,
        stateVariables: stateVariables(locale, pageUrl, shop),
        ttlSeconds: settings.ttlSeconds,
        maxRequestsPerMinute: settings.maxRequestsPerMinute,
      });
      metrics.addMetric('SessionsMinted', MetricUnit.Count, 1);
      logger.info('session minted', { locale, shopOpen: shop.shop_is_open_now });
      return jsonResponse(200, minted);
    });
}

export const handler = createSessionHandler();
