import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient as localClient } from '@lead-intake/testkit';
import { documentClient } from './index';
import { useTestTable } from './test-table';

/**
 * The one marshalling rule, through the real SDK against DynamoDB Local: `undefined` members are
 * left out, whichever document clients share the base client and in whatever order they were made.
 */
const TABLE = useTestTable('client');

/** A base client of the test's own, destroyed after it whatever happened. */
async function withClient(test: (client: ReturnType<typeof localClient>) => Promise<void>): Promise<void> {
  const client = localClient();
  try {
    await test(client);
  } finally {
    client.destroy();
  }
}

const withGaps = (pk: string) => ({ pk, entry: { at: 1, note: undefined, by: 'owner' }, list: ['a', undefined, 'b'], gone: undefined });

describe('documentClient', () => {
  it('leaves out undefined attributes and members, in items and in expression values', async () => {
    await withClient(async (base) => {
      const doc = documentClient(base);
      await doc.send(new PutCommand({ TableName: TABLE, Item: withGaps('one') }));
      await doc.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { pk: 'one' },
          UpdateExpression: 'SET #e2 = :e',
          ExpressionAttributeNames: { '#e2': 'entry2' },
          ExpressionAttributeValues: { ':e': { reason: undefined, value: 2 } },
        }),
      );
      const { Item } = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: 'one' }, ConsistentRead: true }));
      expect(Item).toEqual({ pk: 'one', entry: { at: 1, by: 'owner' }, list: ['a', 'b'], entry2: { value: 2 } });
    });
  });

  it('keeps the rule for every document client of one base client, whatever order they were made in', async () => {
    await withClient(async (shared) => {
      const first = documentClient(shared);
      const second = documentClient(shared);
      const third = documentClient(shared);
      await first.send(new PutCommand({ TableName: TABLE, Item: withGaps('first') }));
      await third.send(new PutCommand({ TableName: TABLE, Item: withGaps('third') }));
      await second.send(new PutCommand({ TableName: TABLE, Item: withGaps('second') }));
      for (const pk of ['first', 'second', 'third']) {
        const { Item } = await first.send(new GetCommand({ TableName: TABLE, Key: { pk }, ConsistentRead: true }));
        expect(Item).toEqual({ pk, entry: { at: 1, by: 'owner' }, list: ['a', 'b'] });
      }
    });
  });

  // Why the rule lives in one place: the SDK keeps a document client's options on the base
  // client's config, shared by all of them. Should the SDK ever stop doing that, this fails and says so.
  it('is needed: a document client made from the same base client with other options takes the rule away', async () => {
    await withClient(async (shared) => {
      const ours = documentClient(shared);
      DynamoDBDocumentClient.from(shared); // as a store made its own before this package's rule
      await expect(ours.send(new PutCommand({ TableName: TABLE, Item: withGaps('taken') }))).rejects.toThrow(/removeUndefinedValues/);
    });
  });
});
