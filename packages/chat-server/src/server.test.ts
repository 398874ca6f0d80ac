import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ThreadMetadata, ThreadStreamEvent } from '@lead-intake/chatkit-protocol';
import { openaiClientCache } from '@lead-intake/openai-client';
import { loadShopProfile } from '@lead-intake/shop';
import { documentClient, dynamoClient, emulator, emulatorBaseURL } from '@lead-intake/testkit';
import { DynamoThreadStore, MemoryThreadStore, type ChatStore } from '@lead-intake/thread-store';
import { ChatKitServer, KnownThreads, ResponsesResponder, type GateVerdict, type RequestContext } from './index';

/**
 * The server in process, against DynamoDB Local (or the memory store) and the emulator through the
 * real `openai` SDK. The protocol over HTTP is tested in services/chat and by the conformance
 * suite (test/conformance); this covers what HTTP cannot reach: one instance's memory of thread
 * owners, injected store failures, the order of a conversation with Stops, the turn gate.
 */
const TABLE = 'chatkit-lead-intake-chat-local-threads';
const admin = emulator();
const text = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });
const dynamoStore = () => new DynamoThreadStore({ tableName: TABLE, client: dynamoClient() });

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

function server(
  store: ChatStore,
  opts: {
    knownThreads?: KnownThreads;
    gate?: (user: string) => GateVerdict;
    unavailableAnswer?: string;
    onError?: (stage: string, e: unknown) => void;
    onClientError?: (code: string) => void;
  } = {},
) {
  const openai = openaiClientCache()('sk-test', { timeoutMs: 5000, maxRetries: 0 });
  return new ChatKitServer({
    store,
    responder: new ResponsesResponder({
      openai,
      model: 'gpt-test',
      profile: loadShopProfile(),
      newItemId: () => store.generateItemId('message'),
    }),
    knownThreads: opts.knownThreads ?? new KnownThreads(),
    unavailableAnswer: opts.unavailableAnswer,
    onError: opts.onError,
    onClientError: opts.onClientError,
    ...(opts.gate ? { gate: { admit: async (u: string) => opts.gate!(u), refund: async () => undefined } } : {}),
  });
}

type Outcome = { status: number; body?: any; events: ThreadStreamEvent[] };
async function run(s: ChatKitServer, user: string, body: unknown, ctx: Partial<RequestContext> = {}): Promise<Outcome> {
  const answer = await s.process(body, { user, signal: new AbortController().signal, ...ctx });
  if (answer.kind === 'json') return { status: answer.status, body: answer.body, events: [] };
  const events: ThreadStreamEvent[] = [];
  for await (const e of answer.events) events.push(e);
  return { status: 200, events };
}

async function partition(threadId: string) {
  const out = await documentClient().send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `THREAD#${threadId}` },
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).map((i) => ({ sk: i.sk as string, ...(i.data ? JSON.parse(i.data) : {}) }));
}

async function created(s: ChatKitServer, user: string, message = 'Hi', ctx: Partial<RequestContext> = {}) {
  const { events } = await run(s, user, { type: 'threads.create', params: { input: text(message) } }, ctx);
  return (events[0] as { thread: ThreadMetadata }).thread.id;
}
const responses = async () => (await admin.requests()).filter((q) => q.path === '/v1/responses');

describe('a turn on a thread this instance knows', () => {
  it('writes the message while the thread is read: same events, same history, one item each', async () => {
    const s = server(dynamoStore());
    await admin.queue({ text: 'Hello! What car is it?' });
    const id = await created(s, 'known-1', 'My brakes squeal');
    await admin.queue({ text: 'Thanks!' });
    const turn = await run(s, 'known-1', { type: 'threads.add_user_message', params: { thread_id: id, input: text('A 2012 Civic') } });
    expect(turn.events.map((e) => e.type)).toEqual([
      'thread.item.done',
      'stream_options',
      'thread.item.added',
      'thread.item.updated',
      'thread.item.updated',
      'thread.item.updated',
      'thread.item.done',
    ]);
    const [, second] = await responses();
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

  it('a new thread is titled as it is written: no write of its own, announced after the answer, kept by a Stop', async () => {
    // The thread table's requests, as the SDK sends them (a middleware of the real client's own stack).
    const sent: string[] = [];
    const client = dynamoClient();
    client.middlewareStack.add((next, context) => (args) => (sent.push(context.commandName!), next(args)), { step: 'initialize' });
    const s = server(new DynamoThreadStore({ tableName: TABLE, client }));
    await admin.queue({ text: 'Hello! What car is it?' });
    const answered = await run(s, 'titled-1', { type: 'threads.create', params: { input: text('My brakes squeal') } });
    // Announced as the official server does: created untitled, titled once answered.
    expect(answered.events.at(0)).toMatchObject({ type: 'thread.created' });
    expect((answered.events.at(0) as { thread: ThreadMetadata }).thread.title).toBeUndefined();
    expect(answered.events.at(-1)).toMatchObject({ type: 'thread.updated', thread: { title: 'My brakes squeal' } });
    // The thread with its title and first message, then the answer: nothing else (the title had a write of its own).
    expect(sent).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    // A first turn stopped mid-answer keeps its title (it was never announced: the stream ended).
    await admin.queue({ text: Array.from({ length: 40 }, (_, n) => `w${n}`).join(' '), chunk_delay_ms: 15 });
    const stop = new AbortController();
    const answer = await s.process(
      { type: 'threads.create', params: { input: text('Oil change?') } },
      { user: 'titled-1', signal: stop.signal },
    );
    if (answer.kind !== 'stream') throw new Error('expected a stream');
    const events: ThreadStreamEvent[] = [];
    for await (const e of answer.events) {
      events.push(e);
      if (e.type === 'thread.item.updated' && e.update.type === 'assistant_message.content_part.text_delta') stop.abort();
    }
    expect(events.some((e) => e.type === 'thread.updated')).toBe(false);
    const stopped = (events[0] as { thread: ThreadMetadata }).thread.id;
    const listed = (await run(s, 'titled-1', { type: 'threads.list', params: {} })).body.data as ThreadMetadata[];
    expect(listed.map((t) => [t.id === stopped ? 'stopped' : 'answered', t.title])).toEqual(
      expect.arrayContaining([
        ['stopped', 'Oil change?'],
        ['answered', 'My brakes squeal'],
      ]),
    );
  });

  it('a thread deleted by another instance: 404 before any stream, and the early write is undone', async () => {
    const store = dynamoStore();
    const s = server(store);
    const id = await created(s, 'known-2');
    await store.deleteThread(id, 'known-2'); // as another instance would
    const out = await run(s, 'known-2', { type: 'threads.add_user_message', params: { thread_id: id, input: text('still there?') } });
    expect(out).toMatchObject({ status: 404, body: { code: 'not_found' }, events: [] });
    expect(await partition(id)).toEqual([{ sk: 'META' }]); // the tombstone: the early write was refused or undone
    expect(await responses()).toHaveLength(1); // the first turn only
  });

  it('a thread closed since: 409, and nothing is left of the message', async () => {
    const store = dynamoStore();
    const s = server(store);
    const id = await created(s, 'known-3');
    const before = await partition(id);
    const meta = await store.loadThread(id, 'known-3');
    await store.saveThread({ ...meta, status: { type: 'closed' } }, 'known-3');
    const out = await run(s, 'known-3', { type: 'threads.add_user_message', params: { thread_id: id, input: text('hello?') } });
    expect(out).toMatchObject({ status: 409, body: { error: 'The thread is closed.' } });
    expect((await partition(id)).filter((i) => i.sk !== 'META')).toEqual(before.filter((i) => i.sk !== 'META'));
  });

  it('knowing a thread never lets another user write to it', async () => {
    const store = dynamoStore();
    const known = new KnownThreads();
    const s = server(store, { knownThreads: known });
    const id = await created(s, 'alice-known');
    expect(known.isOwner(id, 'alice-known')).toBe(true);
    const before = await partition(id);
    const out = await run(s, 'mallory-known', { type: 'threads.add_user_message', params: { thread_id: id, input: text('hijack') } });
    expect(out.status).toBe(404);
    expect(await partition(id)).toEqual(before);
  });

  it('an instance that has not seen the thread reads first, then writes', async () => {
    const store = dynamoStore();
    const id = await created(server(store), 'hopper');
    await admin.queue({ text: 'On another instance.' });
    const other = new KnownThreads();
    const out = await run(server(store, { knownThreads: other }), 'hopper', {
      type: 'threads.add_user_message',
      params: { thread_id: id, input: text('hello again') },
    });
    expect(out.events.at(-1)).toMatchObject({ type: 'thread.item.done', item: { type: 'assistant_message' } });
    expect(other.isOwner(id, 'hopper')).toBe(true); // and knows it from now on
    expect((await partition(id)).filter((i) => i.type === 'user_message')).toHaveLength(2);
  });
});

describe('a new thread', () => {
  it('whose thread write fails leaves no message behind, and the model is never asked', async () => {
    class FailingThreadWrite extends DynamoThreadStore {
      lastThreadId?: string;
      override async createThread(thread: ThreadMetadata): Promise<void> {
        this.lastThreadId = thread.id;
        throw Object.assign(new Error('injected: DynamoDB unavailable'), { name: 'ServiceUnavailable' });
      }
    }
    const store = new FailingThreadWrite({ tableName: TABLE, client: dynamoClient() });
    const out = await run(server(store), 'failing', { type: 'threads.create', params: { input: text('Hi') } });
    expect(out.events).toEqual([{ type: 'error', code: 'stream.error', allow_retry: true }]);
    expect(await partition(store.lastThreadId!)).toEqual([]);
    expect(await responses()).toHaveLength(0);
  });

  it('keeps the visit (page, locale) on the thread and tells the model; a later visit updates it', async () => {
    const store = new MemoryThreadStore();
    const s = server(store);
    const id = await created(s, 'visitor', 'Hola', { locale: 'es-MX', pageUrl: 'https://craigs.autos/frenos' });
    expect((await store.loadThread(id, 'visitor')).metadata).toEqual({ page_url: 'https://craigs.autos/frenos', locale: 'es-MX' });
    const [first] = await responses();
    expect((first!.body as any).instructions).toContain('Browser language: "es-MX"');
    expect((first!.body as any).instructions).toContain('Page: "https://craigs.autos/frenos"');
    await run(
      s,
      'visitor',
      { type: 'threads.add_user_message', params: { thread_id: id, input: text('otra') } },
      { locale: 'es-MX', pageUrl: 'https://craigs.autos/contacto' },
    );
    expect((await store.loadThread(id, 'visitor')).metadata.page_url).toBe('https://craigs.autos/contacto');
  });
});

describe('a conversation with Stops', () => {
  it('a Stop before the turn began (the first moments of a request) stops it: no answer is streamed, stored or paid for', async () => {
    const store = new MemoryThreadStore();
    const s = server(store);
    const user = 'stopper-early';
    await admin.queue({ text: 'Hello there.' });
    const id = await created(s, user, 'one');
    await admin.reset();
    await admin.queue({ text: Array.from({ length: 40 }, (_, n) => `w${n}`).join(' '), chunk_delay_ms: 15 });
    const stop = new AbortController();
    stop.abort(); // the client closed the stream before the server began the turn
    const answer = await s.process(
      { type: 'threads.add_user_message', params: { thread_id: id, input: text('two') } },
      { user, signal: stop.signal },
    );
    if (answer.kind !== 'stream') throw new Error('expected a stream');
    const events: ThreadStreamEvent[] = [];
    for await (const e of answer.events) events.push(e);
    expect(events.some((e) => e.type === 'thread.item.updated')).toBe(false);
    const items = await store.allItems(id);
    // The customer's message is kept (it was sent), with the note that the answer was stopped; no answer text.
    expect(items.filter((i: any) => i.type === 'assistant_message').map((i: any) => i.content[0].text)).toEqual(['Hello there.']);
    expect(items.at(-1)!.type).toBe('sdk_hidden_context');
  });

  it('keeps every item in the order it happened: the model, pages both ways and retry agree', async () => {
    const store = dynamoStore();
    const s = server(store);
    const user = 'stopper-order';
    await admin.queue({ text: 'Hello there.' });
    const id = await created(s, user, 'one');
    // Two Stops: each cancelled turn saves its partial answer and a hidden note (shcx_ ids).
    for (const said of ['two', 'three']) {
      await admin.queue({ text: Array.from({ length: 40 }, (_, n) => `w${n}`).join(' '), chunk_delay_ms: 15 });
      const stop = new AbortController();
      const answer = await s.process(
        { type: 'threads.add_user_message', params: { thread_id: id, input: text(said) } },
        { user, signal: stop.signal },
      );
      if (answer.kind !== 'stream') throw new Error('expected a stream');
      for await (const e of answer.events)
        if (
          e.type === 'thread.item.updated' &&
          e.update.type === 'assistant_message.content_part.text_delta' &&
          e.update.delta.startsWith('w3')
        )
          stop.abort();
    }
    await admin.queue({ text: 'After the stops.' });
    await run(s, user, { type: 'threads.add_user_message', params: { thread_id: id, input: text('four') } });
    const kinds = (items: any[]) =>
      items.map((i) =>
        i.type === 'sdk_hidden_context' ? 'note' : `${i.type === 'user_message' ? 'U' : 'A'}:${i.content[0].text.split(' ')[0]}`,
      );
    const everything = (await partition(id)).filter((i) => i.sk !== 'META');
    expect(kinds(everything)).toEqual(['U:one', 'A:Hello', 'U:two', 'A:w0', 'note', 'U:three', 'A:w0', 'note', 'U:four', 'A:After']);
    // The last turn's model input: the notes where they happened, not after the newest message.
    const last = (await responses()).at(-1)!.body as any;
    expect(last.input.map((m: any) => m.content.split(' ')[0])).toEqual([
      'one',
      'Hello',
      'two',
      'w0',
      '<HiddenContext>The',
      'three',
      'w0',
      '<HiddenContext>The',
      'four',
    ]);
    // Newest-first pages of 2 are full, never end early, never hand out a hidden id.
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = (await run(s, user, { type: 'items.list', params: { thread_id: id, limit: 2, order: 'desc', after } })).body;
      expect(page.data.length).toBe(page.has_more ? 2 : page.data.length);
      expect(page.data.length).toBeGreaterThan(0);
      seen.push(...kinds(page.data));
      if (!page.has_more) break;
      expect(page.after.startsWith('msg_')).toBe(true);
      after = page.after;
    }
    expect(seen).toEqual(['A:After', 'U:four', 'A:w0', 'U:three', 'A:w0', 'U:two', 'A:Hello', 'U:one']);
    // Retry after "two": everything newer goes; the note before it (none) and older items stay.
    const two = everything.find((i) => i.type === 'user_message' && i.content[0].text === 'two');
    await admin.queue({ text: 'Retried.' });
    const retry = await run(s, user, { type: 'threads.retry_after_item', params: { thread_id: id, item_id: two.id } });
    expect(retry.events.map((e) => e.type)).toEqual([
      'stream_options',
      'thread.item.added',
      'thread.item.updated',
      'thread.item.updated',
      'thread.item.updated',
      'thread.item.done',
    ]);
    expect(kinds((await partition(id)).filter((i) => i.sk !== 'META'))).toEqual(['U:one', 'A:Hello', 'U:two', 'A:Retried.']);
    expect(((await responses()).at(-1)!.body as any).input.map((m: any) => m.content)).toEqual(['one', 'Hello there.', 'two']);
  }, 30_000);

  it('retry keeps hidden notes older than the retried message', async () => {
    const store = new MemoryThreadStore();
    const s = server(store);
    const user = 'retry-notes';
    const id = await created(s, user, 'first');
    await store.addThreadItem(id, {
      id: store.generateItemId('sdk_hidden_context'),
      thread_id: id,
      created_at: new Date().toISOString(),
      type: 'sdk_hidden_context',
      content: 'older note',
    });
    await run(s, user, { type: 'threads.add_user_message', params: { thread_id: id, input: text('second') } });
    const second = (await store.allItems(id)).find((i) => i.type === 'user_message' && i.content[0]!.text === 'second')!;
    await run(s, user, { type: 'threads.retry_after_item', params: { thread_id: id, item_id: second.id } });
    expect((await store.allItems(id)).map((i) => i.type)).toEqual([
      'user_message',
      'assistant_message',
      'sdk_hidden_context',
      'user_message',
      'assistant_message',
    ]);
  });
});

describe('answers before the stream', () => {
  it('invalid params, unknown threads and items are statuses; the model is never asked', async () => {
    const s = server(new MemoryThreadStore());
    const id = await created(s, 'refusals');
    await admin.reset();
    const cases: Array<[unknown, number]> = [
      [{ type: 'threads.add_user_message', params: {} }, 400],
      [{ type: 'threads.add_user_message', params: { thread_id: id, input: text('   ') } }, 400],
      [{ type: 'threads.add_user_message', params: { thread_id: 'cthr_nope', input: text('hi') } }, 404],
      [{ type: 'threads.retry_after_item', params: { thread_id: id, item_id: 'msg_nope' } }, 404],
      [{ type: 'threads.add_client_tool_output', params: { thread_id: id, result: {} } }, 400],
      [{ type: 'threads.create', params: { input: { content: [{ type: 'input_text', text: 'x' }] } } }, 400],
      [{ type: 'no.such.type', params: {} }, 400],
    ];
    for (const [body, status] of cases) expect([body, (await run(s, 'refusals', body)).status]).toEqual([body, status]);
    expect(await responses()).toHaveLength(0);
  });
});

describe('the turn gate', () => {
  it('a refused turn ends with an error event with the reason; nothing stays written and the model is not asked', async () => {
    const store = new MemoryThreadStore();
    let open = true;
    const s = server(store, {
      gate: () => (open ? { ok: true } : { ok: false, reason: 'user_rate', message: 'Too many messages; wait a minute.' }),
    });
    const id = await created(s, 'gated');
    await admin.reset();
    open = false;
    const before = await store.allItems(id);
    const refused = { type: 'error', code: 'custom', message: 'Too many messages; wait a minute.', allow_retry: true };
    // The gate decides beside the write: the message may be announced first, then it is removed.
    const added = await run(s, 'gated', { type: 'threads.add_user_message', params: { thread_id: id, input: text('again') } });
    expect(added.events).toEqual([
      { type: 'thread.item.done', item: expect.objectContaining({ type: 'user_message' }) },
      { type: 'thread.item.removed', item_id: (added.events[0] as any).item.id },
      refused,
    ]);
    expect((await run(s, 'gated', { type: 'threads.create', params: { input: text('new') } })).events).toEqual([refused]);
    expect((await run(s, 'gated', { type: 'threads.retry_after_item', params: { thread_id: id, item_id: before[0]!.id } })).events).toEqual(
      [refused],
    );
    expect(await store.allItems(id)).toEqual(before);
    expect((await store.loadThreads('gated')).data).toHaveLength(1);
    expect(await responses()).toHaveLength(0);
  });

  it('a turn refused for the model’s sake keeps the customer’s message and answers with the fixed text; no model call', async () => {
    const store = new MemoryThreadStore();
    const fixed = 'Thanks, we got your message. The shop will get back to you.';
    let open = true;
    const s = server(store, {
      gate: () => (open ? { ok: true } : { ok: false, reason: 'daily_ceiling', message: fixed, keep: true }),
    });
    const id = await created(s, 'kept');
    await admin.reset();
    open = false;
    // On an existing thread: the message stays and the fixed answer follows (stored as any answer).
    const added = await run(s, 'kept', {
      type: 'threads.add_user_message',
      params: { thread_id: id, input: text('My car will not start, stranded, call me at 415-555-0152') },
    });
    expect(added.events.map((e) => e.type)).toEqual(['thread.item.done', 'thread.item.added', 'thread.item.done']);
    expect((added.events[2] as any).item).toMatchObject({ type: 'assistant_message', content: [{ type: 'output_text', text: fixed }] });
    const items = await store.allItems(id);
    expect(items.slice(-2).map((i: any) => [i.type, i.content[0].text])).toEqual([
      ['user_message', 'My car will not start, stranded, call me at 415-555-0152'],
      ['assistant_message', fixed],
    ]);
    // A new thread: created, its message kept, the same answer.
    const fresh = await run(s, 'kept', { type: 'threads.create', params: { input: text('Brakes, call 415-555-0153') } });
    expect(fresh.events.map((e) => e.type)).toEqual([
      'thread.created',
      'thread.item.done',
      'thread.item.added',
      'thread.item.done',
      'thread.updated',
    ]);
    const freshId = (fresh.events[0] as any).thread.id;
    expect((await store.allItems(freshId)).map((i: any) => i.type)).toEqual(['user_message', 'assistant_message']);
    expect(await responses()).toHaveLength(0);
  });

  it('an action’s acknowledgement passes the gate as a message does: refused, the request stands, the fixed thanks answer', async () => {
    const store = new MemoryThreadStore();
    let open = true;
    const openai = openaiClientCache()('sk-test', { timeoutMs: 5000, maxRetries: 0 });
    const profile = loadShopProfile();
    const s = new ChatKitServer({
      store,
      profile,
      responder: new ResponsesResponder({
        openai,
        model: 'gpt-test',
        profile,
        newItemId: () => store.generateItemId('message'),
        tools: true,
      }),
      gate: {
        admit: async () => (open ? { ok: true } : { ok: false, reason: 'user_rate', message: 'Too many messages; wait a minute.' }),
        refund: async () => undefined,
      },
    });
    await admin.queueFunctionCall('show_callback_form');
    const first = await run(s, 'acted', { type: 'threads.create', params: { input: text('Call me please') } });
    const threadId = (first.events[0] as any).thread.id;
    const form = first.events.find((e: any) => e.type === 'thread.item.done' && e.item.type === 'widget') as any;
    await admin.reset();
    open = false;
    const action = { type: 'callback.submit', payload: { name: 'Pat', phone: '415-555-0154' } };
    const r = await run(s, 'acted', { type: 'threads.custom_action', params: { thread_id: threadId, item_id: form.item.id, action } });
    expect(r.events.map((e) => e.type)).toEqual(['stream_options', 'thread.item.replaced', 'thread.item.added', 'thread.item.done']);
    expect((r.events[3] as any).item.content[0].text).toBe("Thanks, Pat! We'll call you at (415) 555-0154 soon.");
    const records = (await store.allItems(threadId)).filter((i) => i.type === 'hidden_context_item');
    expect(records.map((i: any) => i.content.phone)).toEqual(['+14155550154']);
    expect(await responses()).toHaveLength(0); // no model call
  });

  it('a turn on a thread that is not found never reaches the gate; a new thread whose write fails gives its admission back', async () => {
    const calls: string[] = [];
    const gate = {
      admit: async (u: string) => (calls.push(`admit ${u}`), { ok: true as const }),
      refund: async (u: string) => void calls.push(`refund ${u}`),
    };
    const s = new ChatKitServer({ store: new MemoryThreadStore(), responder: { start: () => (async function* () {})() }, gate });
    expect((await run(s, 'lost', { type: 'threads.add_user_message', params: { thread_id: 'cthr_nope', input: text('hi') } })).status).toBe(
      404,
    );
    expect(calls).toEqual([]);
    class Failing extends MemoryThreadStore {
      override async createThread(): Promise<void> {
        throw Object.assign(new Error('injected'), { name: 'ServiceUnavailable' });
      }
    }
    const f = new ChatKitServer({ store: new Failing(), responder: { start: () => (async function* () {})() }, gate });
    expect((await run(f, 'unlucky', { type: 'threads.create', params: { input: text('hi') } })).events).toEqual([
      { type: 'error', code: 'stream.error', allow_retry: true },
    ]);
    expect(calls).toEqual(['admit unlucky', 'refund unlucky']);
  });
});

describe('deletion wins', () => {
  it('a thread deleted while its answer streams stays deleted: the answer, the title and the visit are not written', async () => {
    const store = dynamoStore();
    const errors: unknown[] = [];
    const clientErrors: string[] = [];
    const s = server(store, { onError: (stage) => errors.push(stage), onClientError: (code) => clientErrors.push(code) });
    await admin.queue({ text: Array.from({ length: 30 }, (_, n) => `word${n}`).join(' '), chunk_delay_ms: 20 });
    const answer = await s.process(
      { type: 'threads.create', params: { input: text('My car will not start, call 415-555-0152') } },
      { user: 'deleter', signal: new AbortController().signal, pageUrl: 'https://craigs.autos/' },
    );
    if (answer.kind !== 'stream') throw new Error('expected a stream');
    const events: ThreadStreamEvent[] = [];
    let id = '';
    for await (const e of answer.events) {
      events.push(e);
      if (e.type === 'thread.created') id = e.thread.id;
      // Deleted by the customer (another tab) once the answer has begun.
      if (e.type === 'thread.item.updated' && events.filter((x) => x.type === 'thread.item.updated').length === 3)
        expect(
          await s.process({ type: 'threads.delete', params: { thread_id: id } }, { user: 'deleter', signal: new AbortController().signal }),
        ).toMatchObject({ kind: 'json', status: 200 });
    }
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'custom', allow_retry: false });
    expect(events.some((e) => e.type === 'thread.updated')).toBe(false);
    expect(await partition(id)).toEqual([{ sk: 'META' }]); // the tombstone alone
    expect((await run(s, 'deleter', { type: 'threads.list', params: {} })).body.data).toEqual([]);
    expect((await run(s, 'deleter', { type: 'threads.get_by_id', params: { thread_id: id } })).status).toBe(404);
    // The customer's doing: a client error, never one the server-error alarms count.
    expect(errors).toEqual([]);
    expect(clientErrors).toEqual(['not_found']);
  });
});

describe('the model fails before it answers', () => {
  it('the message is kept and answered with the fixed text; the failure is still reported', async () => {
    const store = dynamoStore();
    let reported = 0;
    const s = server(store, { unavailableAnswer: 'We got your message; the shop will call you back.', onError: () => reported++ });
    await admin.fault({ path: '/v1/responses', status: 500, times: 1 });
    const out = await run(s, 'unlucky-model', { type: 'threads.create', params: { input: text('Stranded, call 415-555-0152') } });
    expect(out.events.map((e) => e.type)).toEqual([
      'thread.created',
      'thread.item.done',
      'stream_options',
      'thread.item.added',
      'thread.item.done',
      'thread.updated',
    ]);
    const id = (out.events[0] as { thread: ThreadMetadata }).thread.id;
    expect((await partition(id)).map((i) => [i.sk === 'META' ? 'META' : i.type, i.content?.[0]?.text ?? i.title])).toEqual([
      ['user_message', 'Stranded, call 415-555-0152'],
      ['assistant_message', 'We got your message; the shop will call you back.'],
      ['META', 'Stranded, call 415-555-0152'],
    ]);
    expect(reported).toBe(1);
    // Without a fixed answer configured, the turn ends with a retryable error (the message still kept).
    await admin.fault({ path: '/v1/responses', status: 500, times: 1 });
    const plain = await run(server(store), 'unlucky-model', { type: 'threads.create', params: { input: text('Again') } });
    expect(plain.events.at(-1)).toEqual({ type: 'error', code: 'stream.error', allow_retry: true });
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
