import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The project's DynamoDB client settings (a function's clients are made here, or passed in by the caller). */
export function dynamoClient(): DynamoDBClient {
  return new DynamoDBClient({ maxAttempts: 3 });
}

/**
 * The one marshalling rule: an attribute (or a map's member) that is `undefined` is left out, not
 * refused. Every document client in this project is made here, from one base client or many.
 *
 * Why here and nowhere else: `DynamoDBDocumentClient.from(client, options)` writes its options onto
 * the base client's own config object, which every document client made from that client shares.
 * Two stores sharing one client (one connection pool) with different options would each get
 * whichever options were given last: a store that relies on `undefined` being dropped would start
 * failing its writes once another store was made beside it.
 */
export function documentClient(client: DynamoDBClient = dynamoClient()): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
