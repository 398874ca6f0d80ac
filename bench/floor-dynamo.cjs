// The floor under the lead's duplicate cold start: a handler that loads only the AWS SDK's DynamoDB
// clients (as every lead function does: the runtime's @aws-sdk, left out of the bundles), creates
// one and makes the duplicate's one request (the thread's ledger record), nothing else: no
// middleware, no token, no logger. What any lead function pays before its own code runs.
const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
const { DynamoDBDocumentClient, GetCommand } = require('@aws-sdk/lib-dynamodb');

exports.handler = async (event) => {
  const { threadId } = JSON.parse(event.body || '{}');
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3 }));
  const rec = (await ddb.send(new GetCommand({ TableName: process.env.LEAD_DEDUPE_TABLE_NAME, Key: { thread_id: threadId } }))).Item;
  return { statusCode: 200, body: JSON.stringify({ sent: rec?.status === 'sent' }) };
};
