/**
 * `npm run export-hosted-threads -- --stage <stage> [--since <YYYY-MM-DD>] [--force]`
 *
 * Copies hosted ChatKit threads and their items (threads.list, threads.listItems) into the
 * self-hosted store of the stage, converted to the custom-server shapes. Idempotent (the same
 * hosted item always becomes the same stored item) and resumable (a thread is marked imported
 * only after all its items are written; a re-run skips marked threads unless --force).
 * Hosted attachments: the photos' bytes are copied into the stage's bucket (hosted preview URLs
 * stop working with the hosted service) and the attachment objects rewritten to point there; a
 * file already copied is not copied again, and a thread whose file could not be fetched is not
 * marked imported, so a re-run tries again. Files without a preview URL (hosted PDFs) keep their
 * name only: the hosted API offers no download.
 * Run it before 2026-11-30, when Agent Builder shuts down. `--stage local` uses `npm run dev`.
 */
import { failure, helpIfAsked } from './cli';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { objectKey, S3FileStore } from '@lead-intake/attachments';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import OpenAI from 'openai';
import { attachmentsBucketFor, resolveStage } from '@lead-intake/stage-config';
import { convertHostedItem, convertHostedThread, type ThreadItem } from '@lead-intake/chatkit-protocol';
import { DynamoThreadStore } from '@lead-intake/thread-store';
import { configFromEnv } from '@lead-intake/local-stack/config';

// The Lambdas run Node 22; this tool runs on the machine's Node (20.19+), where the AWS SDK warns
// about its own future Node requirement on every run. Not actionable here: silenced.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

async function main() {
  const stage = arg('stage');
  if (!stage) throw new Error('usage: npm run export-hosted-threads -- --stage <stage> [--since <YYYY-MM-DD>] [--force]');
  const sinceArg = arg('since');
  const since = sinceArg ? Date.parse(`${sinceArg}T00:00:00Z`) / 1000 : 0;
  if (Number.isNaN(since)) throw new Error(`--since must be a date as YYYY-MM-DD (got ${sinceArg})`);
  const force = process.argv.includes('--force');
  const settings = resolveStage(stage);

  let openai: OpenAI;
  let dynamo: DynamoDBClient;
  let files: S3FileStore;
  if (stage === 'local') {
    const cfg = configFromEnv(process.env, '');
    openai = process.env.OPENAI_API_KEY
      ? new OpenAI()
      : new OpenAI({ apiKey: 'local-emulator-key', baseURL: `http://${cfg.host}:${cfg.openaiPort}/v1` });
    dynamo = new DynamoDBClient({
      endpoint: `http://${cfg.host}:${cfg.dynamoPort}`,
      region: 'us-west-2',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    files = new S3FileStore(
      attachmentsBucketFor(settings, '000000000000'),
      () =>
        new S3Client({
          endpoint: `http://${cfg.host}:${cfg.s3Port}`,
          region: 'us-west-2',
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }),
    );
  } else {
    const region = process.env.AWS_REGION ?? settings.region;
    let apiKey = process.env.OPENAI_API_KEY;
    if (!apiKey) {
      const name = `/chatkit-lead-intake/${stage}/OPENAI_API_KEY`;
      apiKey = (await new SSMClient({ region }).send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter?.Value;
      if (!apiKey) throw new Error(`SSM parameter ${name} is empty`);
    }
    openai = new OpenAI({ apiKey, maxRetries: 5 });
    dynamo = new DynamoDBClient({ region });
    const account = (await new STSClient({ region }).send(new GetCallerIdentityCommand({}))).Account!;
    files = new S3FileStore(
      attachmentsBucketFor(settings, account),
      () => new S3Client({ region, requestChecksumCalculation: 'WHEN_REQUIRED' }),
    );
  }
  const store = new DynamoThreadStore({ tableName: String(settings.chatThreadsTable), client: dynamo });

  const counts = { seen: 0, imported: 0, skipped: 0, items: 0, unconvertible: 0, filesCopied: 0, filesKept: 0, filesFailed: 0 };

  /** A user message's hosted photos, copied into the bucket; the attachments then point there (no stored URL). */
  async function copyFiles(item: ThreadItem, user: string): Promise<{ item: ThreadItem; failed: number }> {
    if (item.type !== 'user_message' || !item.attachments.length) return { item, failed: 0 };
    let failed = 0;
    const attachments = await Promise.all(
      item.attachments.map(async (a) => {
        if (a.type !== 'image' || !/^https?:\/\//.test(a.preview_url)) return a; // nothing to copy (hosted files have no download)
        const key = objectKey(a.id);
        let size = await files.size(key);
        if (size !== null) counts.filesKept++;
        else {
          const res = await fetch(a.preview_url).catch(() => null);
          if (!res?.ok) {
            failed++;
            counts.filesFailed++;
            return a; // kept as it is; the thread is not marked imported, so a re-run tries again
          }
          const bytes = new Uint8Array(await res.arrayBuffer());
          await files.putAttached(key, bytes, a.mime_type);
          size = bytes.length;
          counts.filesCopied++;
        }
        const copied = { ...a, preview_url: '' };
        await store.saveAttachment({ attachment: copied, size, threadId: item.thread_id }, user);
        return copied;
      }),
    );
    return { item: { ...item, attachments }, failed };
  }
  for await (const hosted of openai.beta.chatkit.threads.list({ order: 'asc', limit: 100 })) {
    counts.seen++;
    if ((hosted.created_at ?? 0) < since) continue;
    if (!force && (await store.importedAt(hosted.id))) {
      counts.skipped++;
      continue;
    }
    const { thread, user } = convertHostedThread(hosted as unknown as Record<string, unknown>);
    await store.saveThread(thread, user); // first, without the marker: an interrupted run redoes this thread
    let position = 0;
    let failedFiles = 0;
    for await (const item of openai.beta.chatkit.threads.listItems(hosted.id, { order: 'asc', limit: 100 })) {
      const converted = convertHostedItem(item as unknown as Record<string, unknown>, thread.id, position++);
      if (!converted) {
        counts.unconvertible++;
        continue;
      }
      const copied = await copyFiles(converted, user);
      failedFiles += copied.failed;
      await store.saveItem(thread.id, copied.item);
      counts.items++;
    }
    if (failedFiles) {
      process.stderr.write(`${thread.id}: ${failedFiles} file(s) could not be fetched; not marked imported, run again\n`);
      continue;
    }
    await store.saveThread(thread, user, { imported_at: new Date().toISOString() });
    counts.imported++;
    process.stderr.write(`imported ${thread.id} (${position} items)\n`);
  }
  console.log(JSON.stringify({ stage, table: settings.chatThreadsTable, ...counts }));
}

helpIfAsked(__filename);
main().catch((e) => failure('export-hosted-threads', e));
