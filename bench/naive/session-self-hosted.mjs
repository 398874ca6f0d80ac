// Naive baseline for the cold-start benchmark: the self-hosted session function (identities and
// client tokens) as a first draft would write it. The same dependencies, unbundled (resolved from
// node_modules), every client created eagerly at import. Not used by the product.
import { createHmac } from 'node:crypto';
import middy from '@middy/core';
import { DateTime } from 'luxon';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

const logger = new Logger({ serviceName: 'session', logLevel: 'ERROR' });
const metrics = new Metrics({ namespace: 'Naive', serviceName: 'session' });
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({})); // the new-users counter
// NAIVE_WITHOUT_SSM=1 leaves the SSM client out (the bench reports that ratio too).
const ssm = process.env.NAIVE_WITHOUT_SSM ? undefined : new (await import('@aws-sdk/client-ssm')).SSMClient({});
void [logger, metrics, ddb, ssm, DateTime];

const secret = process.env.CHATKIT_TOKEN_SECRET;
const sign = (key, data) => createHmac('sha256', key).update(data).digest('base64url');

export const handler = middy().handler(async (event) => {
  const { deviceCredential } = JSON.parse(event.body || '{}');
  const [, user, sig] = String(deviceCredential).split('.');
  const deviceKey = createHmac('sha256', secret).update('chatkit-lead-intake device credential v1').digest();
  if (sign(deviceKey, `ckd1.${user}`) !== sig) return { statusCode: 401, body: '{}' };
  const iat = Math.floor(Date.now() / 1000);
  const body = `ckt1.${Buffer.from(JSON.stringify({ sub: user, iat, exp: iat + 600 })).toString('base64url')}`;
  return {
    statusCode: 200,
    body: JSON.stringify({
      client_secret: `${body}.${sign(secret, body)}`,
      expires_at: iat + 600,
      user,
      device_credential: deviceCredential,
    }),
  };
});
