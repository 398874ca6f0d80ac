import middy from '@middy/core';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { assertTokenSecret, mintClientToken } from '@lead-intake/chat-auth';
import { resolveIdentity, sessionRequest, type SessionRequestContext } from '@lead-intake/chatkit-session';
import { chatkitModeSetting, intSetting, secrets, stringSetting, type SecretsContext } from '@lead-intake/config';
import { HttpError, httpErrors, jsonBody, jsonResponse, methodGuard, originPolicy, parseAllowedOrigins } from '@lead-intake/http';
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

const logger = createLogger('session');
const metrics = createMetrics('session');

/**
 * self-hosted (the default): our own signed client token for services/chat, for a user the server
 * issues (a device credential resumes it). hosted (legacy): hosted ChatKit sessions ended with
 * Agent Builder on 2026-11-30, so a stage still in that mode is told so (410) instead of minting;
 * its lead endpoint still reads the old hosted threads.
 */
const mode = chatkitModeSetting(process.env);

// Read once per instance. A bad value fails the cold start loudly rather than every request quietly.
const settings = {
  ttlSeconds: intSetting(process.env, 'CHATKIT_SESSION_TTL_SECONDS', 600, { min: 60, max: 3600 }),
  newUsersPerHour: intSetting(process.env, 'NEW_USERS_PER_SOURCE_IP_PER_HOUR', 20, { min: 1, max: 100_000 }),
  limitsTable: mode === 'self-hosted' ? stringSetting(process.env, 'CHAT_LIMITS_TABLE_NAME') : '',
};
const secretNames = mode === 'hosted' ? [] : ['CHATKIT_TOKEN_SECRET'];
// The usage counters (and with them the DynamoDB client) load on the first new user: a token
// refresh, the common request, needs neither.
let limits: Promise<UsageLimits> | undefined;
const getLimits = () =>
  (limits ??= import('@lead-intake/usage-limits').then(({ UsageLimits }) => new UsageLimits({ tableName: settings.limitsTable })));

type SessionContext = SecretsContext & SessionRequestContext;

/** A stage left in the hosted mode: what the browser is told (the site's operator reads it). */
export class HostedSessionsEndedError extends HttpError {
  constructor() {
    super(
      410,
      'Hosted ChatKit sessions ended with Agent Builder on 2026-11-30: this stage must run the self-hosted chat ' +
        '(chatkitMode "self-hosted"; docs/migration-from-agent-builder.md).',
      'hosted_sessions_ended',
    );
  }
}

/**
 * The pipeline: origin guard and CORS, body parsing, validation, secrets, then the identity and its
 * token.
 */
export function createSessionHandler() {
  return middy<LambdaFunctionURLEvent, LambdaFunctionURLResult, Error, SessionContext>()
    .use(injectLambdaContext(logger))
    .use(publishMetrics(metrics))
    .use(answerClasses(metrics))
    .use(originPolicy({ allowedOrigins: parseAllowedOrigins(process.env.ALLOWED_ORIGINS) }))
    .use(
      httpErrors({
        onUnexpected: (e) => {
          // The shop's chat cannot open: no token could be minted.
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
      // The chat cannot open: counted with the failed mints (the operator must move the stage).
      metrics.addMetric('MintFailures', MetricUnit.Count, 1);
      logger.error('hosted mode: hosted ChatKit sessions ended on 2026-11-30; set chatkitMode to self-hosted for this stage');
      throw new HostedSessionsEndedError();
    });
}

export const handler = createSessionHandler();
