import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, DeleteCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isItemId, itemSk, LEGACY_ITEM_PREFIX, META, userSk } from './keys';

export interface MigrationReport {
  scanned: number;
  itemsRewritten: number;
  threadsReindexed: number;
  /** Legacy rows whose id has no time-sortable shape: left as they were, listed by key. */
  skipped: Array<{ pk: string; sk: string }>;
}

/**
 * Rewrites rows written before items were ordered by creation (keys.ts): each `ITEM#<id>` row
 * becomes `ITM#<order key>#<prefix>` (copied first, then the old row deleted), and each thread's
 * `by-user` position becomes `<created_at>#<id>`. Idempotent and resumable: a rewritten row is
 * not touched again, and a copy that already exists is not written twice. Run it after deploying
 * (docs/runbook.md, "Thread store migration").
 */
export async function migrateThreadKeys(
  doc: DynamoDBDocumentClient,
  tableName: string,
  log: (line: string) => void = () => undefined,
): Promise<MigrationReport> {
  const report: MigrationReport = { scanned: 0, itemsRewritten: 0, threadsReindexed: 0, skipped: [] };
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const row of out.Items ?? []) {
      report.scanned++;
      const { pk, sk } = row as { pk: string; sk: string };
      if (sk.startsWith(LEGACY_ITEM_PREFIX)) {
        const id = sk.slice(LEGACY_ITEM_PREFIX.length);
        if (!isItemId(id)) {
          report.skipped.push({ pk, sk });
          continue;
        }
        await doc
          .send(new PutCommand({ TableName: tableName, Item: { ...row, sk: itemSk(id) }, ConditionExpression: 'attribute_not_exists(pk)' }))
          .catch((e) => {
            if (!(e instanceof ConditionalCheckFailedException)) throw e; // copied by an earlier run
          });
        await doc.send(new DeleteCommand({ TableName: tableName, Key: { pk, sk } }));
        report.itemsRewritten++;
      } else if (sk === META && typeof row.data === 'string') {
        const want = userSk(JSON.parse(row.data));
        if (row.gsi1sk !== want) {
          await doc.send(
            new UpdateCommand({
              TableName: tableName,
              Key: { pk, sk },
              UpdateExpression: 'SET gsi1sk = :s',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':s': want },
            }),
          );
          report.threadsReindexed++;
        }
      }
    }
    start = out.LastEvaluatedKey;
    log(`scanned ${report.scanned} rows: ${report.itemsRewritten} items rewritten, ${report.threadsReindexed} threads re-indexed`);
  } while (start);
  return report;
}
