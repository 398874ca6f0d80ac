/**
 * `npm run migrate-thread-store -- --stage <stage>`
 *
 * Rewrites thread-table rows written before items were ordered by creation (2026-11-27): item
 * keys `ITEM#<id>` become `ITM#<order key>#<prefix>`, and each thread's position in its user's list
 * becomes its creation time. Idempotent and resumable: run it right after deploying, and again if
 * it was interrupted; a second run rewrites nothing (docs/runbook.md, "Thread store migration").
 * `--stage local` uses `npm run dev`'s DynamoDB Local.
 */
import { failure, helpIfAsked } from './cli';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient } from '@lead-intake/dynamo';
import { configFromEnv } from '@lead-intake/local-stack/config';
import { resolveStage } from '@lead-intake/stage-config';
import { migrateThreadKeys } from '@lead-intake/thread-store';

// The Lambdas run Node 22; this tool runs on the machine's Node (20.19+), where the AWS SDK warns
// about its own future Node requirement on every run. Not actionable here: silenced.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main() {
  const i = process.argv.indexOf('--stage');
  const stage = i >= 0 ? process.argv[i + 1] : undefined;
  if (!stage) throw new Error('usage: npm run migrate-thread-store -- --stage <stage>');
  const settings = resolveStage(stage);
  const client =
    stage === 'local'
      ? (() => {
          const cfg = configFromEnv(process.env, '');
          return new DynamoDBClient({
            endpoint: `http://${cfg.host}:${cfg.dynamoPort}`,
            region: 'us-west-2',
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          });
        })()
      : new DynamoDBClient({ region: process.env.AWS_REGION ?? settings.region, maxAttempts: 8 });
  const table = String(settings.chatThreadsTable);
  const report = await migrateThreadKeys(documentClient(client), table, (line) => process.stderr.write(`${line}\n`));
  for (const k of report.skipped) process.stderr.write(`left as it was (no time-ordered id): ${k.pk} ${k.sk}\n`);
  console.log(
    JSON.stringify({
      stage,
      table,
      itemsRewritten: report.itemsRewritten,
      threadsReindexed: report.threadsReindexed,
      skipped: report.skipped.length,
      scanned: report.scanned,
    }),
  );
}

helpIfAsked(__filename);
main().catch((e) => failure('migrate-thread-store', e));
