import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { openaiClientCache } from '@lead-intake/openai-client';
import { loadShopProfile } from '@lead-intake/shop-hours';
import { documentClient, dynamoClient, emulator, emulatorBaseURL } from '@lead-intake/testkit';
import { ThreadStore, type ThreadMetadata } from '@lead-intake/thread-store';
import { ChatKitServer, KnownThreads, type ChatEvent } from './index';

/**
 * The turn's write-while-reading path, in process against DynamoDB Local and the emulator. The
 * full protocol is tested over HTTP in services/chat; this covers what only one instance's memory
 * of thread owners can get wrong: a thread deleted or closed elsewhere, another user, a failed write.
 */
const TABLE = 'chatkit-lead-intake-chat-local-threads';
const admin = emulator();
const text = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });
const newStore = () => new ThreadStore({ tableName: TABLE, client: dynamoClient() });

let savedBaseUrl: string | undefined;
beforeAll(() => {
  savedBaseUrl = process.env.OPENAI_BASE_URL;
  process.env.OPENAI_BASE_URL = emulatorBaseURL(); // the SDK reads it
});
afterAll(() => {
  if (savedBaseUrl === undefined) delete process.env.OPENAI_BASE_URL;
  else process.env.OPENAI_BASE_URL = savedBaseUrl;
});
beforeEach(() => admin.reset());

function server(store: ThreadStore, knownThreads = new KnownThreads()) {
  return new ChatKitServer({ store, openai: openaiClientCache()('sk-test', { timeoutMs: 5000, maxRetries: 0 }), model: 'gpt-test', profile: loadShopProfile(), knownThreads });
}

async function run(s: ChatKitServer, user: string, body: unknown): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  await s.process(body, user, { event: (e) => void events.push(e), json: () => undefined, signal: new AbortController().signal });
  return events;
}

async function partition(threadId: string) {
  const out = await documentClient().send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `THREAD#${threadId}` }, ConsistentRead: true }));
  return (out.Items ?? []).map((i) => ({ sk: i.sk as string, ...(i.data ? JSON.parse(i.data) : {}) }));
}

async function created(s: ChatKitServer, user: string, message = 'Hi') {
  const events = await run(s, user, { type: 'threads.create', params: { input: text(message) } });
  return (events[0] as unknown as { thread: ThreadMetadata }).thread.id;
}

describe('a turn on a thread this instance knows', () => {
  it('writes the message while the thread is read: same events, same history, one item each', async () => {
    const store = newStore();
    const s = server(store);
    await admin.queue({ text: 'Hello! What car is it?' });
    const id = await created(s, 'known-1', 'My brakes squeal');
    await admin.queue({ text: 'Thanks!' });
    const turn = await run(s, 'known-1', { type: 'threads.add_user_message', params: { thread_id: id, input: text('A 2012 Civic') } });
    expect(turn.map((e) => e.type)).toEqual(['thread.item.done', 'stream_options', 'thread.item.added', 'thread.item.updated', 'thread.item.updated', 'thread.item.updated', 'thread.item.done']);
    const [, second] = (await admin.requests()).filter((q) => q.path === '/v1/responses');
    expect((second!.body as any).input).toEqual([
      { role: 'user', content: 'My brakes squeal' },
      { role: 'assistant', content: 'Hello! What car is it?' },
      { role: 'user', content: 'A 2012 Civic' },
    ]);
    const stored = await partition(id);
    expect(stored.filter((i) => i.sk !== 'META').map((i) => [i.type, i.content[0].text])).toEqual([
      ['user_message', 'My brakes squeal'],
      ['assistant_message', 'Hello! What car is it?'],
      ['user_message', 'A 2012 Civic'],
      ['assistant_message', 'Thanks!'],
    ]);
  });

  it('a thread deleted by another instance: not found, and the early write is undone', async () => {
    const store = newStore();
    const s = server(store);
    const id = await created(s, 'known-2');
    await store.deleteThread(id, 'known-2'); // as another instance would
    const events = await run(s, 'known-2', { type: 'threads.add_user_message', params: { thread_id: id, input: text('still there?') } });
    expect(events).toEqual([{ type: 'error', code: 'custom', message: expect.stringContaining('not found'), allow_retry: false }]);
    expect(await partition(id)).toEqual([]);
    expect((await admin.requests()).filter((q) => q.path === '/v1/responses')).toHaveLength(1); // the first turn only
  });

  it('a thread closed since: 409, and nothing is left of the message', async () => {
    const store = newStore();
    const s = server(store);
    const id = await created(s, 'known-3');
    const before = await partition(id);
    const meta = await store.loadThread(id, 'known-3');
    await store.saveThread({ ...meta, status: { type: 'closed' } }, 'known-3');
    const events = await run(s, 'known-3', { type: 'threads.add_user_message', params: { thread_id: id, input: text('hello?') } });
    expect(events).toEqual([{ type: 'error', code: 'custom', message: 'The thread is closed.', allow_retry: false }]);
    expect((await partition(id)).filter((i) => i.sk !== 'META')).toEqual(before.filter((i) => i.sk !== 'META'));
  });

  it('knowing a thread never lets another user write to it', async () => {
    const store = newStore();
    const known = new KnownThreads();
    const s = server(store, known);
    const id = await created(s, 'alice-known');
    expect(known.isOwner(id, 'alice-known')).toBe(true);
    const before = await partition(id);
    const events = await run(s, 'mallory-known', { type: 'threads.add_user_message', params: { thread_id: id, input: text('hijack') } });
    expect(events).toEqual([{ type: 'error', code: 'custom', message: expect.stringContaining('not found'), allow_retry: false }]);
    expect(await partition(id)).toEqual(before);
  });

  it('an instance that has not seen the thread reads first, then writes', async () => {
    const store = newStore();
    const id = await created(server(store), 'hopper');
    await admin.queue({ text: 'On another instance.' });
    const other = new KnownThreads();
    const events = await run(server(store, other), 'hopper', { type: 'threads.add_user_message', params: { thread_id: id, input: text('hello again') } });
    expect(events.at(-1)).toMatchObject({ type: 'thread.item.done', item: { type: 'assistant_message' } });
    expect(other.isOwner(id, 'hopper')).toBe(true); // and knows it from now on
    expect((await partition(id)).filter((i) => i.type === 'user_message')).toHaveLength(2);
  });
});

describe('a new thread', () => {
  it('whose thread write fails leaves no message behind', async () => {
    class FailingThreadWrite extends ThreadStore {
      lastThreadId?: string;
      override async saveThread(thread: ThreadMetadata): Promise<void> {
        this.lastThreadId = thread.id;
        throw Object.assign(new Error('injected: DynamoDB unavailable'), { name: 'ServiceUnavailable' });
      }
    }
    const store = new FailingThreadWrite({ tableName: TABLE, client: dynamoClient() });
    const events = await run(server(store), 'failing', { type: 'threads.create', params: { input: text('Hi') } });
    expect(events).toEqual([{ type: 'error', code: 'stream.error', allow_retry: true }]);
    expect(await partition(store.lastThreadId!)).toEqual([]);
    expect((await admin.requests()).filter((q) => q.path === '/v1/responses')).toHaveLength(0);
  });
});

describe('KnownThreads', () => {
  it('holds at most `max` threads, forgetting the least recently used', () => {
    const k = new KnownThreads(2);
    k.remember('t1', 'u');
    k.remember('t2', 'u');
    k.remember('t1', 'u'); // used again: now the newest
    k.remember('t3', 'u');
    expect([k.isOwner('t1', 'u'), k.isOwner('t2', 'u'), k.isOwner('t3', 'u')]).toEqual([true, false, true]);
    expect(k.isOwner('t1', 'v')).toBe(false);
    k.forget('t1');
    expect(k.isOwner('t1', 'u')).toBe(false);
  });
});
