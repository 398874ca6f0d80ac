// Naive baseline for the cold-start benchmark: the session function as a first draft would write
// it. The same dependencies, unbundled (resolved from node_modules), every client created eagerly
// at import. Not used by the product.
import middy from '@middy/core';
import OpenAI from 'openai';
import { DateTime } from 'luxon';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

const logger = new Logger({ serviceName: 'session', logLevel: 'ERROR' });
const metrics = new Metrics({ namespace: 'Naive', serviceName: 'session' });
const openai = new OpenAI({ timeout: 4000, maxRetries: 1 });
// The function reads its secrets through @middy/ssm in production; here, like ours, from the
// environment. NAIVE_WITHOUT_SSM=1 leaves the client out (the bench reports that ratio too).
const ssm = process.env.NAIVE_WITHOUT_SSM ? undefined : new (await import('@aws-sdk/client-ssm')).SSMClient({});
void [logger, metrics, ssm];

export const handler = middy().handler(async (event) => {
  const body = JSON.parse(event.body || '{}');
  const now = DateTime.now().setZone('America/Los_Angeles');
  const s = await openai.beta.chatkit.sessions.create({
    user: body.user ?? 'naive',
    workflow: { id: process.env.CHATKIT_WORKFLOW_ID, state_variables: { shop_local_time_24h: now.toFormat('HH:mm') } },
  });
  return { statusCode: 200, body: JSON.stringify({ client_secret: s.client_secret, expires_at: s.expires_at, user: s.user }) };
});
