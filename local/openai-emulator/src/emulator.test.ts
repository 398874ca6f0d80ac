import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { startEmulator, type RunningEmulator } from './server';
import { EmulatorAdmin } from './admin-client';

let emu: RunningEmulator;
let admin: EmulatorAdmin;
let client: OpenAI;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  admin = new EmulatorAdmin(emu.origin);
  client = new OpenAI({ apiKey: 'test-key', baseURL: emu.baseURL, maxRetries: 2 });
});
afterAll(() => emu.close());
beforeEach(() => admin.reset());

const userItems = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', text: `message ${i + 1}` }) as const);

describe('ChatKit sessions', () => {
  it('creates a session with the real shape and records the exact request', async () => {
    const session = await client.beta.chatkit.sessions.create({
      user: 'user_1',
      workflow: { id: 'wf_123', state_variables: { locale: 'en', shop_is_open_now: true, n: 3 } },
      expires_after: { anchor: 'created_at', seconds: 300 },
      rate_limits: { max_requests_per_1_minute: 5 },
    });
    expect(session.id).toMatch(/^cksess_/);
    expect(session.object).toBe('chatkit.session');
    expect(session.client_secret).toMatch(/^ek_/);
    expect(session.expires_at).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 299);
    expect(session.workflow.state_variables).toEqual({ locale: 'en', shop_is_open_now: true, n: 3 });
    expect(session.rate_limits.max_requests_per_1_minute).toBe(5);
    const [req] = await admin.requests();
    expect(req).toMatchObject({ method: 'POST', path: '/v1/chatkit/sessions' });
    expect(req!.headers['openai-beta']).toBe('chatkit_beta=v1');
    expect(req!.headers.authorization).toBe('Bearer test-key');
    expect(req!.body).toMatchObject({ user: 'user_1', workflow: { id: 'wf_123' } });
  });

  it('cancels a session, and 404s an unknown one', async () => {
    const s = await client.beta.chatkit.sessions.create({ user: 'u', workflow: { id: 'wf' } });
    const cancelled = await client.beta.chatkit.sessions.cancel(s.id);
    expect(cancelled.status).toBe('cancelled');
    await expect(client.beta.chatkit.sessions.cancel('cksess_nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('answers 400 for an invalid body, in the OpenAI error shape', async () => {
    const err = await client.beta.chatkit.sessions.create({ user: 'u' } as any).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error).toMatchObject({ type: 'invalid_request_error', param: 'workflow.id' });
    const badVar = await client.beta.chatkit.sessions
      .create({ user: 'u', workflow: { id: 'wf', state_variables: { x: { nested: 1 } as any } } })
      .catch((e) => e);
    expect(badVar).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('requires a Bearer key and the ChatKit beta header', async () => {
    const noKey = await fetch(`${emu.baseURL}/chatkit/sessions`, {
      method: 'POST',
      headers: { 'openai-beta': 'chatkit_beta=v1' },
      body: '{}',
    });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as any).error.code).toBe('missing_api_key');
    const noBeta = await fetch(`${emu.baseURL}/chatkit/threads`, { headers: { authorization: 'Bearer k' } });
    expect(noBeta.status).toBe(400);
    expect(noBeta.headers.get('content-type')).toBe('application/json');
  });
});

describe('ChatKit threads', () => {
  it('retrieves a seeded thread with proper item types, attachments and quotes', async () => {
    const id = await admin.seedThread({
      user: 'u1',
      title: 'Brakes',
      items: [
        {
          role: 'user',
          text: 'My brakes squeal',
          quoted_text: 'earlier',
          attachments: [{ name: 'brake.jpg', mime_type: 'image/jpeg', preview_url: 'https://x.test/b.jpg' }],
        },
        { role: 'assistant', text: 'Sorry to hear that' },
        { type: 'chatkit.widget', widget: '{"type":"Card"}' },
      ],
    });
    expect(id).toMatch(/^cthr_/);
    const thread = await client.beta.chatkit.threads.retrieve(id);
    expect(thread).toMatchObject({ id, object: 'chatkit.thread', title: 'Brakes', user: 'u1', status: { type: 'active' } });
    const items = [];
    for await (const item of client.beta.chatkit.threads.listItems(id, { order: 'asc' })) items.push(item);
    expect(items.map((i) => i.type)).toEqual(['chatkit.user_message', 'chatkit.assistant_message', 'chatkit.widget']);
    const first = items[0] as any;
    expect(first.content).toEqual([
      { type: 'quoted_text', text: 'earlier' },
      { type: 'input_text', text: 'My brakes squeal' },
    ]);
    expect(first.attachments[0]).toMatchObject({
      name: 'brake.jpg',
      mime_type: 'image/jpeg',
      type: 'image',
      preview_url: 'https://x.test/b.jpg',
    });
    expect((items[1] as any).content[0]).toEqual({ type: 'output_text', text: 'Sorry to hear that', annotations: [] });
  });

  it.each(['asc', 'desc'] as const)('auto-paginates over several pages in %s order', async (order) => {
    const id = await admin.seedThread({ user: 'u', items: userItems(7) });
    await admin.reset().then(() => undefined); // reset clears threads too: seed again after
    const id2 = await admin.seedThread({ user: 'u', items: userItems(7) });
    expect(id2).not.toBe(id);
    const texts: string[] = [];
    for await (const item of client.beta.chatkit.threads.listItems(id2, { order, limit: 3 })) texts.push((item as any).content.at(-1).text);
    const expected = Array.from({ length: 7 }, (_, i) => `message ${i + 1}`);
    expect(texts).toEqual(order === 'asc' ? expected : expected.reverse());
    const reqs = (await admin.requests()).filter((r) => r.path.endsWith('/items'));
    expect(reqs).toHaveLength(3);
    expect(reqs.map((r) => r.query.after)).toEqual([undefined, expect.stringMatching(/^cthi_/), expect.stringMatching(/^cthi_/)]);
  });

  it('pages backwards with before, and reports has_more/first_id/last_id', async () => {
    const id = await admin.seedThread({ user: 'u', items: userItems(5) });
    const all = await client.beta.chatkit.threads.listItems(id, { order: 'asc', limit: 100 });
    const ids = all.data.map((i) => i.id);
    const page = await client.beta.chatkit.threads.listItems(id, { order: 'asc', limit: 2, before: ids[4] });
    expect(page.data.map((i) => i.id)).toEqual([ids[2], ids[3]]);
    const raw = await fetch(`${emu.baseURL}/chatkit/threads/${id}/items?order=desc&limit=2`, {
      headers: { authorization: 'Bearer k', 'openai-beta': 'chatkit_beta=v1' },
    });
    expect(await raw.json()).toMatchObject({ object: 'list', first_id: ids[4], last_id: ids[3], has_more: true });
  });

  it('lists threads by user, deletes them, and 404s unknown ones', async () => {
    const a = await admin.seedThread({ user: 'alice', items: [] });
    await admin.seedThread({ user: 'bob', items: [] });
    const page = await client.beta.chatkit.threads.list({ user: 'alice' });
    expect(page.data.map((t) => t.id)).toEqual([a]);
    const deleted = await client.beta.chatkit.threads.delete(a);
    expect(deleted).toEqual({ id: a, object: 'chatkit.thread.deleted', deleted: true });
    const err = await client.beta.chatkit.threads.retrieve(a).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.status).toBe(404);
    await expect(client.beta.chatkit.threads.listItems('cthr_missing')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('percent-decodes path parameters', async () => {
    await expect(client.beta.chatkit.threads.retrieve('cthr 1/x')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const [req] = await admin.requests();
    expect(req!.path).toBe('/v1/chatkit/threads/cthr%201%2Fx');
  });
});

const Lead = z.object({
  handoff_ready: z.boolean(),
  customer_name: z.string().nullable(),
  customer_phone: z.string(),
  language: z.enum(['English', 'Spanish']),
  call_script_prompts: z.array(z.string()).min(3).max(3),
  count: z.number().int().min(2),
  vehicle: z.object({ year: z.number().int().nullable(), make: z.string().nullable() }).nullable(),
  summary: z.string(),
});

describe('Responses with Structured Outputs', () => {
  const parse = (input = 'Customer: my 2012 Civic needs brakes') =>
    client.responses.parse({
      model: 'gpt-test',
      instructions: 'Summarize',
      input: [{ role: 'user', content: input }],
      text: { format: zodTextFormat(Lead, 'lead') },
    });

  it('answers output valid against the schema, derived from the input, with no invented contacts', async () => {
    const res = await parse();
    const out = res.output_parsed!;
    expect(Lead.parse(out)).toEqual(out);
    expect(out.customer_name).toBeNull();
    expect(out.customer_phone).toBe('');
    expect(out.vehicle).toBeNull();
    expect(out.call_script_prompts).toHaveLength(3);
    expect(out.count).toBe(2);
    expect(out.language).toBe('English');
    expect(out.summary).toContain('my 2012 Civic needs brakes');
    const [req] = await admin.requests();
    expect((req!.body as any).text.format).toMatchObject({ type: 'json_schema', name: 'lead', strict: true });
    expect(req!.headers['openai-beta']).toBeUndefined();
  });

  it('returns queued outputs in order, `times` times', async () => {
    const out = {
      handoff_ready: true,
      customer_name: 'Ana',
      customer_phone: '+14085550100',
      language: 'Spanish',
      call_script_prompts: ['a', 'b', 'c'],
      count: 4,
      vehicle: { year: 2012, make: 'Honda' },
      summary: 's',
    };
    await admin.queueOutput(out, 2);
    expect((await parse()).output_parsed).toEqual(out);
    expect((await parse()).output_parsed).toEqual(out);
    expect((await parse()).output_parsed!.handoff_ready).toBe(false);
  });

  it('serves each queued failure shape', async () => {
    await admin.queue({ refusal: 'I cannot help with that.' });
    const refused = await parse();
    expect(refused.output_parsed).toBeNull();
    expect((refused.output[0] as any).content[0]).toEqual({ type: 'refusal', refusal: 'I cannot help with that.' });

    await admin.queue({ status: 'incomplete' });
    const incomplete = await parse();
    expect(incomplete.status).toBe('incomplete');
    expect(incomplete.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(incomplete.output_parsed).toBeNull();

    await admin.queue({ text: 'not json at all' });
    await expect(parse()).rejects.toBeInstanceOf(SyntaxError);

    await admin.queueOutput({ handoff_ready: 'yes' });
    await expect(parse()).rejects.toThrow(); // ZodError
  });

  it('rejects a non-strict schema and a missing model', async () => {
    const bad = await client.responses
      .create({
        model: 'm',
        input: 'x',
        text: {
          format: { type: 'json_schema', name: 'x', strict: true, schema: { type: 'object', properties: { a: { type: 'string' } } } },
        },
      })
      .catch((e) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    const noModel = await client.responses.create({ input: 'x' } as any).catch((e) => e);
    expect(noModel).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('streams a plain text answer as Responses server-sent events', async () => {
    await admin.queue({ text: 'Hello there, friend.' });
    const stream = await client.responses.create({ model: 'm', input: [{ role: 'user', content: 'hi' }], stream: true });
    const types: string[] = [];
    let text = '';
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.output_text.delta') text += ev.delta;
    }
    expect(text).toBe('Hello there, friend.');
    expect(types[0]).toBe('response.created');
    expect(types).toContain('response.output_item.added');
    expect(types).toContain('response.content_part.added');
    expect(types.at(-1)).toBe('response.completed');
    const final = await client.responses.stream({ model: 'm', input: 'Are you open?' }).finalResponse();
    expect(final.output_text).toContain('Are you open?');
  });
});

describe('Responses with function tools', () => {
  const tools = [
    {
      type: 'function' as const,
      name: 'show_callback_form',
      description: 'x',
      parameters: { type: 'object', properties: {} },
      strict: false,
    },
  ];

  it('answers a queued function call as the API streams it, then the follow-up that carries its output', async () => {
    await admin.queueFunctionCall('show_callback_form', { reason: 'wants a call' });
    const stream = await client.responses.create({ model: 'm', input: [{ role: 'user', content: 'call me' }], tools, stream: true });
    const types: string[] = [];
    let call: any;
    let args = '';
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'response.function_call_arguments.delta') args += ev.delta;
      if (ev.type === 'response.output_item.done' && ev.item.type === 'function_call') call = ev.item;
    }
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(call).toMatchObject({
      type: 'function_call',
      name: 'show_callback_form',
      status: 'completed',
      call_id: expect.stringMatching(/^call_/),
    });
    expect(JSON.parse(args)).toEqual({ reason: 'wants a call' });
    // The follow-up carries the call and its output; it is recorded and answered as usual.
    const follow = await client.responses.create({
      model: 'm',
      tools,
      input: [
        { role: 'user', content: 'call me' },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: '{"shown":true}' },
      ],
    });
    expect(follow.output_text).toContain('call me');
    const recorded = (await admin.requests()).filter((r) => r.path === '/v1/responses');
    expect((recorded[1]!.body as any).input[2]).toEqual({ type: 'function_call_output', call_id: call.call_id, output: '{"shown":true}' });
  });

  it('refuses what the API refuses: a call without its output, an output without its call, a function not offered', async () => {
    const bad = (body: object) => client.responses.create({ model: 'm', ...body } as any).catch((e) => e);
    const call = { type: 'function_call', call_id: 'call_1', name: 'show_callback_form', arguments: '{}' };
    expect((await bad({ tools, input: [call] })).message).toMatch(/No tool output found for function call call_1/);
    const orphan = { type: 'function_call_output', call_id: 'call_9', output: 'x' };
    expect((await bad({ tools, input: [orphan] })).message).toMatch(/No tool call found for function call output with call_id call_9/);
    expect(await bad({ tools: [{ type: 'function', name: 'bad name' }], input: 'x' })).toBeInstanceOf(OpenAI.BadRequestError);
    await admin.queueFunctionCall('offer_visit_times');
    expect((await bad({ tools, input: 'x' })).message).toMatch(/'offer_visit_times' is not among the request's tools/);
  });
});

describe('Responses with image and file inputs', () => {
  it('accepts images and files as the API does, records them, and refuses malformed parts with the API’s error', async () => {
    const input = [
      {
        role: 'user' as const,
        content: [
          { type: 'input_text' as const, text: 'What is this dent?' },
          { type: 'input_image' as const, image_url: 'https://files.example/dent.jpg?X-Amz-Signature=abc', detail: 'auto' as const },
          { type: 'input_file' as const, file_url: 'https://files.example/invoice.pdf' },
          { type: 'input_file' as const, file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'quote.pdf' },
        ],
      },
    ];
    const ok = await client.responses.create({ model: 'm', input });
    expect(ok.output_text).toContain('What is this dent?');
    const [req] = await admin.requests();
    expect((req!.body as any).input[0].content.map((c: any) => c.type)).toEqual(['input_text', 'input_image', 'input_file', 'input_file']);
    const bad = async (part: unknown) => {
      const err = await client.responses.create({ model: 'm', input: [{ role: 'user', content: [part as any] }] }).catch((e) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      return err.message as string;
    };
    expect(await bad({ type: 'input_image', image_url: 'ftp://x/y.jpg' })).toMatch(/image_url/);
    expect(await bad({ type: 'input_image' })).toMatch(/image_url' or 'file_id/);
    expect(await bad({ type: 'input_image', image_url: 'https://x/y.jpg', detail: 'max' })).toMatch(/'low', 'high' and 'auto'/);
    expect(await bad({ type: 'input_file', file_data: 'abc' })).toMatch(/filename/);
    expect(await bad({ type: 'input_video', url: 'https://x' })).toMatch(/Supported values are: 'input_text', 'input_image', 'input_file'/);
  });
});

describe('fault injection', () => {
  it('fails the next n matching requests, and the SDK retries are visible in the log', async () => {
    await admin.fault({ path: '/v1/chatkit/sessions', status: 500, times: 2 });
    const s = await client.beta.chatkit.sessions.create({ user: 'u', workflow: { id: 'wf' } });
    expect(s.status).toBe('active');
    const reqs = await admin.requests();
    expect(reqs).toHaveLength(3);
    expect(reqs.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1', '2']);
  });

  it('gives up after the retry budget with the right error class', async () => {
    await admin.fault({ path: '/v1/responses', status: 429, times: 5 });
    const err = await client.responses.create({ model: 'm', input: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(await admin.requests()).toHaveLength(3);
  });

  it('matches on method, and defaults to a 500', async () => {
    const id = await admin.seedThread({ user: 'u', items: [] });
    await admin.fault({ path: '/v1/chatkit/threads', method: 'DELETE', times: 1 });
    await expect(client.beta.chatkit.threads.retrieve(id)).resolves.toMatchObject({ id });
    const err = await client.beta.chatkit.threads.delete(id, { maxRetries: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
  });

  it("matches on the body's stream flag: a streamed turn or a plain request", async () => {
    await admin.fault({ path: '/v1/responses', stream: false, status: 400, times: 1 });
    const stream = await client.responses.create({ model: 'm', input: 'x', stream: true }, { maxRetries: 0 });
    for await (const _ of stream) void _; // the streamed request is not the one the fault is for
    const err = await client.responses.create({ model: 'm', input: 'x' }, { maxRetries: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    await expect(admin.fault({ path: '/v1/responses', stream: 'yes' as never, times: 1 })).rejects.toThrow(/stream/);
  });

  it('hangs a request so that the client times out', async () => {
    await admin.fault({ path: '/v1/responses', delay_ms: 2000, times: 1 });
    const err = await client.responses.create({ model: 'm', input: 'x' }, { timeout: 200, maxRetries: 0 }).catch((e) => e);
    // APIConnectionTimeoutError outside Jest; Jest's separate realm turns the AbortError check into
    // its parent class, so assert on the parent and on the fact that nothing was answered.
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(err.status).toBeUndefined();
    // The fault was used up: the next call goes through.
    await expect(client.responses.create({ model: 'm', input: 'x' }, { timeout: 2000, maxRetries: 0 })).resolves.toMatchObject({
      status: 'completed',
    });
  });

  it('validates admin input', async () => {
    await expect(admin.fault({ path: 'no-slash', times: 1 })).rejects.toThrow(/path/);
    await expect(admin.fault({ path: '/v1', times: 0 })).rejects.toThrow(/times/);
    await expect(admin.seedThread({ user: 'u', items: [{ role: 'bot' as any, text: 'x' }] })).rejects.toThrow(/role/);
  });
});

describe('admin: growing conversations and fixed ids', () => {
  it('appends items to a thread, and seeds a thread with a given id once', async () => {
    const id = await admin.seedThread({ id: 'cthr_fixed_demo', user: 'u', items: [{ role: 'user', text: 'a' }] });
    expect(id).toBe('cthr_fixed_demo');
    await expect(admin.seedThread({ id: 'cthr_fixed_demo', user: 'u', items: [] })).rejects.toThrow(/exists/);
    await admin.appendItems(id, [
      { role: 'assistant', text: 'b' },
      { role: 'user', text: 'c' },
    ]);
    const page = await client.beta.chatkit.threads.listItems(id, { order: 'asc' });
    expect(page.data.map((i: any) => i.content.at(-1).text)).toEqual(['a', 'b', 'c']);
    await expect(admin.appendItems('cthr_missing', [])).rejects.toThrow(/404/);
  });
});
