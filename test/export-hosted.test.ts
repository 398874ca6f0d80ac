import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { ATTACHMENTS_BUCKET, chatRequest, chatToken, emulator, s3Client } from '@lead-intake/testkit';
import { TEST_STACK_ENV } from './jest/stack-env';

/** `npm run export-hosted-threads` from the emulator's hosted threads into the local store. */
const ROOT = join(__dirname, '..');
const admin = emulator();
const env: NodeJS.ProcessEnv = { ...process.env, ...TEST_STACK_ENV };
delete env.OPENAI_API_KEY;
/** Runs one of the repository's scripts against the test stack; answers the JSON of its last line. */
const runScript = async (script: string, args: string[]) =>
  JSON.parse(
    (
      await promisify(execFile)('npx', ['tsx', `scripts/${script}`, '--stage', 'local', ...args], { cwd: ROOT, env, timeout: 90_000 })
    ).stdout
      .trim()
      .split('\n')
      .pop()!,
  );
const run = (args: string[]) => runScript('export-hosted-threads.ts', args);

const WHEEL = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('a hosted wheel photo '.repeat(30))]);

it('copies hosted threads into the self-hosted store, converted, idempotent and resumable', async () => {
  await admin.reset();
  const old = await admin.seedThread({
    user: 'legacy-user',
    title: 'Old',
    created_at: Date.parse('2026-01-05T10:00:00Z') / 1000,
    items: [{ role: 'user', text: 'old question' }],
  } as any);
  const id = await admin.seedThread({
    user: 'hosted-user',
    title: 'Brakes',
    items: [
      {
        role: 'user',
        text: 'My brakes squeal',
        quoted_text: 'We open at 8',
        // The emulator serves these bytes at the hosted preview URL, as the hosted CDN did.
        attachments: [{ name: 'wheel.jpg', mime_type: 'image/jpeg', content_base64: WHEEL.toString('base64') }],
      },
      { role: 'assistant', text: 'Sorry to hear that! Your number?' },
      { type: 'chatkit.widget', widget: '{"type":"Card","children":[]}' },
      { role: 'user', text: '415-555-2671' },
    ],
  });
  const first = await run(['--since', '2026-06-01']);
  expect(first).toMatchObject({ imported: 1, skipped: 0, items: 4, filesCopied: 1, filesFailed: 0 });
  const token = await chatToken('hosted-user');
  const thread = (await chatRequest({ type: 'threads.get_by_id', params: { thread_id: id } }, { token })).json;
  expect(thread).toMatchObject({ id, title: 'Brakes', status: { type: 'active' }, metadata: {} });
  expect(thread.created_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
  const items = thread.items.data;
  expect(items.map((i: any) => i.type)).toEqual(['user_message', 'assistant_message', 'widget', 'user_message']);
  expect(items[0]).toMatchObject({
    thread_id: id,
    content: [{ type: 'input_text', text: 'My brakes squeal' }],
    quoted_text: 'We open at 8',
    attachments: [{ type: 'image', name: 'wheel.jpg', mime_type: 'image/jpeg', thread_id: id, preview_url: expect.any(String) }],
    inference_options: {},
  });
  // The photo now lives in the stage's bucket (kept with the conversation); the preview is a fresh presigned URL.
  const photo = items[0].attachments[0];
  expect(photo.preview_url).toMatch(
    /^http:\/\/127\.0\.0\.1:\d+\/chatkit-lead-intake-000000000000-local-files\/attachments\/.*X-Amz-Signature=/,
  );
  expect(Buffer.from(await (await fetch(photo.preview_url)).arrayBuffer())).toEqual(WHEEL);
  const tags = await (await s3Client()).send(new GetObjectTaggingCommand({ Bucket: ATTACHMENTS_BUCKET, Key: `attachments/${photo.id}` }));
  expect(tags.TagSet).toEqual([{ Key: 'attached', Value: 'yes' }]);
  expect(items[1].content).toEqual([{ annotations: [], text: 'Sorry to hear that! Your number?', type: 'output_text' }]);
  expect(items[2].widget).toEqual({ type: 'Card', children: [] });
  // Another user cannot see it; the old thread was filtered out by --since.
  expect((await chatRequest({ type: 'threads.get_by_id', params: { thread_id: id } }, { token: await chatToken('other') })).status).toBe(
    404,
  );
  expect(
    (await chatRequest({ type: 'threads.get_by_id', params: { thread_id: old } }, { token: await chatToken('legacy-user') })).status,
  ).toBe(404);

  // Again: nothing is copied twice; with --force the same items are rewritten, not duplicated.
  expect(await run(['--since', '2026-06-01'])).toMatchObject({ imported: 0, skipped: 1 });
  expect(await run(['--since', '2026-06-01', '--force'])).toMatchObject({ imported: 1, items: 4, filesCopied: 0, filesKept: 1 });
  const again = (await chatRequest({ type: 'items.list', params: { thread_id: id, limit: 100 } }, { token })).json.data;
  expect(again).toHaveLength(4);
  // The conversation goes on, self-hosted, in the same thread.
  await admin.queue({ text: 'We will call you today.' });
  const turn = await chatRequest(
    {
      type: 'threads.add_user_message',
      params: { thread_id: id, input: { content: [{ type: 'input_text', text: 'Thanks' }], attachments: [], inference_options: {} } },
    },
    { token },
  );
  expect(turn.events.at(-1).type).toBe('thread.item.done');
  expect(await run([])).toMatchObject({ imported: 1, skipped: 1 }); // without --since, the old one too
}, 120_000);

it('npm run migrate-thread-store rewrites rows written with the old keys, once', async () => {
  const { PutCommand, GetCommand } = await import('@aws-sdk/lib-dynamodb');
  const { documentClient, CHAT_THREADS_TABLE } = await import('@lead-intake/testkit');
  const { importedItemId } = await import('@lead-intake/chatkit-protocol');
  const doc = documentClient();
  const threadId = `cthr_legacy${Date.now()}`;
  const created = '2026-03-01T09:00:00.000Z';
  const itemId = importedItemId('msg', Date.parse(created) / 1000, 0, 'legacy');
  await doc.send(
    new PutCommand({
      TableName: CHAT_THREADS_TABLE,
      Item: {
        pk: `THREAD#${threadId}`,
        sk: 'META',
        gsi1pk: 'USER#legacy-owner',
        gsi1sk: threadId,
        user: 'legacy-owner',
        data: JSON.stringify({ id: threadId, title: 'Old', created_at: created, status: { type: 'active' }, metadata: {} }),
      },
    }),
  );
  await doc.send(
    new PutCommand({
      TableName: CHAT_THREADS_TABLE,
      Item: {
        pk: `THREAD#${threadId}`,
        sk: `ITEM#${itemId}`,
        data: JSON.stringify({
          id: itemId,
          thread_id: threadId,
          created_at: created,
          type: 'user_message',
          content: [{ type: 'input_text', text: 'old' }],
          attachments: [],
          inference_options: {},
        }),
      },
    }),
  );
  const migrate = () => runScript('migrate-thread-store.ts', []);
  const first = await migrate();
  expect(first.itemsRewritten).toBeGreaterThanOrEqual(1);
  expect(
    (await doc.send(new GetCommand({ TableName: CHAT_THREADS_TABLE, Key: { pk: `THREAD#${threadId}`, sk: `ITEM#${itemId}` } }))).Item,
  ).toBeUndefined();
  const token = await chatToken('legacy-owner');
  const items = (await chatRequest({ type: 'items.list', params: { thread_id: threadId } }, { token })).json.data;
  expect(items.map((i: any) => i.id)).toEqual([itemId]);
  expect(await migrate()).toMatchObject({ itemsRewritten: 0, threadsReindexed: 0 });
}, 120_000);

it('a hosted photo that cannot be fetched leaves its thread unmarked, so a re-run tries again', async () => {
  await admin.reset();
  const id = await admin.seedThread({
    user: 'hosted-user-2',
    items: [
      {
        role: 'user',
        text: 'see photo',
        attachments: [{ name: 'gone.jpg', mime_type: 'image/jpeg', preview_url: 'http://127.0.0.1:9/gone.jpg' }],
      },
    ],
  });
  const first = await run(['--since', '2026-06-01']);
  expect(first).toMatchObject({ imported: 0, filesFailed: 1 });
  expect(await run(['--since', '2026-06-01'])).toMatchObject({ imported: 0, skipped: 0, filesFailed: 1 }); // tried again, not skipped
  // The conversation itself is there (its items were written); only the marker waits for the file.
  const token = await chatToken('hosted-user-2');
  expect((await chatRequest({ type: 'threads.get_by_id', params: { thread_id: id } }, { token })).status).toBe(200);
}, 120_000);
