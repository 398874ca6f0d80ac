import { dynamoClient } from '@lead-intake/testkit';
import { NotFoundError, ThreadStore, timeSortableId, type ThreadItem } from './index';

/** The Store semantics of the reference (py tests/test_store.py) on DynamoDB Local. */
const store = () => new ThreadStore({ tableName: 'chatkit-lead-intake-chat-local-threads', client: dynamoClient() });

async function threadWithItems(s: ThreadStore, user: string, n: number) {
  const t = { id: s.generateThreadId(), created_at: new Date().toISOString(), status: { type: 'active' as const }, title: null, metadata: { secret: 1 } };
  await s.saveThread(t, user);
  const items: ThreadItem[] = [];
  for (let i = 0; i < n; i++) {
    const item = { id: s.generateItemId('message'), thread_id: t.id, created_at: new Date().toISOString(), type: i === 2 ? 'sdk_hidden_context' : 'user_message', content: [{ type: 'input_text', text: `m${i}` }] };
    await s.addThreadItem(t.id, item);
    items.push(item);
  }
  return { t, items };
}

it('ids are unique and sort by creation time', () => {
  const ids = Array.from({ length: 500 }, () => timeSortableId('cthr'));
  expect(new Set(ids).size).toBe(500);
  expect([...ids].sort()).toEqual(ids);
  expect(timeSortableId('cthr', 2_000_000_000_000) > timeSortableId('cthr', 1_999_999_999_999)).toBe(true);
});

it('paginates items per the reference: created_at order, exclusive after, limit+1, after only with has_more', async () => {
  const s = store();
  const { t, items } = await threadWithItems(s, 'u', 7);
  const ids = items.map((i) => i.id);
  const p1 = await s.loadThreadItems(t.id, { order: 'asc', limit: 3 });
  expect(p1).toEqual({ data: items.slice(0, 3), has_more: true, after: ids[2] });
  const p2 = await s.loadThreadItems(t.id, { order: 'asc', limit: 3, after: p1.after });
  expect(p2.data.map((i) => i.id)).toEqual(ids.slice(3, 6));
  const p3 = await s.loadThreadItems(t.id, { order: 'asc', limit: 3, after: p2.after });
  expect(p3).toEqual({ data: [items[6]], has_more: false });
  const exact = await s.loadThreadItems(t.id, { order: 'asc', limit: 7 });
  expect(exact.has_more).toBe(false);
  expect(exact.after).toBeUndefined();
  const d1 = await s.loadThreadItems(t.id, { order: 'desc', limit: 4 });
  expect(d1.data.map((i) => i.id)).toEqual([...ids].reverse().slice(0, 4));
  const d2 = await s.loadThreadItems(t.id, { order: 'desc', limit: 4, after: d1.after });
  expect(d2).toEqual({ data: [...items].reverse().slice(4), has_more: false });
  expect((await s.loadThreadItems(t.id)).data[0]!.id).toBe(ids[6]); // default desc, 20
  expect((await s.allItems(t.id)).map((i) => i.id)).toEqual(ids); // hidden items are stored (filtered when sent)
});

it('saves metadata only, upserts and deletes items, and scopes threads to their user', async () => {
  const s = store();
  const { t, items } = await threadWithItems(s, 'owner', 2);
  await s.saveThread({ ...t, title: 'Renamed', items: { data: [1, 2, 3] } } as any, 'owner');
  const loaded = await s.loadThread(t.id, 'owner');
  expect(loaded).toEqual({ ...t, title: 'Renamed', allowed_image_domains: null });
  expect((loaded as any).items).toBeUndefined();
  await expect(s.loadThread(t.id, 'intruder')).rejects.toBeInstanceOf(NotFoundError);
  await expect(s.saveThread(t, 'intruder')).rejects.toBeInstanceOf(NotFoundError); // no takeover
  await s.saveItem(t.id, { ...items[0]!, content: [{ type: 'input_text', text: 'edited' }] });
  expect((await s.loadItem(t.id, items[0]!.id)).content[0].text).toBe('edited');
  await s.deleteThreadItem(t.id, items[1]!.id);
  await expect(s.loadItem(t.id, items[1]!.id)).rejects.toBeInstanceOf(NotFoundError);
  expect(await s.threadOwner(t.id)).toBe('owner');
  await s.deleteThread(t.id, 'owner');
  expect(await s.threadOwner(t.id)).toBeNull();
  expect(await s.allItems(t.id)).toEqual([]);
});

it('lists a user’s threads by creation, both ways, with the same cursor rules', async () => {
  const s = store();
  const user = `lister-${Date.now()}`;
  const ts = [];
  for (let i = 0; i < 5; i++) ts.push((await threadWithItems(s, user, 0)).t);
  await threadWithItems(s, 'someone-else', 0);
  const d1 = await s.loadThreads(user, { limit: 2 });
  expect(d1).toEqual({ data: [ts[4], ts[3]].map((t) => ({ ...t, allowed_image_domains: null })), has_more: true, after: ts[3]!.id });
  const d2 = await s.loadThreads(user, { limit: 2, after: d1.after });
  const d3 = await s.loadThreads(user, { limit: 2, after: d2.after });
  expect([...d2.data, ...d3.data].map((t) => t.id)).toEqual([ts[2]!.id, ts[1]!.id, ts[0]!.id]);
  expect(d3.has_more).toBe(false);
  expect((await s.loadThreads(user, { order: 'asc', limit: 100 })).data.map((t) => t.id)).toEqual(ts.map((t) => t.id));
});

it('reads a thread and its most recent items in one Query, oldest first, for its owner only', async () => {
  const s = store();
  const { t, items } = await threadWithItems(s, 'recent-owner', 6);
  const all = await s.loadThreadWithRecentItems(t.id, 'recent-owner', 30);
  expect(all.thread).toEqual(await s.loadThread(t.id, 'recent-owner'));
  expect(all.items).toEqual(items); // hidden items included: the model sees them
  expect((await s.loadThreadWithRecentItems(t.id, 'recent-owner', 4)).items).toEqual(items.slice(2));
  await expect(s.loadThreadWithRecentItems(t.id, 'someone-else', 30)).rejects.toBeInstanceOf(NotFoundError);
  await expect(s.loadThreadWithRecentItems('cthr_missing', 'recent-owner', 30)).rejects.toBeInstanceOf(NotFoundError);
  // Items without their thread (a delete half done elsewhere) are not a thread either.
  const orphan = s.generateThreadId();
  await s.addThreadItem(orphan, { ...items[0]!, thread_id: orphan });
  await expect(s.loadThreadWithRecentItems(orphan, 'recent-owner', 30)).rejects.toBeInstanceOf(NotFoundError);
});
