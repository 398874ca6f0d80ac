import { readFileSync } from 'node:fs';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { resolveStage } from '@lead-intake/stage-config';
import {
  chatRequest,
  chatToken,
  clearSes,
  clientTokenFor,
  documentClient,
  emailsFor,
  emulator,
  leadSummary,
  parseSse,
  postJson,
  sesEmails,
  stackUrls,
} from '@lead-intake/testkit';

/** Whole conversations over real HTTP through the local stack, the emulator streaming the model. */
const admin = emulator();
const TABLE = 'chatkit-lead-intake-chat-local-threads';
const text = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });
const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

beforeEach(() => admin.reset());
afterAll(() => admin.reset());

async function newThread(token: string, message = 'Hi') {
  const r = await chatRequest({ type: 'threads.create', params: { input: text(message) } }, { token });
  return { id: r.events[0].thread.id as string, events: r.events };
}

describe('order', () => {
  it('two overlapping turns on one thread: a page lists the items in the order they were created', async () => {
    const token = await chatToken('overlap');
    const { id } = await newThread(token, 'first');
    const list = async () =>
      (await chatRequest({ type: 'items.list', params: { thread_id: id, order: 'asc', limit: 100 } }, { token })).json.data as any[];
    // The first turn's model answers late; a second turn overlaps it and is answered at once.
    await admin.fault({ path: '/v1/responses', delay_ms: 2000, times: 1 });
    const slow = chatRequest({ type: 'threads.add_user_message', params: { thread_id: id, input: text('slow one') } }, { token });
    for (let n = 0; n < 200 && !(await list()).some((i) => i.content?.[0]?.text === 'slow one'); n++)
      await new Promise((r) => setTimeout(r, 20));
    const fast = await chatRequest({ type: 'threads.add_user_message', params: { thread_id: id, input: text('fast one') } }, { token });
    expect(fast.status).toBe(200);
    expect((await slow).status).toBe(200);
    const items = await list();
    expect(items.filter((i) => i.type === 'assistant_message')).toHaveLength(3);
    const times = items.map((i) => Date.parse(i.created_at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});

describe('no client input answers 500', () => {
  it('an id longer than the store’s keys, or not of an id’s alphabet, is a 400 with the reason, and never logged', async () => {
    const token = await chatToken('long-ids');
    const { readFileSync, statSync } = await import('node:fs');
    const from = statSync(process.env.TEST_STACK_LOG!).size;
    const long = 'cthr_' + 'A'.repeat(3000);
    const input = text('Hi');
    const requests: Array<[string, Record<string, unknown>]> = [
      ['threads.get_by_id', { thread_id: long }],
      ['threads.add_user_message', { thread_id: long, input }],
      ['threads.retry_after_item', { thread_id: long, item_id: 'msg_x' }],
      ['threads.retry_after_item', { thread_id: 'cthr_x', item_id: 'msg_' + 'B'.repeat(3000) }],
      ['items.list', { thread_id: long }],
      ['items.list', { thread_id: 'cthr_x', after: 'msg_' + 'C'.repeat(3000) }],
      ['items.feedback', { thread_id: long, item_ids: ['msg_x'], kind: 'positive' }],
      ['threads.update', { thread_id: long, title: 'x' }],
      ['threads.delete', { thread_id: long }],
      ['attachments.delete', { attachment_id: 'atc_' + 'D'.repeat(3000) }],
      ['threads.add_structured_input', { thread_id: long, item_id: 'x', input: {} }],
      ['threads.create', { input: { ...input, attachments: ['atc_' + 'E'.repeat(3000)] } }],
      ['threads.get_by_id', { thread_id: 'cthr_a b\n' }],
    ];
    for (const [type, params] of requests) {
      const r = await chatRequest({ type, params }, { token });
      expect({ type, status: r.status }).toEqual({ type, status: 400 });
      expect(r.json.error ?? r.json.message ?? JSON.stringify(r.json)).toMatch(/is not an id/);
    }
    const log = readFileSync(process.env.TEST_STACK_LOG!).subarray(from).toString('utf8');
    expect(log).not.toMatch(/A{200}|B{200}|C{200}|D{200}|E{200}/);
  });
});

describe('the endpoint’s own origin guard (not only the browser’s CORS check)', () => {
  it('refuses a disallowed origin with 403 before it reads the token or runs a turn; allowed and absent origins pass', async () => {
    const token = await chatToken('origin-guard');
    const before = (await admin.requests()).length;
    const evil = await chatRequest({ type: 'threads.list', params: {} }, { token, headers: { origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
    expect(evil.json).toEqual({ error: 'Origin "https://evil.example" is not allowed.', code: 'origin_not_allowed' });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    // Not even without a token: the origin is checked first.
    expect((await chatRequest({ type: 'threads.list', params: {} }, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    const create = await chatRequest(
      { type: 'threads.create', params: { input: text('Hi') } },
      { token, headers: { origin: 'https://evil.example' } },
    );
    expect(create.status).toBe(403);
    expect((await admin.requests()).length).toBe(before); // no model call
    expect((await chatRequest({ type: 'threads.list', params: {} }, { token, headers: { origin: 'https://craigs.autos' } })).status).toBe(
      200,
    );
    expect((await chatRequest({ type: 'threads.list', params: {} }, { token })).status).toBe(200);
  });
});

describe('one turn', () => {
  it('streams the reference’s event sequence, field by field', async () => {
    await admin.queue({ text: 'Hello!' });
    const token = await chatToken('alice');
    const r = await chatRequest(
      { type: 'threads.create', params: { input: text('Hi') } },
      { token, headers: { origin: 'http://localhost:4321' } },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    expect(r.headers.get('access-control-allow-origin')).toBe('http://localhost:4321');
    expect(r.raw.endsWith('\n\n')).toBe(true);
    expect(
      r.raw
        .split('\n\n')
        .filter(Boolean)
        .every((f) => /^data: \{.*\}$/.test(f)),
    ).toBe(true); // no event:/id: lines
    const T = r.events[0].thread.id;
    const U = r.events[1].item.id;
    const A = r.events[3].item.id;
    expect(T).toMatch(/^cthr_[A-Za-z0-9_-]+$/);
    expect(r.events).toEqual([
      {
        type: 'thread.created',
        thread: { id: T, created_at: ISO, status: { type: 'active' }, metadata: {}, items: { data: [], has_more: false } },
      },
      {
        type: 'thread.item.done',
        item: {
          id: U,
          thread_id: T,
          created_at: ISO,
          type: 'user_message',
          content: [{ type: 'input_text', text: 'Hi' }],
          attachments: [],
          inference_options: {},
        },
      },
      { type: 'stream_options', stream_options: { allow_cancel: true } },
      { type: 'thread.item.added', item: { id: A, thread_id: T, created_at: ISO, type: 'assistant_message', content: [] } },
      {
        type: 'thread.item.updated',
        item_id: A,
        update: {
          type: 'assistant_message.content_part.added',
          content_index: 0,
          content: { annotations: [], text: '', type: 'output_text' },
        },
      },
      {
        type: 'thread.item.updated',
        item_id: A,
        update: { type: 'assistant_message.content_part.text_delta', content_index: 0, delta: 'Hello!' },
      },
      {
        type: 'thread.item.updated',
        item_id: A,
        update: {
          type: 'assistant_message.content_part.done',
          content_index: 0,
          content: { annotations: [], text: 'Hello!', type: 'output_text' },
        },
      },
      {
        type: 'thread.item.done',
        item: {
          id: A,
          thread_id: T,
          created_at: ISO,
          type: 'assistant_message',
          content: [{ annotations: [], text: 'Hello!', type: 'output_text' }],
        },
      },
      {
        type: 'thread.updated',
        thread: { title: 'Hi', id: T, created_at: ISO, status: { type: 'active' }, metadata: {}, items: { data: [], has_more: false } },
      },
    ]);
    expect(r.events[7].item.created_at).toBe(r.events[3].item.created_at); // one created_at from added to done
    // The model was asked with the shop's instructions, the live shop state, and the history.
    const [call] = (await admin.requests()).filter((q) => q.path === '/v1/responses');
    const body = call!.body as any;
    expect(body.stream).toBe(true);
    expect(body.instructions).toContain('You are Roxana');
    expect(body.instructions).toMatch(/Open now: (yes|no)/);
    expect(body.instructions).toMatch(/Never quote prices/);
    expect(body.input).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it('continues a thread with its history, and get_by_id returns it in order without hidden items', async () => {
    const token = await chatToken('alice');
    await admin.queue({ text: 'Hello! What car is it?' });
    const { id } = await newThread(token, 'My brakes squeal');
    await admin.queue({ text: 'Thanks, what is your phone number?' });
    const turn = await chatRequest({ type: 'threads.add_user_message', params: { thread_id: id, input: text('A 2012 Civic') } }, { token });
    expect(turn.events.map((e) => e.type)).toEqual([
      'thread.item.done',
      'stream_options',
      'thread.item.added',
      'thread.item.updated',
      ...Array(6).fill('thread.item.updated'),
      'thread.item.updated',
      'thread.item.done',
    ]);
    const [, second] = (await admin.requests()).filter((q) => q.path === '/v1/responses');
    expect((second!.body as any).input).toEqual([
      { role: 'user', content: 'My brakes squeal' },
      { role: 'assistant', content: 'Hello! What car is it?' },
      { role: 'user', content: 'A 2012 Civic' },
    ]);
    const got = await chatRequest({ type: 'threads.get_by_id', params: { thread_id: id } }, { token });
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ id, title: 'My brakes squeal', metadata: {}, items: { has_more: false } });
    expect(got.json.items.data.map((i: any) => [i.type, i.content[0].text])).toEqual([
      ['user_message', 'My brakes squeal'],
      ['assistant_message', 'Hello! What car is it?'],
      ['user_message', 'A 2012 Civic'],
      ['assistant_message', 'Thanks, what is your phone number?'],
    ]);
  });
});

describe('pagination (the reference Store rules)', () => {
  it('pages items both ways with has_more and after, exclusive cursors, limit+1', async () => {
    const token = await chatToken('pager');
    const { id } = await newThread(token, 'one');
    for (const t of ['two', 'three'])
      await chatRequest({ type: 'threads.add_user_message', params: { thread_id: id, input: text(t) } }, { token });
    // 6 items: 3 user messages, 3 answers.
    const desc: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const p = (await chatRequest({ type: 'items.list', params: { thread_id: id, limit: 4, order: 'desc', after } }, { token })).json;
      pages++;
      desc.push(...p.data.map((i: any) => i.id));
      if (p.has_more) expect(p.after).toBe(p.data.at(-1).id);
      else expect(p.after).toBeUndefined();
      after = p.has_more ? p.after : undefined;
    } while (after);
    expect(pages).toBe(2);
    expect(desc).toHaveLength(6);
    const asc = (await chatRequest({ type: 'items.list', params: { thread_id: id, limit: 100, order: 'asc' } }, { token })).json;
    expect(asc.data.map((i: any) => i.id)).toEqual([...desc].reverse());
    const defaults = (await chatRequest({ type: 'items.list', params: { thread_id: id } }, { token })).json;
    expect(defaults.data[0].id).toBe(desc[0]); // default order: desc
    // As the official server: 0 means the default page, above 100 is served as 100, a negative limit is refused.
    expect((await chatRequest({ type: 'items.list', params: { thread_id: id, limit: 0 } }, { token })).json.data).toHaveLength(6);
    expect((await chatRequest({ type: 'items.list', params: { thread_id: id, limit: '2' } }, { token })).json.data).toHaveLength(2);
    const bad = await chatRequest({ type: 'items.list', params: { thread_id: id, limit: -1 } }, { token });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/limit/);
    expect((await chatRequest({ type: 'items.list', params: { thread_id: id, after: 'msg_unknown' } }, { token })).status).toBe(404);
  });

  it('lists a user’s threads newest first, in pages', async () => {
    const token = await chatToken(`lister-${Date.now()}`);
    const ids: string[] = [];
    for (const m of ['a', 'b', 'c']) ids.push((await newThread(token, m)).id);
    const first = (await chatRequest({ type: 'threads.list', params: { limit: 2 } }, { token })).json;
    expect(first.data.map((t: any) => t.id)).toEqual([ids[2], ids[1]]);
    expect(first).toMatchObject({ has_more: true, after: ids[1] });
    expect(first.data[0].items).toEqual({ data: [], has_more: false });
    const second = (await chatRequest({ type: 'threads.list', params: { limit: 2, after: first.after } }, { token })).json;
    expect(second).toEqual({ data: [expect.objectContaining({ id: ids[0] })], has_more: false });
    const asc = (await chatRequest({ type: 'threads.list', params: { order: 'asc' } }, { token })).json;
    expect(asc.data.map((t: any) => t.id)).toEqual(ids);
  });
});

describe('retry, update, feedback, delete', () => {
  it('retry_after_item drops everything after the user message and answers again', async () => {
    const token = await chatToken('retry');
    await admin.queue({ text: 'First answer' });
    const { id, events } = await newThread(token, 'Question');
    const userId = events[1].item.id;
    await admin.queue({ text: 'Second answer' });
    const retry = await chatRequest({ type: 'threads.retry_after_item', params: { thread_id: id, item_id: userId } }, { token });
    expect(retry.events[0]).toEqual({ type: 'stream_options', stream_options: { allow_cancel: true } });
    expect(retry.events.some((e) => e.type === 'thread.item.removed')).toBe(false); // as the reference
    const items = (await chatRequest({ type: 'items.list', params: { thread_id: id, order: 'asc' } }, { token })).json.data;
    expect(items.map((i: any) => i.content[0].text)).toEqual(['Question', 'Second answer']);
  });

  it('renames, records feedback, deletes', async () => {
    const token = await chatToken('editor');
    const { id, events } = await newThread(token, 'Hello');
    const renamed = await chatRequest({ type: 'threads.update', params: { thread_id: id, title: 'Brakes' } }, { token });
    expect(renamed.json).toMatchObject({ id, title: 'Brakes', items: { data: [], has_more: false } });
    const fb = await chatRequest(
      { type: 'items.feedback', params: { thread_id: id, item_ids: [events.at(-2).item.id], kind: 'positive' } },
      { token },
    );
    expect(fb).toMatchObject({ status: 200, json: {} });
    // A request is bounded (the client sends a handful): 16,000 ids in 64 KB are refused, not written one by one.
    const flood = await chatRequest(
      { type: 'items.feedback', params: { thread_id: id, item_ids: Array.from({ length: 6000 }, (_, n) => `msg_${n}`), kind: 'negative' } },
      { token },
    );
    expect(flood).toMatchObject({ status: 400, json: { error: expect.stringMatching(/more than 50 ids/) } });
    expect((await chatRequest({ type: 'threads.delete', params: { thread_id: id } }, { token })).json).toEqual({});
    expect((await chatRequest({ type: 'threads.get_by_id', params: { thread_id: id } }, { token })).status).toBe(404);
    const left = await documentClient().send(
      new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `THREAD#${id}` } }),
    );
    // The thread and all its items: a tombstone row remains (no data) so that nothing writes it again.
    expect(left.Items).toEqual([
      { pk: `THREAD#${id}`, sk: 'META', user: expect.any(String), deleted_at: expect.any(Number), ttl: expect.any(Number) },
    ]);
  });
});

describe('cancellation', () => {
  it('the Stop button closes the stream: the partial answer and a hidden note are saved', async () => {
    const token = await chatToken('stopper');
    const { id } = await newThread(token, 'Tell me everything');
    await admin.queue({ text: Array.from({ length: 60 }, (_, n) => `word${n}`).join(' '), chunk_delay_ms: 40 });
    const ac = new AbortController();
    const res = await fetch(stackUrls().chat!, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ type: 'threads.add_user_message', params: { thread_id: id, input: text('Go on') } }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('"delta":"word4 "')) seen += new TextDecoder().decode((await reader.read()).value);
    ac.abort();
    // Once the server has noticed and saved (the note to the model is written last), within 10 s.
    const hiddenNotes = async () =>
      (
        await documentClient().send(
          new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `THREAD#${id}` } }),
        )
      ).Items!.filter((i) => JSON.parse(i.data ?? '{}').type === 'sdk_hidden_context').length;
    for (let n = 0; n < 200 && (await hiddenNotes()) === 0; n++) await new Promise((r) => setTimeout(r, 50));
    const items = (await chatRequest({ type: 'items.list', params: { thread_id: id, order: 'asc', limit: 100 } }, { token })).json.data;
    const partial = items.at(-1);
    expect(partial.type).toBe('assistant_message');
    expect(partial.content[0].text).toMatch(/^word0 word1 word2 word3 word4 /);
    expect(partial.content[0].text).not.toContain('word59');
    const raw = await documentClient().send(
      new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `THREAD#${id}` } }),
    );
    const hidden = raw.Items!.map((i) => JSON.parse(i.data ?? '{}')).filter((i) => i.type === 'sdk_hidden_context');
    expect(hidden).toEqual([expect.objectContaining({ content: 'The user cancelled the stream. Stop responding to the prior request.' })]);
    expect(items.some((i: any) => i.type === 'sdk_hidden_context')).toBe(false); // never sent to the client
  }, 30_000);
});

describe('authentication and user scoping', () => {
  it('requires a valid, unexpired client token', async () => {
    const noToken = await chatRequest({ type: 'threads.list', params: {} });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toBe('Bearer');
    expect((await chatRequest({ type: 'threads.list', params: {} }, { token: 'ckt1.abc.def' })).status).toBe(401);
    const expired = await chatToken('alice', -1);
    expect((await chatRequest({ type: 'threads.list', params: {} }, { token: expired })).json.error).toMatch(/expired/);
    expect(await admin.requests()).toEqual([]);
  });

  it('a user can never read or write another user’s thread', async () => {
    const alice = await chatToken('alice-scope');
    const mallory = await chatToken('mallory-scope');
    const { id } = await newThread(alice, 'private');
    for (const type of ['threads.get_by_id', 'items.list', 'threads.delete']) {
      expect((await chatRequest({ type, params: { thread_id: id } }, { token: mallory })).status).toBe(404);
    }
    expect((await chatRequest({ type: 'threads.update', params: { thread_id: id, title: 'mine' } }, { token: mallory })).status).toBe(404);
    // Refused before any stream starts, with the status the official server gives: 404.
    const write = await chatRequest(
      { type: 'threads.add_user_message', params: { thread_id: id, input: text('hijack') } },
      { token: mallory },
    );
    expect(write).toMatchObject({ status: 404, events: [], json: { code: 'not_found' } });
    const retry = await chatRequest({ type: 'threads.retry_after_item', params: { thread_id: id, item_id: 'msg_x' } }, { token: mallory });
    expect(retry.status).toBe(404);
    expect((await chatRequest({ type: 'threads.list', params: {} }, { token: mallory })).json.data.map((t: any) => t.id)).not.toContain(id);
    expect((await chatRequest({ type: 'threads.get_by_id', params: { thread_id: id } }, { token: alice })).json.items.data).toHaveLength(2);
  });
});

describe('everything else gets a clear protocol error, never a crash', () => {
  it('answers unsupported and unknown requests, and refusals before the first event, as statuses', async () => {
    const token = await chatToken('misc');
    const { id } = await newThread(token, 'Hello');
    // Actions here come from the intake widgets (services/chat/src/intake.test.ts): one without its widget is refused.
    const stream = await chatRequest({ type: 'threads.custom_action', params: { thread_id: id, action: { type: 'a' } } }, { token });
    expect(stream.status).toBe(400);
    expect(
      (await chatRequest({ type: 'threads.custom_action', params: { thread_id: 'cthr_x', action: { type: 'a' } } }, { token })).status,
    ).toBe(404);
    const json = await chatRequest({ type: 'input.transcribe', params: { audio_base64: 'AAAA', mime_type: 'audio/webm' } }, { token });
    expect(json.status).toBe(501);
    expect(json.json.error).toMatch(/not supported/);
    expect((await chatRequest({ type: 'threads.nope', params: {} }, { token })).status).toBe(400);
    const missing = await chatRequest(
      { type: 'threads.add_user_message', params: { thread_id: 'cthr_missing', input: text('hi') } },
      { token },
    );
    expect(missing).toMatchObject({ status: 404, events: [] });
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    const noText = await chatRequest({ type: 'threads.create', params: { input: text('') } }, { token });
    expect(noText).toMatchObject({ status: 400, json: { error: expect.stringContaining('text') } });
    // The model failing is not the customer's loss: the message is kept and answered with the fixed text.
    await admin.fault({ path: '/v1/responses', status: 500, times: 5 });
    const broken = await chatRequest({ type: 'threads.create', params: { input: text('hello') } }, { token });
    await admin.reset();
    expect(broken.events.map((e: any) => e.type)).not.toContain('error');
    const answer = broken.events.find((e: any) => e.type === 'thread.item.done' && e.item.type === 'assistant_message');
    expect(answer.item.content[0].text).toMatch(/^Thanks, we got your message\. .* call the shop at \+1/);
    const keptItems = await chatRequest({ type: 'items.list', params: { thread_id: broken.events[0].thread.id, order: 'asc' } }, { token });
    expect(keptItems.json.data.map((i: any) => i.type)).toEqual(['user_message', 'assistant_message']);
    expect(parseSse('data: {"a":1}\n\n')).toEqual([{ a: 1 }]);
  });
});

describe('bounds on turns and model spend (stages.config.json: chatTurnsPerMinute, chatDailyModelCalls)', () => {
  const limitsTable = 'chatkit-lead-intake-chat-local-limits';
  const stage = resolveStage('local');

  /** Counters are per fixed window: start a test well inside one, so that it cannot straddle two. */
  const freshWindow = async (seconds: number) => {
    const left = seconds - ((Date.now() / 1000) % seconds);
    if (left < 12) await new Promise((r) => setTimeout(r, left * 1000 + 100));
  };

  it('a user over chatTurnsPerMinute gets a clear error event; nothing is stored and no model answer is used', async () => {
    await freshWindow(60);
    const token = await chatToken(`rapid-${Date.now()}`);
    const { id } = await newThread(token, 'one');
    for (let n = 2; n <= (stage.chatTurnsPerMinute as number); n++) {
      const ok = await chatRequest({ type: 'threads.add_user_message', params: { thread_id: id, input: text(`msg ${n}`) } }, { token });
      expect(ok.events.at(-1)?.type).not.toBe('error');
    }
    await admin.reset();
    await admin.queue({ text: 'AN ANSWER NOBODY MAY SEE' });
    const over = await chatRequest({ type: 'threads.add_user_message', params: { thread_id: id, input: text('one too many') } }, { token });
    expect(over.status).toBe(200);
    // Decided beside the message's write: the message is taken back, then the reason.
    expect(over.events.map((e) => e.type)).toEqual(['thread.item.done', 'thread.item.removed', 'error']);
    expect(over.events[2]).toEqual({
      type: 'error',
      code: 'custom',
      message: expect.stringMatching(/faster than we can answer\. Please wait \d+ seconds/),
      allow_retry: true,
    });
    // The instance that saw this user's turns does not ask the model; another instance (the user's
    // turns spread over two when one was still finishing) may have asked it beside the gate: that
    // request is dropped unread.
    expect((await admin.requests()).length).toBeLessThanOrEqual(1);
    expect(JSON.stringify(over.events)).not.toContain('NOBODY');
    const items = (await chatRequest({ type: 'items.list', params: { thread_id: id, limit: 100 } }, { token })).json.data;
    expect(items.some((i: any) => i.content?.[0]?.text === 'one too many')).toBe(false);
    expect(JSON.stringify(items)).not.toContain('NOBODY');
    // Another user is not held back by this one.
    expect((await newThread(await chatToken(`calm-${Date.now()}`), 'hello')).events.at(-1).type).toBe('thread.updated');
  }, 30_000);

  it('a refusal the instance did not expect (turns taken elsewhere): the model request asked beside the gate is dropped', async () => {
    await freshWindow(60);
    const token = await chatToken(`elsewhere-${Date.now()}`);
    const user = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).sub as string;
    const { id } = await newThread(token, 'one');
    const add = (words: string) =>
      chatRequest({ type: 'threads.add_user_message', params: { thread_id: id, input: text(words) } }, { token });
    // The instance knows the thread and has seen this user admitted: it asks the model beside the gate.
    expect((await add('two')).events.at(-1)?.type).not.toBe('error');
    // Other instances took the rest of this minute's turns (the counter is shared; this one cannot know).
    const windowStart = Math.floor(Date.now() / 60_000) * 60;
    const key = { pk: `turn#${user}#${windowStart}` };
    await documentClient().send(
      new PutCommand({ TableName: limitsTable, Item: { ...key, n: stage.chatTurnsPerMinute, ttl: windowStart + 86400 + 60 } }),
    );
    try {
      await admin.reset();
      await admin.queue({ text: 'AN ANSWER NOBODY MAY SEE' });
      const over = await add('three');
      expect(over.events.map((e) => e.type)).toEqual(['thread.item.done', 'thread.item.removed', 'error']);
      expect(over.events[2].message).toMatch(/faster than we can answer/);
      expect(JSON.stringify(over.events)).not.toContain('NOBODY');
      expect((await admin.requests()).length).toBeLessThanOrEqual(1); // at most the one dropped
      const items = (await chatRequest({ type: 'items.list', params: { thread_id: id, order: 'asc', limit: 100 } }, { token })).json.data;
      expect(items.map((i: any) => i.type)).toEqual(['user_message', 'assistant_message', 'user_message', 'assistant_message']);
      expect(JSON.stringify(items)).not.toMatch(/three|NOBODY/);
    } finally {
      await admin.reset();
      await documentClient().send(new DeleteCommand({ TableName: limitsTable, Key: key }));
    }
  }, 30_000);

  it('past the daily ceiling a message is kept and answered with the fixed text (no model call) and still becomes a lead', async () => {
    await freshWindow(86400);
    const day = Math.floor(Date.now() / 1000 / 86400) * 86400;
    const key = { pk: `model#day#${day}` };
    const doc = documentClient();
    const before = (await doc.send(new GetCommand({ TableName: limitsTable, Key: key }))).Item;
    const ceiling = stage.chatDailyModelCalls as number;
    try {
      // One call left today. The chat instance may still hold part of a block it reserved
      // earlier (usage-limits/budget.ts): it spends that, then takes the last call, then rests.
      await doc.send(new PutCommand({ TableName: limitsTable, Item: { ...key, n: ceiling - 1, ttl: day + 2 * 86400 } }));
      const outcomes: string[] = [];
      let resting: any;
      for (let n = 0; n < 25 && !resting; n++) {
        const token = await chatToken(`ceiling-${Date.now()}-${n}`); // a new user each time: the per-user rate is not what stops them
        await admin.reset();
        const words = 'My car will not start, I am stranded, call me at 415-555-0152';
        const turn = await chatRequest({ type: 'threads.create', params: { input: text(words) } }, { token });
        const answer = turn.events.find((e: any) => e.type === 'thread.item.done' && e.item.type === 'assistant_message');
        if (answer?.item.content[0].text.startsWith('Thanks, we got your message')) {
          resting = { turn, token, modelCalls: (await admin.requests()).length };
        } else outcomes.push(turn.events.at(-1).type);
      }
      expect(resting).toBeDefined();
      expect(outcomes.length).toBeGreaterThan(0); // the last call of the day went through
      expect(resting.turn.events.map((e: any) => e.type)).toEqual([
        'thread.created',
        'thread.item.done',
        'thread.item.added',
        'thread.item.done',
        'thread.updated',
      ]);
      expect(resting.turn.events[3].item.content[0].text).toMatch(/the shop will get back to you .* call the shop at \+1/);
      expect(resting.modelCalls).toBe(0);
      // The conversation is kept (the customer's words and the fixed answer) and becomes a lead on every channel.
      const threadId = resting.turn.events[0].thread.id;
      const kept = (await chatRequest({ type: 'items.list', params: { thread_id: threadId, order: 'asc' } }, { token: resting.token }))
        .json;
      expect(kept.data.map((i: any) => i.type)).toEqual(['user_message', 'assistant_message']);
      await admin.queueOutput(leadSummary({ customer_name: 'Stranded Customer' }));
      const lead = await postJson(stackUrls().lead, { threadId, reason: 'close' }, { authorization: `Bearer ${resting.token}` });
      expect(lead.body).toEqual({ sent: true, reason: 'sent' });
      expect((await emailsFor(threadId))[0]!.body.text).toContain('(415) 555-0152');
      // Every call reserved, none over.
      expect((await doc.send(new GetCommand({ TableName: limitsTable, Key: key }))).Item!.n).toBe(ceiling);
      const log = readFileSync(process.env.TEST_STACK_LOG!, 'utf8');
      expect(log).toMatch(/"ModelBudgetUsedPercent":100\b/);
      expect(log).toMatch(/"reason":"daily_ceiling","TurnsRefused":1/);
    } finally {
      if (before) await doc.send(new PutCommand({ TableName: limitsTable, Item: before }));
      else await doc.send(new DeleteCommand({ TableName: limitsTable, Key: key }));
    }
  }, 60_000);
});

describe('retention (chatRetentionDays)', () => {
  it('every row of a conversation carries a TTL about chatRetentionDays ahead', async () => {
    const token = await chatToken(`kept-${Date.now()}`);
    const { id } = await newThread(token, 'How long do you keep this?');
    const rows = await documentClient().send(
      new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `THREAD#${id}` } }),
    );
    const days = resolveStage('local').chatRetentionDays as number;
    const now = Date.now() / 1000;
    expect(rows.Items!.length).toBeGreaterThanOrEqual(3);
    for (const r of rows.Items!) expect(Math.abs(r.ttl - (now + days * 86400))).toBeLessThan(120);
  });
});

describe('leads from self-hosted conversations', () => {
  it('the lead endpoint reads the thread from the store, for its owner only, and sends the email', async () => {
    await clearSes();
    const token = await chatToken('customer-77');
    await admin.queue({ text: 'Sorry to hear that! How can we reach you?' });
    const { id } = await newThread(token, 'My transmission slips in 3rd gear');
    await admin.queue({ text: 'Thanks, the shop will call you.' });
    await chatRequest(
      { type: 'threads.add_user_message', params: { thread_id: id, input: text('Call me at 415-555-2671, I am Pat') } },
      { token },
    );
    const lead = (body: object, user?: string) =>
      postJson(stackUrls().lead, body, user ? { authorization: `Bearer ${clientTokenFor(user)}` } : {}).then((r) => ({
        status: r.status,
        body: r.body,
      }));
    expect((await lead({ threadId: id, reason: 'pagehide', user: 'customer-77' })).status).toBe(401); // naming the user is not enough
    expect((await lead({ threadId: id, reason: 'pagehide' }, 'someone-else')).status).toBe(404);
    expect((await lead({ threadId: id, reason: 'pagehide' }, 'customer-77')).body).toEqual({ sent: true, reason: 'sent' });
    const mail = (await sesEmails()).find((m) => m.body.text?.includes(id))!;
    expect(mail.body.text).toContain('My transmission slips in 3rd gear');
    expect(mail.body.text).toContain('Roxana');
    expect(mail.body.html).toContain('href="tel:+14155552671"');
    // A thread that was never imported is still read from the hosted API (the migration period).
    const hosted = await admin.seedThread({ user: 'hosted-only', items: [{ role: 'user', text: 'Old hosted chat, call 415-555-2671' }] });
    expect((await lead({ threadId: hosted, reason: 'close' }, 'hosted-only')).body).toEqual({ sent: true, reason: 'sent' });
    expect((await lead({ threadId: hosted, reason: 'close' }, 'hosted-only')).body).toEqual({ sent: true, reason: 'already_sent' });
    expect((await sesEmails()).some((m) => m.body.text?.includes('Old hosted chat'))).toBe(true);
  });
});
