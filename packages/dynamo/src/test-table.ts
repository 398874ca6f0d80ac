import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '@lead-intake/testkit';

/**
 * For this package's tests: a table of the calling test file's own on DynamoDB Local (`pk` its
 * key), created before its tests and deleted after them, passed or failed. Returns its name.
 */
export function useTestTable(label: string): string {
  const name = `dynamo-${label}-test-${process.pid}`;
  const client = dynamoClient();
  beforeAll(async () => {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );
  });
  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
    client.destroy();
  });
  return name;
}
