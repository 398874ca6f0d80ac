// Naive baseline for the cold-start benchmark: the lead function as a first draft would write it.
// The same dependencies, unbundled (resolved from node_modules), every client created eagerly at
// import. Measured on the duplicate trigger (one DynamoDB read). Not used by the product.
import middy from '@middy/core';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { DateTime } from 'luxon';
import { findPhoneNumbersInText } from 'libphonenumber-js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { SESClient } from '@aws-sdk/client-ses';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

const logger = new Logger({ serviceName: 'lead', logLevel: 'ERROR' });
const metrics = new Metrics({ namespace: 'Naive', serviceName: 'lead' });
const openai = new OpenAI({ timeout: 12000, maxRetries: 1 });
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const ses = new SESClient({});
// The function reads its secrets through @middy/ssm in production; here, like ours, from the
// environment. NAIVE_WITHOUT_SSM=1 leaves the client out (the bench reports that ratio too).
const ssm = process.env.NAIVE_WITHOUT_SSM ? undefined : new (await import('@aws-sdk/client-ssm')).SSMClient({});
const schema = zodTextFormat(z.object({ handoff_ready: z.boolean() }), 'lead');
void [logger, metrics, openai, ses, ssm, schema, DateTime, findPhoneNumbersInText];

export const handler = middy().handler(async (event) => {
  const { threadId } = JSON.parse(event.body || '{}');
  const rec = (await ddb.send(new GetCommand({ TableName: process.env.LEAD_DEDUPE_TABLE_NAME, Key: { thread_id: threadId } }))).Item;
  if (rec?.status === 'sent') return { statusCode: 200, body: JSON.stringify({ sent: true, reason: 'already_sent' }) };
  return { statusCode: 200, body: JSON.stringify({ sent: false, reason: 'not_implemented_in_baseline' }) };
});
