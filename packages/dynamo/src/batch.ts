import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { UpstreamError } from '@lead-intake/errors';

/**
 * DynamoDB answers a batch call with what it did and, when throttled or past a response's size,
 * what it left (`UnprocessedItems`, `UnprocessedKeys`) for the caller to send again: a caller that
 * reads only the answer silently drops the rest. These helpers split a batch to DynamoDB's limits
 * (25 writes, 100 reads a call), send what is left again after a growing pause (AWS's advice:
 * exponential backoff), and throw `BatchIncompleteError` for what is still left after the last
 * attempt, so nothing is lost without a trace.
 */

/** One item of a BatchWriteItem: a put or a delete (the document client's shape). */
export type WriteRequest = { PutRequest: { Item: Record<string, unknown> } } | { DeleteRequest: { Key: Record<string, unknown> } };

export interface BatchOptions {
  /** Calls per chunk, the first included (default 6). */
  attempts?: number;
  /** The pause before the second call; doubled for each call after it (default 50 ms: at most 1.55 s in all). */
  baseDelayMs?: number;
}

export interface BatchGetOptions extends BatchOptions {
  consistentRead?: boolean;
  /** Attributes to read (names only: each is read through an expression attribute name). */
  attributes?: string[];
}

/** Some of a batch was still unprocessed after the last attempt (DynamoDB kept throttling it). */
export class BatchIncompleteError extends UpstreamError {
  constructor(
    readonly table: string,
    readonly operation: 'BatchWriteItem' | 'BatchGetItem',
    /** How many requests (or keys) were left. */
    readonly left: number,
  ) {
    super('dynamodb', `${operation} on ${table}: ${left} left unprocessed after every attempt`);
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes every request, 25 a call, sending again what DynamoDB leaves unprocessed. */
export async function batchWriteAll(
  doc: DynamoDBDocumentClient,
  table: string,
  requests: WriteRequest[],
  opts: BatchOptions = {},
): Promise<void> {
  const { attempts = 6, baseDelayMs = 50 } = opts;
  for (let i = 0; i < requests.length; i += 25) {
    let pending: WriteRequest[] = requests.slice(i, i + 25);
    for (let attempt = 0; pending.length && attempt < attempts; attempt++) {
      if (attempt) await pause(baseDelayMs * 2 ** (attempt - 1));
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] ?? []) as WriteRequest[];
    }
    if (pending.length) throw new BatchIncompleteError(table, 'BatchWriteItem', pending.length + Math.max(0, requests.length - i - 25));
  }
}

/**
 * Reads every key, 100 a call, sending again the keys DynamoDB leaves unprocessed; the items found,
 * in no particular order (`T`: what the caller knows the table's items to be).
 */
export async function batchGetAll<T = Record<string, unknown>>(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: Record<string, unknown>[],
  opts: BatchGetOptions = {},
): Promise<T[]> {
  const { attempts = 6, baseDelayMs = 50 } = opts;
  const names = opts.attributes?.length ? Object.fromEntries(opts.attributes.map((a, n) => [`#a${n}`, a])) : undefined;
  const found: T[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending = keys.slice(i, i + 100);
    for (let attempt = 0; pending.length && attempt < attempts; attempt++) {
      if (attempt) await pause(baseDelayMs * 2 ** (attempt - 1));
      const out = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ...(opts.consistentRead ? { ConsistentRead: true } : {}),
              ...(names ? { ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names } : {}),
            },
          },
        }),
      );
      found.push(...((out.Responses?.[table] ?? []) as T[]));
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
    }
    if (pending.length) throw new BatchIncompleteError(table, 'BatchGetItem', pending.length + Math.max(0, keys.length - i - 100));
  }
  return found;
}
