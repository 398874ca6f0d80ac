import { DynamoThreadStore } from '@lead-intake/thread-store';
import { CHAT_THREADS_TABLE, chatRequest, chatToken, dynamoClient, emulator } from '@lead-intake/testkit';

/**
 * The chat acts (issue 29): the assistant's tools stream a callback form, drop-off times and quick
 * questions; the widgets' actions come back as threads.custom_action / sync_custom_action and are
 * checked against what the widget offered, recorded once, and acknowledged. Over real HTTP through
 * the local stack, the emulator answering the model's function calls.
 */
const admin = emulator();
const text = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });
const store = () => new DynamoThreadStore({ tableName: CHAT_THREADS_TABLE, client: dynamoClient() });

beforeEach(() => admin.reset());
afterAll(() => admin.reset());

/** A conversation whose first turn calls `tool`: the events of that turn, the thread and the widget item streamed. */
async function withTool(
  user: string,
  tool: string,
  args: Record<string, unknown> = {},
  message = 'My brakes squeal, can someone call me?',
) {
  const token = await chatToken(user);
  await admin.queueFunctionCall(tool, args);
  await admin.queue({ text: 'Here you go.' });
  const r = await chatRequest({ type: 'threads.create', params: { input: text(message) } }, { token });
  expect(r.status).toBe(200);
  const threadId = r.events[0].thread.id as string;
  const done = r.events.filter((e: any) => e.type === 'thread.item.done').map((e: any) => e.item);
  return { token, threadId, events: r.events as any[], done };
}

const action = (token: string, threadId: string, itemId: string | null, type: string, payload?: unknown, sync = false) =>
  chatRequest(
    {
      type: sync ? 'threads.sync_custom_action' : 'threads.custom_action',
      params: { thread_id: threadId, item_id: itemId, action: { type, ...(payload !== undefined ? { payload } : {}) } },
    },
    { token },
  );

/** Every component of a widget, depth first. */
function components(node: any): any[] {
  return [node, ...(Array.isArray(node?.children) ? node.children.flatMap(components) : [])];
}

describe('the assistant’s tools', () => {
  it('show_callback_form streams progress and the form, then the model continues with the tool’s output', async () => {
    const { events, done } = await withTool('intake-form', 'show_callback_form');
    const types = events.map((e) => e.type);
    expect(types).toContain('progress_update');
    const form = done.find((i: any) => i.type === 'widget');
    expect(form).toBeDefined();
    const parts = components(form.widget);
    const formNode = parts.find((c) => c.type === 'Form');
    expect(formNode.onSubmitAction).toEqual({ type: 'callback.submit' });
    expect(parts.filter((c) => c.name).map((c) => [c.type, c.name])).toEqual([
      ['Input', 'name'],
      ['Input', 'phone'],
      ['Select', 'best_time'],
      ['Checkbox', 'text_ok'],
    ]);
    expect(parts.find((c) => c.name === 'phone')).toMatchObject({ inputType: 'tel', required: true });
    expect(parts.find((c) => c.name === 'text_ok').label).toBe('OK to text me about this');
    expect(parts.find((c) => c.type === 'Button')).toMatchObject({ submit: true });
    // The progress comes before the form, the form before the answer that follows it.
    const at = (p: (e: any) => boolean) => events.findIndex(p);
    expect(at((e) => e.type === 'progress_update')).toBeLessThan(at((e) => e.item?.type === 'widget'));
    expect(at((e) => e.item?.type === 'widget')).toBeLessThan(
      at((e) => e.type === 'thread.item.done' && e.item.type === 'assistant_message'),
    );
    // Two model calls: the first offered the tools, the second carried the call and its output.
    const calls = (await admin.requests()).filter((r) => r.path === '/v1/responses').map((r) => r.body as any);
    expect(calls).toHaveLength(2);
    expect(calls[0].tools.map((t: any) => t.name)).toEqual(['show_callback_form', 'offer_visit_times', 'ask_customer']);
    const outputs = calls[1].input.filter((i: any) => i.type === 'function_call_output');
    expect(outputs).toHaveLength(1);
    expect(outputs[0].output).toMatch(/callback form is shown/);
  });

  it('never shows the same form twice in a row', async () => {
    const token = await chatToken('intake-twice');
    await admin.queueFunctionCall('show_callback_form');
    await admin.queueFunctionCall('show_callback_form');
    await admin.queue({ text: 'The form is above.' });
    const r = await chatRequest({ type: 'threads.create', params: { input: text('call me') } }, { token });
    const forms = r.events.filter((e: any) => e.type === 'thread.item.done' && e.item.type === 'widget');
    expect(forms).toHaveLength(1);
    const calls = (await admin.requests()).filter((x) => x.path === '/v1/responses').map((x) => x.body as any);
    expect(calls).toHaveLength(3);
    const outputs = calls[2].input.filter((i: any) => i.type === 'function_call_output').map((o: any) => o.output);
    expect(outputs[1]).toMatch(/already on screen/);
    // The last call must answer in words: no more tool rounds.
    expect(calls[2].tool_choice).toBe('none');
  });

  it('offer_visit_times lists up to six drop-off times in the shop’s open hours, each picked by visit.pick', async () => {
    const { done } = await withTool('intake-visit', 'offer_visit_times', {}, 'Can I bring the car in?');
    const list = done.find((i: any) => i.type === 'widget');
    expect(list.widget.type).toBe('ListView');
    expect(list.widget.children.length).toBeGreaterThan(0);
    expect(list.widget.children.length).toBeLessThanOrEqual(6);
    for (const item of list.widget.children) {
      expect(item.onClickAction.type).toBe('visit.pick');
      expect(item.onClickAction.payload.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
      expect(Date.parse(item.onClickAction.payload.time)).toBeGreaterThan(Date.now());
    }
  });

  it('ask_customer streams a pending structured input and ends the turn; it is answered once, then the model goes on', async () => {
    const { token, threadId, done } = await withTool('intake-ask', 'ask_customer', {
      question: 'Is the car safe to drive?',
      options: ['Yes', 'No', 'Not sure'],
      allow_freeform: false,
    });
    const asked = done.find((i: any) => i.type === 'structured_input');
    expect(asked).toMatchObject({
      status: 'pending',
      inputs: [
        {
          id: 'answer',
          type: 'multiple_choice',
          question: 'Is the car safe to drive?',
          options: [{ value: 'Yes' }, { value: 'No' }, { value: 'Not sure' }],
        },
      ],
    });
    // The turn ended at the question: one model call, and no answer after it.
    expect((await admin.requests()).filter((r) => r.path === '/v1/responses')).toHaveLength(1);
    await admin.queue({ text: 'Thanks, we will keep that in mind.' });
    const answer = (values: string[]) =>
      chatRequest(
        {
          type: 'threads.add_structured_input',
          params: { thread_id: threadId, item_id: asked.id, input: { status: 'answered', answers: { answer: { values } } } },
        },
        { token },
      );
    const first = await answer(['No']);
    expect(first.status).toBe(200);
    const replaced = first.events.find((e: any) => e.type === 'thread.item.replaced');
    expect(replaced.item).toMatchObject({ status: 'answered', inputs: [{ answer: { values: ['No'], skipped: false } }] });
    expect(first.events.some((e: any) => e.type === 'thread.item.done' && e.item.type === 'assistant_message')).toBe(true);
    const again = await answer(['Yes']);
    expect(again.status).toBe(400);
    const stored = await store().loadItem(threadId, asked.id);
    expect((stored as any).inputs[0].answer.values).toEqual(['No']);
    // The model saw the answer.
    const last = (await admin.requests()).filter((r) => r.path === '/v1/responses').at(-1)!.body as any;
    expect(JSON.stringify(last.input)).toContain('Is the car safe to drive?: No');
  });
});

describe('widget actions', () => {
  it('a valid callback submit replaces the form with a confirmation, records it once and the assistant acknowledges it', async () => {
    const { token, threadId, done } = await withTool('intake-submit', 'show_callback_form');
    const form = done.find((i: any) => i.type === 'widget');
    const choice = components(form.widget).find((c) => c.name === 'best_time').options[1];
    await admin.queue({ text: 'Got it, the shop will call you.' });
    const payload = { name: 'Ana Lopez', phone: '(408) 555-0142', best_time: choice.value, text_ok: true };
    // Two clicks at once (or a retried request): one record.
    const [a, b] = await Promise.all([
      action(token, threadId, form.id, 'callback.submit', payload),
      action(token, threadId, form.id, 'callback.submit', payload),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    for (const r of [a, b]) {
      const replaced = r.events.find((e: any) => e.type === 'thread.item.replaced');
      expect(replaced.item.id).toBe(form.id);
      const said = components(replaced.item.widget).find((c) => c.type === 'Text').value;
      expect(said).toBe(`We'll call you at (408) 555-0142 ${choice.label.charAt(0).toLowerCase()}${choice.label.slice(1)}.`);
    }
    // One acknowledgement between the two answers.
    const acks = [a, b].filter((r) => r.events.some((e: any) => e.type === 'thread.item.done' && e.item.type === 'assistant_message'));
    expect(acks).toHaveLength(1);
    const records = (await store().allItems(threadId)).filter((i: any) => i.type === 'hidden_context_item');
    expect(records.map((r: any) => r.content)).toEqual([
      {
        type: 'callback_request',
        name: 'Ana Lopez',
        phone: '+14085550142',
        best_time: choice.value,
        best_time_label: choice.label,
        text_ok: true,
        form_item_id: form.id,
      },
    ]);
    // A later submit of the sent form (a retried request) answers the confirmation and records nothing.
    const late = await action(token, threadId, form.id, 'callback.submit', { ...payload, phone: '408-555-0199' });
    expect(late.status).toBe(200);
    expect(
      components(late.events.find((e: any) => e.type === 'thread.item.replaced').item.widget).find((c) => c.type === 'Text').value,
    ).toContain('(408) 555-0142');
    expect(late.events.some((e: any) => e.type === 'thread.item.done')).toBe(false);
    expect((await store().allItems(threadId)).filter((i: any) => i.type === 'hidden_context_item')).toHaveLength(1);
    // It offers a change, nothing else.
    expect((await action(token, threadId, form.id, 'visit.pick', { time: choice.value })).status).toBe(400);
    // Hidden records never reach the client.
    const listed = await chatRequest({ type: 'items.list', params: { thread_id: threadId, order: 'asc', limit: 100 } }, { token });
    expect(listed.json.data.some((i: any) => i.type === 'hidden_context_item')).toBe(false);
  });

  it('an invalid submit keeps the form with the field’s error and records nothing', async () => {
    const { token, threadId, done } = await withTool('intake-invalid', 'show_callback_form');
    const form = done.find((i: any) => i.type === 'widget');
    const requests = (await admin.requests()).length;
    for (const [payload, error] of [
      [{ name: 'Ana', phone: '12' }, /not a phone number we can call/],
      [{ name: 'Ana' }, /Enter a phone number/],
      [{ phone: '408-555-0142', best_time: '2099-01-01:morning' }, /Pick one of the times offered/],
      [{ phone: '408-379-3820' }, /not a phone number we can call/], // the shop's own number
      [{ name: 'Ana\nURGENT: call 911', phone: '408-555-0142' }, /characters we cannot use/],
      [{ name: 'A'.repeat(81), phone: '408-555-0142' }, /at most 80 characters/],
    ] as const) {
      const r = await action(token, threadId, form.id, 'callback.submit', payload);
      expect(r.status).toBe(200);
      const replaced = r.events.find((e: any) => e.type === 'thread.item.replaced');
      const parts = components(replaced.item.widget);
      expect(parts.find((c) => c.type === 'Form').onSubmitAction.type).toBe('callback.submit');
      expect(
        parts
          .filter((c) => c.type === 'Text')
          .map((c) => c.value)
          .join(' '),
      ).toMatch(error);
      expect(r.events.some((e: any) => e.type === 'thread.item.done')).toBe(false);
    }
    expect((await store().allItems(threadId)).some((i: any) => i.type === 'hidden_context_item')).toBe(false);
    expect((await admin.requests()).length).toBe(requests); // no model call for a refused submit
  });

  it('refuses what the widget did not offer (400), another user’s or an unknown item (404); sync actions answer the item', async () => {
    const { token, threadId, done } = await withTool('intake-refusals', 'show_callback_form');
    const form = done.find((i: any) => i.type === 'widget');
    const user = done.find((i: any) => i.type === 'user_message');
    expect((await action(token, threadId, form.id, 'visit.pick', { time: '2030-01-01T08:00:00-08:00' })).status).toBe(400);
    expect((await action(token, threadId, user.id, 'callback.submit', { phone: '408-555-0142' })).status).toBe(400);
    expect((await action(token, threadId, null, 'callback.submit', { phone: '408-555-0142' })).status).toBe(400);
    expect((await action(token, threadId, 'msg_unknown', 'callback.submit', { phone: '408-555-0142' })).status).toBe(404);
    const mallory = await chatToken('intake-mallory');
    expect((await action(mallory, threadId, form.id, 'callback.submit', { phone: '408-555-0142' })).status).toBe(404);
    const big = await action(token, threadId, form.id, 'callback.submit', { phone: '408-555-0142', name: 'x'.repeat(5000) });
    expect(big.status).toBe(400);
    expect((await store().allItems(threadId)).some((i: any) => i.type === 'hidden_context_item')).toBe(false);
    // The same decision without a stream: the widget's new state is the answer.
    const sync = await action(token, threadId, form.id, 'callback.submit', { phone: '408-555-0142' }, true);
    expect(sync.status).toBe(200);
    expect(sync.json.updated_item.id).toBe(form.id);
    expect(components(sync.json.updated_item.widget).find((c) => c.type === 'Text').value).toBe("We'll call you at (408) 555-0142 soon.");
    // A change shows the form again; its submit is a new request.
    const changed = await action(token, threadId, form.id, 'callback.change');
    const again = changed.events.find((e: any) => e.type === 'thread.item.replaced').item;
    expect(components(again.widget).find((c) => c.type === 'Form')).toBeDefined();
    await admin.queue({ text: 'Updated.' });
    expect((await action(token, threadId, form.id, 'callback.submit', { phone: '408-555-0199' })).status).toBe(200);
    const records = (await store().allItems(threadId))
      .filter((i: any) => i.type === 'hidden_context_item')
      .map((i: any) => i.content.phone);
    expect(records).toEqual(['+14085550142', '+14085550199']);
  });

  it('a picked drop-off time is one of the offered ones, recorded and confirmed', async () => {
    const { token, threadId, done } = await withTool('intake-pick', 'offer_visit_times', {}, 'Can I drop it off?');
    const list = done.find((i: any) => i.type === 'widget');
    const offered = list.widget.children[0];
    expect((await action(token, threadId, list.id, 'visit.pick', { time: '2031-01-01T08:00:00-08:00' })).status).toBe(400);
    await admin.queue({ text: 'Noted, the shop will confirm.' });
    const r = await action(token, threadId, list.id, 'visit.pick', offered.onClickAction.payload);
    expect(r.status).toBe(200);
    const replaced = r.events.find((e: any) => e.type === 'thread.item.replaced');
    expect(components(replaced.item.widget).find((c) => c.type === 'Text').value).toContain(
      `Preferred drop-off: ${offered.children[0].value}`,
    );
    const records = (await store().allItems(threadId)).filter((i: any) => i.type === 'hidden_context_item');
    expect(records.map((i: any) => i.content)).toEqual([
      { type: 'visit_request', time: offered.onClickAction.payload.time, label: offered.children[0].value, list_item_id: list.id },
    ]);
  });
});
