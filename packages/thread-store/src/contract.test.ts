import { PutCommand, QueryCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, importedItemId, NotFoundError, type ThreadItem, type ThreadMetadata } from '@lead-intake/chatkit-protocol';
import { documentClient, dynamoClient } from '@lead-intake/testkit';
import { DynamoThreadStore, MemoryThreadStore, migrateThreadKeys, timeSortableId, type ChatStore } from './index';

/**
 * One contract, two stores: every rule below runs against DynamoDB Local and against memory.
 * The rules are the official Store's (chatkit-python tests/test_store.py) plus ours: items in
 * creation order whatever their type, hidden items never in a page nor a cursor.
 */
const TABLE = 'chatkit-lead-intake-chat-local-threads';
const stores: Array<[string, () => ChatStore]> = [
  ['DynamoDB', () => new DynamoThreadStore({ tableName: TABLE, client: dynamoClient() })],
  ['memory', () => new MemoryThreadStore()],
];

const uniq = (p: string) => `${p}-${timeSortableId('t')}`;
const thread = (s: ChatStore, created = new Date().toISOString(), id = s.generateThreadId()): ThreadMetadata => ({
  id,
  created_at: created,
  status: { type: 'active' },
  title: null,
  metadata: { page_url: 'https://craigs.autos/' },
});
const user = (s: ChatStore, t: string, text: string): ThreadItem => ({
  id: s.generateItemId('message'),
  thread_id: t,
  created_at: new Date().toISOString(),
  type: 'user_message',
  content: [{ type: 'input_text', text }],
  attachments: [],
  inference_options: {},
});
const assistant = (s: ChatStore, t: string, text: string): ThreadItem => ({
  id: s.generateItemId('message'),
  thread_id: t,
  created_at: new Date().toISOString(),
  type: 'assistant_message',
  content: [{ type: 'output_text', text, annotations: [] }],
});
const hidden = (s: ChatStore, t: string): ThreadItem => ({
  id: s.generateItemId('sdk_hidden_context'),
  thread_id: t,
  created_at: new Date().toISOString(),
  type: 'sdk_hidden_context',
  content: 'The user cancelled the stream.',
});
const toolCall = (s: ChatStore, t: string): ThreadItem => ({
  id: s.generateItemId('tool_call'),
  thread_id: t,
  created_at: new Date().toISOString(),
  type: 'client_tool_call',
  status: 'completed',
  call_id: 'c1',
  name: 'n',
  arguments: {},
});
const texts = (items: ThreadItem[]) =>
  items.map((i) => (i.type === 'user_message' || i.type === 'assistant_message' ? i.content[0]!.text : i.type));

/**
 * A conversation with two Stops, as the defect report had it: every kind of item, and the hidden
 * notes (`shcx_`) and a tool call (`tc_`) whose id prefixes sort after `msg_`.
 */
async function conversation(s: ChatStore, owner: string) {
  const t = thread(s);
  await s.saveThread(t, owner);
  const items = [
    user(s, t.id, 'u1'),
    assistant(s, t.id, 'a1'),
    user(s, t.id, 'u2'),
    hidden(s, t.id),
    toolCall(s, t.id),
    user(s, t.id, 'u3'),
    assistant(s, t.id, 'a3'),
    hidden(s, t.id),
    user(s, t.id, 'u4'),
    assistant(s, t.id, 'a4'),
  ];
  for (const i of items) await s.addThreadItem(t.id, i);
  return { t, items, visible: items.filter((i) => i.type !== 'sdk_hidden_context') };
}

describe.each(stores)('%s store', (_name, make) => {
  it('keeps items in creation order whatever their type, for the model and for pages', async () => {
    const s = make();
    const owner = uniq('order');
    const { t, items, visible } = await conversation(s, owner);
    expect(texts(await s.allItems(t.id))).toEqual(texts(items));
    expect(texts((await s.threadWithItems(t.id))!.items)).toEqual(texts(items)); // the lead pipeline's read: hidden ones too
    const recent = await s.loadThreadWithRecentItems(t.id, owner, 30);
    expect(texts(recent.items)).toEqual(texts(items)); // hidden notes in place: the model sees them where they happened
    expect(texts((await s.loadThreadWithRecentItems(t.id, owner, 3)).items)).toEqual(['sdk_hidden_context', 'u4', 'a4']);
    expect(texts((await s.loadThreadItems(t.id, { order: 'asc', limit: 100 })).data)).toEqual(texts(visible));
    expect(texts((await s.loadThreadItems(t.id, { order: 'desc', limit: 100 })).data)).toEqual(texts(visible).reverse());
  });

  it('pages visible items both ways: full pages, has_more, after only with more, never a hidden id', async () => {
    const s = make();
    const owner = uniq('pages');
    const { t, visible } = await conversation(s, owner);
    for (const order of ['asc', 'desc'] as const) {
      const want = order === 'asc' ? visible : [...visible].reverse();
      for (const limit of [1, 2, 3, 4, 7, 8, 9]) {
        const seen: ThreadItem[] = [];
        let after: string | undefined;
        for (let pages = 0; ; pages++) {
          const p = await s.loadThreadItems(t.id, { order, limit, after });
          expect(p.data.length).toBe(Math.min(limit, want.length - seen.length)); // never a short page while more remain
          seen.push(...p.data);
          if (!p.has_more) {
            expect(p.after).toBeUndefined();
            break;
          }
          expect(p.after).toBe(p.data.at(-1)!.id);
          expect(p.after!.startsWith('shcx_')).toBe(false);
          after = p.after;
          expect(pages).toBeLessThan(20);
        }
        expect(seen.map((i) => i.id)).toEqual(want.map((i) => i.id));
      }
    }
    const withHidden = await s.loadThreadItems(t.id, { order: 'asc', limit: 100, includeHidden: true });
    expect(withHidden.data).toHaveLength(10);
  });

  it('an unknown, malformed or foreign cursor is not found', async () => {
    const s = make();
    const owner = uniq('cursor');
    const { t } = await conversation(s, owner);
    const other = await conversation(s, owner);
    for (const after of [s.generateItemId('message'), 'msg_x', 'garbage', other.items[0]!.id]) {
      await expect(s.loadThreadItems(t.id, { after })).rejects.toBeInstanceOf(NotFoundError);
    }
    await expect(s.loadThreads(owner, { after: 'cthr_nope' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.loadThreads(uniq('someone-else'), { after: t.id })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists a user’s threads by creation time (imported hosted ids are not time-sortable), with the same cursor rules', async () => {
    const s = make();
    const owner = uniq('lister');
    const base = Date.parse('2026-05-01T10:00:00Z');
    // Created in this order; the ids sort the other way, as imported hosted ids may.
    const ts = ['cthr_zz_first', 'cthr_mm_second', 'cthr_aa_third', s.generateThreadId()].map((id, n) =>
      thread(s, new Date(base + n * 60_000).toISOString(), `${id}${n}${timeSortableId('x').slice(2, 10)}`),
    );
    for (const t of [...ts].reverse()) await s.saveThread(t, owner);
    await s.saveThread(thread(s), uniq('someone-else'));
    const d1 = await s.loadThreads(owner, { limit: 2 });
    expect(d1.data.map((t) => t.id)).toEqual([ts[3]!.id, ts[2]!.id]);
    expect(d1).toMatchObject({ has_more: true, after: ts[2]!.id });
    const d2 = await s.loadThreads(owner, { limit: 2, after: d1.after });
    expect(d2).toEqual({ data: [ts[1], ts[0]].map((t) => ({ ...t!, allowed_image_domains: null })), has_more: false });
    expect((await s.loadThreads(owner, { order: 'asc', limit: 100 })).data.map((t) => t.id)).toEqual(ts.map((t) => t.id));
  });

  it('saves metadata only, upserts and deletes items, and scopes threads to their user', async () => {
    const s = make();
    const owner = uniq('owner');
    const t = thread(s);
    await s.saveThread(t, owner);
    const [a, b] = [user(s, t.id, 'one'), user(s, t.id, 'two')];
    await s.addThreadItem(t.id, a);
    await s.addThreadItem(t.id, b);
    await expect(s.addThreadItem(t.id, a)).rejects.toBeInstanceOf(ConflictError); // an insert, never an overwrite
    await s.saveThread({ ...t, title: 'Renamed', items: { data: [1, 2, 3] } } as any, owner);
    const loaded = await s.loadThread(t.id, owner);
    expect(loaded).toEqual({ ...t, title: 'Renamed', allowed_image_domains: null });
    await expect(s.loadThread(t.id, 'intruder')).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.saveThread(t, 'intruder')).rejects.toBeInstanceOf(NotFoundError); // no takeover
    await expect(s.loadThreadWithRecentItems(t.id, 'intruder', 5)).rejects.toBeInstanceOf(NotFoundError);
    await s.saveItem(t.id, { ...a, content: [{ type: 'input_text', text: 'edited' }] } as ThreadItem);
    expect(texts([await s.loadItem(t.id, a.id)])).toEqual(['edited']);
    await s.deleteThreadItem(t.id, b.id);
    await expect(s.loadItem(t.id, b.id)).rejects.toBeInstanceOf(NotFoundError);
    await s.setFeedback(t.id, [a.id, 'msg_unknown', 'not-an-id'], 'positive'); // unknown ids are ignored
    expect(await s.threadOwner(t.id)).toBe(owner);
    expect(await s.threadWithItems(t.id)).toEqual({ thread: loaded, user: owner, items: await s.allItems(t.id) });
    await s.deleteThread(t.id, owner);
    expect(await s.threadWithItems(t.id)).toBeNull();
    expect(await s.threadOwner(t.id)).toBeNull();
    expect(await s.allItems(t.id)).toEqual([]);
    await expect(s.deleteThread(t.id, owner)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('writes no item without its thread; a new thread and its first item are written together', async () => {
    const s = make();
    const orphan = s.generateThreadId();
    await expect(s.addThreadItem(orphan, user(s, orphan, 'lost'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.saveItem(orphan, user(s, orphan, 'lost'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.loadThreadWithRecentItems(orphan, 'anyone', 30)).rejects.toBeInstanceOf(NotFoundError);
    expect(await s.threadOwner(orphan)).toBeNull();
    const owner = uniq('creator');
    const t = thread(s);
    const first = user(s, t.id, 'first');
    await s.createThread(t, owner, first);
    expect(texts((await s.loadThreadWithRecentItems(t.id, owner, 5)).items)).toEqual(['first']);
    await expect(s.createThread(t, uniq('other'), user(s, t.id, 'x'))).rejects.toBeInstanceOf(ConflictError);
    expect(texts(await s.allItems(t.id))).toEqual(['first']); // neither half of the refused create
  });

  it('deletion wins: a deleted thread is never written again, nor listed, nor brought back by a late save', async () => {
    const s = make();
    const owner = uniq('deleter');
    const t = thread(s);
    const first = user(s, t.id, 'will not start, call 415-555-0152');
    await s.createThread(t, owner, first);
    await s.deleteThread(t.id, owner);
    // A turn that was streaming when the thread was deleted: its answer, an upsert, the title.
    await expect(s.addThreadItem(t.id, assistant(s, t.id, 'late answer'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.saveItem(t.id, { ...first, content: [{ type: 'input_text', text: 'edited' }] } as ThreadItem)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(s.saveThread({ ...t, title: 'will not start' }, owner)).rejects.toBeInstanceOf(NotFoundError);
    await s.refreshRetention(t.id);
    expect((await s.loadThreads(owner)).data).toEqual([]);
    await expect(s.loadThread(t.id, owner)).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.loadItem(t.id, first.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await s.allItems(t.id)).toEqual([]);
    expect(await s.threadWithItems(t.id)).toBeNull();
    await expect(s.createThread(t, owner, first)).rejects.toBeInstanceOf(ConflictError); // the id is not reused
  });

  it('keeps attachments per user: another user’s is not found, whether read, overwritten or deleted', async () => {
    const s = make();
    const id = s.generateItemId('attachment');
    expect(id).toMatch(/^atc_/);
    const attachment = { id, type: 'image' as const, name: 'dent.jpg', mime_type: 'image/jpeg', preview_url: '' };
    await s.saveAttachment({ attachment, size: 1234, threadId: null }, 'alice');
    expect(await s.loadAttachment(id, 'alice')).toEqual({ attachment, size: 1234, threadId: null });
    await expect(s.loadAttachment(id, 'mallory')).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.saveAttachment({ attachment, size: 1, threadId: 'cthr_x' }, 'mallory')).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.deleteAttachment(id, 'mallory')).rejects.toBeInstanceOf(NotFoundError);
    // Sent in a message: the thread is recorded.
    await s.saveAttachment({ attachment: { ...attachment, thread_id: 'cthr_abc' }, size: 1234, threadId: 'cthr_abc' }, 'alice');
    expect((await s.loadAttachment(id, 'alice')).threadId).toBe('cthr_abc');
    await s.deleteAttachment(id, 'alice');
    await expect(s.loadAttachment(id, 'alice')).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.loadAttachment('atc_nothing', 'alice')).rejects.toBeInstanceOf(NotFoundError);
  });
  it('an attachment is claimed by one message (one of two racing wins); a sent one is not deleted as unsent', async () => {
    const s = make();
    const id = s.generateItemId('attachment');
    const attachment = { id, type: 'image' as const, name: 'dent.jpg', mime_type: 'image/jpeg', preview_url: '' };
    await s.saveAttachment({ attachment, size: 1234, threadId: null }, 'alice');
    const claim = (threadId: string, who = 'alice') =>
      s.claimAttachment({ attachment: { ...attachment, thread_id: threadId }, size: 1234, threadId }, who);
    const race = await Promise.allSettled([claim('cthr_one'), claim('cthr_two')]);
    expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((race.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(ConflictError);
    const winner = (await s.loadAttachment(id, 'alice')).threadId!;
    await claim(winner); // the same message again (a retry): fine
    await expect(claim('cthr_x', 'mallory')).rejects.toBeInstanceOf(NotFoundError);
    await expect(s.deleteAttachment(id, 'alice', { unsentOnly: true })).rejects.toBeInstanceOf(ConflictError);
    expect((await s.loadAttachment(id, 'alice')).threadId).toBe(winner);
    // An unsent one deleted first: the message that names it finds it gone.
    const other = s.generateItemId('attachment');
    const a2 = { ...attachment, id: other };
    await s.saveAttachment({ attachment: a2, size: 1, threadId: null }, 'alice');
    await s.deleteAttachment(other, 'alice', { unsentOnly: true });
    await expect(s.claimAttachment({ attachment: a2, size: 1, threadId: 'cthr_late' }, 'alice')).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('DynamoDB rows', () => {
  const doc = documentClient();
  const rows = async (threadId: string) =>
    ((
      await doc.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `THREAD#${threadId}` },
          ConsistentRead: true,
        }),
      )
    ).Items ?? []) as Array<Record<string, any>>;

  it('every row carries the retention TTL, and a refresh restarts it for all of them', async () => {
    let now = Date.now(); // a fixed date would one day give rows a TTL already past
    const s = new DynamoThreadStore({ tableName: TABLE, client: dynamoClient(), retentionDays: 365, now: () => now });
    const owner = uniq('ttl');
    const { t } = await conversation(s, owner);
    const first = Math.floor(now / 1000) + 365 * 86400;
    expect((await rows(t.id)).map((r) => r.ttl)).toEqual(Array(11).fill(first));
    expect((await s.loadThreadWithRecentItems(t.id, owner, 1)).expiresAt).toBe(first);
    now += 40 * 86400_000;
    await s.refreshRetention(t.id);
    expect(new Set((await rows(t.id)).map((r) => r.ttl))).toEqual(new Set([first + 40 * 86400]));
  });

  it('the lead pipeline reads a thread larger than one page of a query whole, its items in order', async () => {
    // DynamoDB answers a query 1 MB at a time: three items of 390 KB take more than one page.
    const s = new DynamoThreadStore({ tableName: TABLE, client: dynamoClient() });
    const owner = uniq('pages');
    const t = thread(s);
    await s.createThread(t, owner, user(s, t.id, 'first'));
    const big = ['one', 'two', 'three'].map((w) => user(s, t.id, `${w} ${'x'.repeat(390_000)}`));
    for (const i of big) await s.addThreadItem(t.id, i);
    await s.addThreadItem(t.id, assistant(s, t.id, 'last'));
    const read = (await s.threadWithItems(t.id))!;
    expect(read.user).toBe(owner);
    expect(read.items.map((i) => texts([i])[0]!.split(' ')[0])).toEqual(['first', 'one', 'two', 'three', 'last']);
  });

  it('an item row carries its thread’s owner where the write proved it, and only there', async () => {
    // The lead scheduler reads the owner from the stream's item rows instead of the thread's.
    const s = new DynamoThreadStore({ tableName: TABLE, client: dynamoClient() });
    const owner = uniq('owner');
    const t = thread(s);
    await s.createThread(t, owner, user(s, t.id, 'first'));
    await s.addThreadItem(t.id, assistant(s, t.id, 'answer'));
    // Another instance, which has not read the thread: its write says nothing of the owner...
    const other = new DynamoThreadStore({ tableName: TABLE, client: dynamoClient() });
    await other.addThreadItem(t.id, user(s, t.id, 'unproven'));
    const byText = async () =>
      Object.fromEntries(
        (await rows(t.id)).filter((r) => r.sk.startsWith('ITM#')).map((r) => [texts([JSON.parse(r.data)])[0], r.user ?? null]),
      );
    expect(await byText()).toEqual({ first: owner, answer: owner, unproven: null });
    // ...until it has read the thread as its owner's.
    await other.loadThreadWithRecentItems(t.id, owner, 5);
    await other.addThreadItem(t.id, assistant(s, t.id, 'proven'));
    expect((await byText()).proven).toBe(owner);
    // A reader that could not prove it (another user's read is refused) learns nothing.
    const third = new DynamoThreadStore({ tableName: TABLE, client: dynamoClient() });
    await expect(third.loadThread(t.id, uniq('someone-else'))).rejects.toBeInstanceOf(NotFoundError);
    await third.addThreadItem(t.id, user(s, t.id, 'still unproven'));
    expect((await byText())['still unproven']).toBeNull();
    // Deleted, the thread takes no item, the owner known or not.
    await s.deleteThread(t.id, owner);
    await expect(s.addThreadItem(t.id, user(s, t.id, 'late'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(third.addThreadItem(t.id, user(s, t.id, 'late'))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('a deleted thread leaves one tombstone row: no customer data, not on the user index, gone after a day', async () => {
    // Now: a tombstone dated in the past would already be expired, and DynamoDB Local deletes expired rows.
    const now = Date.now();
    const s = new DynamoThreadStore({ tableName: TABLE, client: dynamoClient(), retentionDays: 365, now: () => now });
    const owner = uniq('tomb');
    const { t } = await conversation(s, owner);
    await s.deleteThread(t.id, owner);
    const left = await rows(t.id);
    expect(left).toEqual([{ pk: `THREAD#${t.id}`, sk: 'META', user: owner, deleted_at: now, ttl: Math.floor(now / 1000) + 86400 }]);
    // A delete cut short after the tombstone (an item left) is finished by the next one.
    await doc.send(new PutCommand({ TableName: TABLE, Item: { pk: `THREAD#${t.id}`, sk: 'ITM#left', data: '{}' } }));
    await expect(s.deleteThread(t.id, owner)).rejects.toBeInstanceOf(NotFoundError);
    expect((await rows(t.id)).map((r) => r.sk)).toEqual(['META']);
  });

  it('migrates rows written with the old keys: idempotent, and the thread reads in order afterwards', async () => {
    const s = new DynamoThreadStore({ tableName: TABLE, client: dynamoClient() });
    const owner = uniq('legacy');
    const threadId = s.generateThreadId();
    const meta = { ...thread(s, '2026-06-01T12:00:00.000Z', threadId), title: 'Legacy' };
    // As the old code wrote them: gsi1sk = the id, items at ITEM#<id> (sorting msg_ < shcx_ < tc_).
    await doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { pk: `THREAD#${threadId}`, sk: 'META', gsi1pk: `USER#${owner}`, gsi1sk: threadId, user: owner, data: JSON.stringify(meta) },
      }),
    );
    const at = Date.parse('2026-06-01T12:00:00Z');
    const legacy: ThreadItem[] = [
      { ...user(s, threadId, 'first'), id: importedItemId('msg', at / 1000, 0, 'h1') },
      { ...hidden(s, threadId), id: importedItemId('shcx', at / 1000 + 1, 1, 'h2') },
      { ...toolCall(s, threadId), id: importedItemId('tc', at / 1000 + 2, 2, 'h3') },
      { ...user(s, threadId, 'last'), id: importedItemId('msg', at / 1000 + 3, 3, 'h4') },
    ];
    for (const i of legacy)
      await doc.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk: `THREAD#${threadId}`, sk: `ITEM#${i.id}`, data: JSON.stringify(i), feedback: 'positive' },
        }),
      );
    expect(texts(await s.allItems(threadId))).toEqual([]); // invisible until migrated
    expect(texts((await s.threadWithItems(threadId))!.items)).toEqual([]);
    const report = await migrateThreadKeys(doc, TABLE);
    expect(report.itemsRewritten).toBeGreaterThanOrEqual(4);
    expect(texts(await s.allItems(threadId))).toEqual(['first', 'sdk_hidden_context', 'client_tool_call', 'last']);
    expect(texts((await s.threadWithItems(threadId))!.items)).toEqual(['first', 'sdk_hidden_context', 'client_tool_call', 'last']);
    const after = await rows(threadId);
    expect(after.filter((r) => r.sk.startsWith('ITEM#'))).toEqual([]);
    expect(after.find((r) => r.sk.startsWith('ITM#') && JSON.parse(r.data).id === legacy[0]!.id)?.feedback).toBe('positive');
    expect((await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: `THREAD#${threadId}`, sk: 'META' } }))).Item!.gsi1sk).toBe(
      `2026-06-01T12:00:00.000Z#${threadId}`,
    );
    expect((await s.loadThreads(owner)).data.map((t) => t.id)).toEqual([threadId]);
    const again = await migrateThreadKeys(doc, TABLE);
    expect(again).toMatchObject({ itemsRewritten: 0, threadsReindexed: 0 });
    expect(texts(await s.allItems(threadId))).toEqual(['first', 'sdk_hidden_context', 'client_tool_call', 'last']);
  });
});
