// The floor under the chat's cold first turn: a response-streaming handler that loads only the AWS
// SDK's DynamoDB clients (the runtime's @aws-sdk, left out of the chat's bundle too), creates one and
// makes the requests a new thread's first turn makes before its first streamed byte, all at once as
// the chat does (the user's, the network's and the day's usage counters; the thread and its first
// message in one transaction, on the same tables and indexes), then streams one event. Nothing of
// ours: no middleware, no token, no protocol. What any chat built on the SDK pays before its first
// byte. Its rows are in partitions of their own (FLOOR#…), which no reader of the tables looks at.
const { randomUUID } = require('node:crypto');
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } = require('@aws-sdk/lib-dynamodb');

exports.handler = awslambda.streamifyResponse(async (_event, stream) => {
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3 }));
  const id = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const counter = (name) =>
    ddb.send(
      new UpdateCommand({
        TableName: process.env.CHAT_LIMITS_TABLE_NAME,
        Key: { pk: `FLOOR#${name}#${id}` },
        UpdateExpression: 'ADD #n :one SET #t = if_not_exists(#t, :ttl)',
        ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
        ExpressionAttributeNames: { '#n': 'n', '#t': 'ttl' },
        ExpressionAttributeValues: { ':one': 1, ':limit': 1000, ':ttl': now + 86400 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
  const put = (Item) => ({
    Put: { TableName: process.env.CHAT_THREADS_TABLE_NAME, Item, ConditionExpression: 'attribute_not_exists(pk)' },
  });
  const created = new Date().toISOString();
  await Promise.all([
    counter('user'),
    counter('network'),
    counter('day'),
    ddb.send(
      new TransactWriteCommand({
        TransactItems: [
          put({
            pk: `FLOOR#${id}`,
            sk: 'META',
            gsi1pk: `FLOOR#${id}`,
            gsi1sk: created,
            data: JSON.stringify({ id, created_at: created }),
            ttl: now + 86400,
          }),
          put({ pk: `FLOOR#${id}`, sk: 'FLOOR#1', data: JSON.stringify({ content: 'Hello, are you open today?' }), ttl: now + 86400 }),
        ],
      }),
    ),
  ]);
  stream = awslambda.HttpResponseStream.from(stream, { statusCode: 200, headers: { 'content-type': 'text/event-stream' } });
  stream.write(`data: ${JSON.stringify({ type: 'thread.created', thread: { id } })}\n\n`);
  stream.end();
});
