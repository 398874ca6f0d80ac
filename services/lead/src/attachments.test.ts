import { PutObjectCommand } from '@aws-sdk/client-s3';
import { signedLink } from '@lead-intake/attachments';
import { userMessageItem, assistantMessageItem, outputText } from '@lead-intake/chatkit-protocol';
import { LOCAL_TOKEN_SECRET } from '@lead-intake/local-stack/config';
import { DynamoThreadStore } from '@lead-intake/thread-store';
import {
  ATTACHMENTS_BUCKET,
  CHAT_THREADS_TABLE,
  clearSes,
  dynamoClient,
  emailsFor,
  leadAuth,
  postJson,
  s3Client,
  stackUrls,
} from '@lead-intake/testkit';

/**
 * A lead for a self-hosted conversation with photos: the email shows thumbnails and links that
 * go through the `files` function (signed, long-lived), which redirects to a short-lived S3 URL.
 */
const filesUrl = `http://127.0.0.1:${process.env.TEST_LOCAL_FILES_PORT}/`;
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('photo of a leaking hose '.repeat(40))]);
const PDF = Buffer.from('%PDF-1.4\n% estimate\n%%EOF\n');

async function conversationWithFiles() {
  const store = new DynamoThreadStore({ tableName: CHAT_THREADS_TABLE, client: dynamoClient() });
  const s3 = await s3Client();
  const threadId = store.generateThreadId();
  const user = `u_leadFiles${Date.now().toString(36)}`;
  await store.saveThread(
    { id: threadId, created_at: new Date().toISOString(), status: { type: 'active' }, title: null, metadata: {} },
    user,
  );
  const photo = store.generateItemId('attachment');
  const quote = store.generateItemId('attachment');
  await s3.send(new PutObjectCommand({ Bucket: ATTACHMENTS_BUCKET, Key: `attachments/${photo}`, Body: JPEG, ContentType: 'image/jpeg' }));
  await s3.send(
    new PutObjectCommand({ Bucket: ATTACHMENTS_BUCKET, Key: `attachments/${quote}`, Body: PDF, ContentType: 'application/pdf' }),
  );
  await store.addThreadItem(
    threadId,
    userMessageItem({
      id: store.generateItemId('message'),
      threadId,
      createdAt: new Date().toISOString(),
      content: [{ type: 'input_text', text: 'Hose is leaking, see photo. Call 415-555-0166.' }],
      attachments: [
        { id: photo, type: 'image', name: 'hose.jpg', mime_type: 'image/jpeg', preview_url: '' },
        { id: quote, type: 'file', name: 'estimate.pdf', mime_type: 'application/pdf' },
      ],
    }),
  );
  await store.addThreadItem(
    threadId,
    assistantMessageItem({
      id: store.generateItemId('message'),
      threadId,
      createdAt: new Date().toISOString(),
      content: [outputText('We will call.')],
    }),
  );
  return { threadId, user, photo, quote };
}

const links = (html: string) =>
  [...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!.replace(/&amp;/g, '&')).filter((u) => u.startsWith(filesUrl));

it('the email shows the photo as a thumbnail and links every file through signed links that keep working', async () => {
  await clearSes();
  const c = await conversationWithFiles();
  const res = await postJson(stackUrls().lead, { threadId: c.threadId, reason: 'manual' }, leadAuth(c.threadId, c.user));
  expect(res.body).toEqual({ sent: true, reason: 'sent' });
  const [email] = await emailsFor(c.threadId);
  const html = email!.body.html!;
  const imgs = [...html.matchAll(/<img src="([^"]+)" alt="([^"]*)"/g)].map((m) => [m[1]!.replace(/&amp;/g, '&'), m[2]]);
  expect(imgs).toHaveLength(1);
  expect(imgs[0]![1]).toBe('Photo from the customer');
  expect(html).toContain('hose.jpg (image/jpeg)</a>');
  const photoLink = imgs[0]![0]!;
  expect(photoLink.startsWith(filesUrl)).toBe(true);
  expect(links(html)).toEqual(expect.arrayContaining([photoLink]));
  const pdfLink = links(html).find((u) => u.includes(c.quote))!;
  expect(email!.body.text).toContain(`[attachment] estimate.pdf (application/pdf) ${pdfLink}`);

  // Following a link: a short redirect to S3, which serves the file.
  for (const [link, bytes] of [
    [photoLink, JPEG],
    [pdfLink, PDF],
  ] as const) {
    const hop = await fetch(link, { redirect: 'manual' });
    expect(hop.status).toBe(302);
    expect(hop.headers.get('location')).toMatch(/X-Amz-Expires=300/);
    expect(Buffer.from(await (await fetch(hop.headers.get('location')!)).arrayBuffer())).toEqual(bytes);
  }
  // The link lasts the stage's linkDays (90), not the hours a presigned URL can.
  const expires = Number(new URL(photoLink).searchParams.get('e'));
  expect(expires - Date.now() / 1000).toBeGreaterThan(89 * 86400);
});

it('a link names one file of one thread: altered, it opens nothing; expired, it says so', async () => {
  const c = await conversationWithFiles();
  const good = signedLink(filesUrl, LOCAL_TOKEN_SECRET, {
    threadId: c.threadId,
    attachmentId: c.photo,
    expires: Math.floor(Date.now() / 1000) + 60,
  });
  expect((await fetch(good, { redirect: 'manual' })).status).toBe(302);
  const other = await conversationWithFiles();
  const altered = (name: string, value: string) => {
    const u = new URL(good);
    u.searchParams.set(name, value);
    return u.toString();
  };
  // Another thread's file with this link's signature, this file under another thread, a longer life: all 404.
  for (const bad of [
    altered('a', other.photo),
    altered('t', other.threadId),
    altered('e', String(Math.floor(Date.now() / 1000) + 86400 * 365)),
  ]) {
    const r = await fetch(bad, { redirect: 'manual' });
    expect([r.status, (await r.json()).code]).toEqual([404, 'not_found']);
  }
  const forged = signedLink(filesUrl, 'not-the-stage-secret-0123456789abcdef', {
    threadId: c.threadId,
    attachmentId: c.photo,
    expires: 4102444800,
  });
  expect((await fetch(forged, { redirect: 'manual' })).status).toBe(404);
  const expired = signedLink(filesUrl, LOCAL_TOKEN_SECRET, {
    threadId: c.threadId,
    attachmentId: c.photo,
    expires: Math.floor(Date.now() / 1000) - 1,
  });
  const r = await fetch(expired, { redirect: 'manual' });
  expect([r.status, (await r.json()).code]).toEqual([410, 'expired']);
  expect((await fetch(filesUrl, { method: 'POST', redirect: 'manual' })).status).toBe(405);
});
