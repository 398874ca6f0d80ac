import { GetObjectTaggingCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ATTACHMENTS_BUCKET, chatRequest, chatToken, documentClient, emulator, s3Client } from '@lead-intake/testkit';

/**
 * Photos and files in the self-hosted chat, over real HTTP: the chat endpoint, the presigned
 * upload straight to the S3 stand-in, the message that carries them, the model's inputs.
 */
const admin = emulator();
const TABLE = 'chatkit-lead-intake-chat-local-threads';
// A real JPEG header is not needed by anyone here, but the bytes must round-trip exactly.
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('dent photo bytes '.repeat(64)), Buffer.from([0xff, 0xd9])]);
const PDF = Buffer.from('%PDF-1.4\n% a quote\n%%EOF\n');
const input = (text: string, attachments: string[] = []) => ({
  content: [{ type: 'input_text', text }],
  attachments,
  inference_options: {},
});

beforeEach(() => admin.reset());

async function create(token: string, p: { name: string; size: number; mime_type: string }) {
  return chatRequest({ type: 'attachments.create', params: p }, { token });
}
async function upload(token: string, name: string, bytes: Buffer, mime: string) {
  const created = await create(token, { name, size: bytes.length, mime_type: mime });
  expect(created.status).toBe(200);
  const d = created.json.upload_descriptor;
  const put = await fetch(d.url, { method: d.method, headers: d.headers, body: new Uint8Array(bytes) });
  expect(put.status).toBe(200);
  return created.json;
}

describe('two-phase upload', () => {
  it('create, PUT to the presigned URL, send with empty text, read back with a fresh preview; the model sees the photo', async () => {
    const token = await chatToken('u_attachAlice00000000001');
    const created = await create(token, { name: 'dent.jpg', size: JPEG.length, mime_type: 'image/jpeg' });
    expect(created.status).toBe(200);
    const att = created.json;
    expect(att).toMatchObject({
      id: expect.stringMatching(/^atc_/),
      type: 'image',
      name: 'dent.jpg',
      mime_type: 'image/jpeg',
      preview_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/.*X-Amz-Signature=/),
      upload_descriptor: {
        method: 'PUT',
        headers: { 'content-type': 'image/jpeg', 'if-none-match': '*' },
        url: expect.stringContaining('X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bif-none-match'),
      },
    });
    // Before the upload there is nothing to show; after it, the preview is the photo.
    expect((await fetch(att.preview_url)).status).toBe(404);
    const put = await fetch(att.upload_descriptor.url, { method: 'PUT', headers: att.upload_descriptor.headers, body: JPEG });
    expect(put.status).toBe(200);
    expect(Buffer.from(await (await fetch(att.preview_url)).arrayBuffer())).toEqual(JPEG);

    await admin.queue({ text: 'That dent looks fixable.' });
    const turn = await chatRequest({ type: 'threads.create', params: { input: input('', [att.id]) } }, { token });
    expect(turn.status).toBe(200);
    const done = turn.events.find((e) => e.type === 'thread.item.done' && e.item.type === 'user_message')!.item;
    expect(done.content).toEqual([{ type: 'input_text', text: '' }]);
    expect(done.attachments).toEqual([
      {
        id: att.id,
        type: 'image',
        name: 'dent.jpg',
        mime_type: 'image/jpeg',
        thread_id: done.thread_id,
        preview_url: expect.stringContaining('X-Amz-Signature='),
      },
    ]);
    expect(Buffer.from(await (await fetch(done.attachments[0].preview_url)).arrayBuffer())).toEqual(JPEG);
    // The model got the photo as an image input, at a URL that serves it.
    const modelCall = (await admin.requests()).find((r) => r.path === '/v1/responses')!;
    const last = (modelCall.body as any).input.at(-1);
    expect(last.content[0]).toEqual({ type: 'input_text', text: '\n[The customer shared: dent.jpg]' });
    expect(last.content[1]).toMatchObject({ type: 'input_image', detail: 'auto' });
    expect(Buffer.from(await (await fetch(last.content[1].image_url)).arrayBuffer())).toEqual(JPEG);

    // Stored without any URL (previews are issued when read), and the object is kept with the conversation.
    const stored = (
      await documentClient().send(
        new GetCommand({ TableName: TABLE, Key: { pk: `THREAD#${done.thread_id}`, sk: `ITM#${done.id.slice(4)}#msg` } }),
      )
    ).Item!;
    expect(JSON.parse(stored.data).attachments[0].preview_url).toBe('');
    const s3 = await s3Client();
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: ATTACHMENTS_BUCKET, Key: `attachments/${att.id}` }));
    expect(tags.TagSet).toEqual([{ Key: 'attached', Value: 'yes' }]);

    // Reading the thread back issues fresh previews.
    const items = await chatRequest({ type: 'items.list', params: { thread_id: done.thread_id, order: 'asc' } }, { token });
    const again = items.json.data[0].attachments[0].preview_url;
    expect(Buffer.from(await (await fetch(again)).arrayBuffer())).toEqual(JPEG);
    // Sent: it stays with the conversation.
    const del = await chatRequest({ type: 'attachments.delete', params: { attachment_id: att.id } }, { token });
    expect([del.status, del.json.code]).toEqual([409, 'conflict']);
    // And it cannot be replaced through its upload URL (still valid for minutes): S3 refuses, the object and its tag are unchanged.
    const other = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
      Buffer.from('another photo '.repeat(78)).subarray(0, JPEG.length - 4),
    ]);
    expect(other.length).toBe(JPEG.length);
    const replace = await fetch(att.upload_descriptor.url, { method: 'PUT', headers: att.upload_descriptor.headers, body: other });
    expect(replace.status).toBe(412);
    // Without the signed header the signature does not hold.
    const unconditional = await fetch(att.upload_descriptor.url, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: other });
    expect(unconditional.status).toBe(403);
    expect(Buffer.from(await (await fetch(again)).arrayBuffer())).toEqual(JPEG);
    const after = await s3.send(new GetObjectTaggingCommand({ Bucket: ATTACHMENTS_BUCKET, Key: `attachments/${att.id}` }));
    expect(after.TagSet).toEqual([{ Key: 'attached', Value: 'yes' }]);
  });

  it('a PDF goes to the model as a file input; the history keeps saying what was shared', async () => {
    const token = await chatToken('u_attachPdfSender0000001');
    const pdf = await upload(token, 'quote.pdf', PDF, 'application/pdf');
    expect(pdf.type).toBe('file');
    expect(pdf.preview_url).toBeUndefined();
    const first = await chatRequest(
      { type: 'threads.create', params: { input: input('Here is the other shop’s quote', [pdf.id]) } },
      { token },
    );
    const threadId = first.events[0].thread.id;
    await chatRequest({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Can you beat it?') } }, { token });
    const calls = (await admin.requests()).filter((r) => r.path === '/v1/responses');
    const firstInput = (calls[0]!.body as any).input.at(-1).content;
    expect(firstInput[1]).toEqual({ type: 'input_file', file_url: expect.stringContaining('X-Amz-Signature='), filename: 'quote.pdf' });
    expect(Buffer.from(await (await fetch(firstInput[1].file_url)).arrayBuffer())).toEqual(PDF);
    // The next turn: the earlier message is text that names the file, no file input again.
    const history = (calls[1]!.body as any).input;
    expect(history[0]).toEqual({ role: 'user', content: 'Here is the other shop’s quote\n[The customer shared: quote.pdf]' });
  });

  it('delete removes an unsent attachment and its object', async () => {
    const token = await chatToken('u_attachDeleter000000001');
    const att = await upload(token, 'wrong.png', JPEG, 'image/png');
    const s3 = await s3Client();
    await s3.send(new HeadObjectCommand({ Bucket: ATTACHMENTS_BUCKET, Key: `attachments/${att.id}` }));
    const del = await chatRequest({ type: 'attachments.delete', params: { attachment_id: att.id } }, { token });
    expect([del.status, del.json]).toEqual([200, {}]);
    await expect(s3.send(new HeadObjectCommand({ Bucket: ATTACHMENTS_BUCKET, Key: `attachments/${att.id}` }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    const again = await chatRequest({ type: 'attachments.delete', params: { attachment_id: att.id } }, { token });
    expect(again.status).toBe(404);
  });

  it('races never answer 500: sent while being deleted, one of them wins; two new threads sending one photo, one wins', async () => {
    const token = await chatToken('u_attachRacer0000000001');
    const outcome = (r: Awaited<ReturnType<typeof chatRequest>>) =>
      r.status !== 200 ? `json ${r.status}` : r.events.some((e: any) => e.type === 'error') ? 'stream error' : 'sent';
    for (let round = 0; round < 3; round++) {
      const att = await upload(token, `race${round}.jpg`, JPEG, 'image/jpeg');
      const [send, del] = await Promise.all([
        chatRequest({ type: 'threads.create', params: { input: input('', [att.id]) } }, { token }),
        chatRequest({ type: 'attachments.delete', params: { attachment_id: att.id } }, { token }),
      ]);
      expect(send.status).not.toBe(500);
      expect(del.status).not.toBe(500);
      // Exactly one of them took effect: sent (the delete refused, 409) or deleted (the send refused).
      const sent = outcome(send) === 'sent';
      expect(sent ? del.status : 200).toBe(sent ? 409 : 200);
      if (!sent) expect(['json 404', 'json 400', 'stream error']).toContain(outcome(send));
    }
    const att = await upload(token, 'twice.jpg', JPEG, 'image/jpeg');
    const both = await Promise.all(
      [1, 2].map(() => chatRequest({ type: 'threads.create', params: { input: input('', [att.id]) } }, { token })),
    );
    expect(both.map(outcome).sort()).toEqual(['sent', 'stream error']);
    const lost = both.find((r) => outcome(r) !== 'sent')!;
    expect(lost.events.find((e: any) => e.type === 'error').message).toMatch(/was sent in a message/);
  });
});

describe('limits, each refused with a reason before anything is issued or written', () => {
  it('size, type and name are checked before any upload URL is issued', async () => {
    const token = await chatToken('u_attachLimits0000000001');
    const refuse = async (p: { name: string; size: number; mime_type: string }, reason: RegExp) => {
      const r = await create(token, p);
      expect([r.status, r.json.code]).toEqual([400, 'invalid_request']);
      expect(r.json.error).toMatch(reason);
      expect(JSON.stringify(r.json)).not.toContain('X-Amz');
    };
    await refuse({ name: 'big.jpg', size: 10 * 1024 * 1024 + 1, mime_type: 'image/jpeg' }, /at most 10\.0 MB per file/);
    await refuse({ name: 'x.svg', size: 100, mime_type: 'image/svg+xml' }, /not accepted \(accepted: image\/jpeg/);
    await refuse({ name: 'run.exe', size: 100, mime_type: 'application/octet-stream' }, /not accepted/);
    await refuse({ name: '../../etc/passwd', size: 100, mime_type: 'image/jpeg' }, /file name/);
    await refuse({ name: 'empty.jpg', size: 0, mime_type: 'image/jpeg' }, /at least 1/);
    // The model cannot read HEIC: the customer is told how to send the photo instead.
    await refuse({ name: 'IMG_0042.HEIC', size: 100, mime_type: 'image/heic' }, /HEIC photos .* JPEG or PNG .*Most Compatible/);
  });

  it('a file must be what its type says: HTML uploaded as a PNG is refused before the model or anyone sees it', async () => {
    const token = await chatToken('u_attachLimits0000000005');
    const html = Buffer.from('<html><script>alert(1)</script>call 415-555-0199</html>');
    const fake = await upload(token, 'photo.png', html, 'image/png');
    const refused = await chatRequest({ type: 'threads.create', params: { input: input('see photo', [fake.id]) } }, { token });
    expect([refused.status, refused.json.code]).toEqual([400, 'invalid_request']);
    expect(refused.json.error).toBe(`Attachment ${fake.id} is not a PNG image: its content does not match its type.`);
    expect(await admin.requests()).toEqual([]);
    expect((await chatRequest({ type: 'threads.list', params: {} }, { token })).json.data).toEqual([]);
    // A PDF that is a PDF, and a JPEG declared as one, pass (the photo is still the customer's to send).
    const pdf = await upload(token, 'quote.pdf', PDF, 'application/pdf');
    const jpeg = await upload(token, 'dent.jpg', JPEG, 'image/jpeg');
    await admin.queue({ text: 'Thanks for the quote and photo.' });
    const ok = await chatRequest({ type: 'threads.create', params: { input: input('here', [pdf.id, jpeg.id]) } }, { token });
    expect(ok.events.some((e) => e.type === 'error')).toBe(false);
  });

  it('the signature holds the declared size and type: the browser cannot upload something else', async () => {
    const token = await chatToken('u_attachLimits0000000002');
    const att = (await create(token, { name: 'a.jpg', size: JPEG.length, mime_type: 'image/jpeg' })).json;
    const d = att.upload_descriptor;
    expect((await fetch(d.url, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: JPEG })).status).toBe(403);
    expect((await fetch(d.url, { method: 'PUT', headers: d.headers, body: Buffer.concat([JPEG, Buffer.from('more')]) })).status).toBe(403);
    expect((await fetch(d.url, { method: 'PUT', headers: d.headers, body: JPEG })).status).toBe(200);
  });

  it('never uploaded, too many, someone else’s: refused, and no thread or message is written', async () => {
    const alice = await chatToken('u_attachLimits0000000003');
    const bob = await chatToken('u_attachLimits0000000004');
    const listThreads = async (token: string) => (await chatRequest({ type: 'threads.list', params: {} }, { token })).json.data;

    const notUploaded = (await create(alice, { name: 'later.jpg', size: 10, mime_type: 'image/jpeg' })).json;
    const r1 = await chatRequest({ type: 'threads.create', params: { input: input('see photo', [notUploaded.id]) } }, { token: alice });
    expect([r1.status, r1.json.code]).toEqual([400, 'invalid_request']);
    expect(r1.json.error).toMatch(/was never uploaded/);

    const five = await Promise.all([1, 2, 3, 4, 5].map((n) => upload(alice, `p${n}.jpg`, JPEG, 'image/jpeg')));
    const r2 = await chatRequest(
      {
        type: 'threads.create',
        params: {
          input: input(
            'photos',
            five.map((a) => a.id),
          ),
        },
      },
      { token: alice },
    );
    expect([r2.status, r2.json.error]).toEqual([400, 'A message may carry at most 4 attachments.']);

    // Bob cannot send, preview-by-delete, or delete Alice's attachment: not found, as if it did not exist.
    const r3 = await chatRequest({ type: 'threads.create', params: { input: input('mine now', [five[0].id]) } }, { token: bob });
    expect([r3.status, r3.json.code]).toEqual([404, 'not_found']);
    const r4 = await chatRequest({ type: 'attachments.delete', params: { attachment_id: five[0].id } }, { token: bob });
    expect(r4.status).toBe(404);
    expect(await listThreads(alice)).toEqual([]);
    expect(await listThreads(bob)).toEqual([]);
    // Four is fine.
    const ok = await chatRequest(
      {
        type: 'threads.create',
        params: {
          input: input(
            'photos',
            five.slice(0, 4).map((a) => a.id),
          ),
        },
      },
      { token: alice },
    );
    expect(ok.status).toBe(200);
    // A sent attachment cannot be sent again in another conversation.
    const r5 = await chatRequest({ type: 'threads.create', params: { input: input('again', [five[0].id]) } }, { token: alice });
    expect(r5.json.error).toMatch(/already sent in another conversation/);
  });
});
