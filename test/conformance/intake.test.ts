import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatRequest, chatToken, emulator } from '@lead-intake/testkit';
import { shape } from './shape';

/**
 * The intake widgets, items and events against the official types. `intake-events.json` (every
 * event the flows streamed) and `intake-sync.json` (the sync action's answer) hold what these flows
 * emitted when recorded (`RECORD_INTAKE=1 npx jest --selectProjects stack --testPathPatterns
 * conformance/intake`), each document validated by the official models (docs/chatkit-protocol.md):
 *
 *   V=../shared/tools/chatkit-oracle/validate.py
 *   python3 $V --chatkit-src "$SRC" --type ThreadStreamEvent --strict-widgets test/conformance/intake-events.json
 *   python3 $V --chatkit-src "$SRC" --type SyncCustomActionResponse --strict-widgets test/conformance/intake-sync.json
 *
 * Here the same flows run again and must keep the recorded shape: every object's keys and every
 * value except ids, times, labels and model text; a list compares as the set of its elements'
 * shapes (how many times the shop offers depends on the hour).
 */
const EVENTS = join(__dirname, 'intake-events.json');
const SYNC = join(__dirname, 'intake-sync.json');
const VOLATILE = new Set([
  'id',
  'thread_id',
  'item_id',
  'created_at',
  'text',
  'delta',
  'value',
  'label',
  'time',
  'title',
  'key',
  'form_item_id',
]);
const admin = emulator();
const input = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });

const setShape = (v: unknown) => shape(v, VOLATILE, 'set');

interface Flows {
  events: unknown[];
  sync: unknown;
}

/** Every intake flow once: the form, a refused and a valid submit, a change, the times and a pick, a question, a sync submit. */
async function runFlows(): Promise<Flows> {
  await admin.reset();
  const token = await chatToken(`conf-intake-${Date.now().toString(36)}`);
  const events: unknown[] = [];
  const run = async (body: unknown) => {
    const r = await chatRequest(body, { token });
    if (r.status !== 200) throw new Error(`${JSON.stringify(body).slice(0, 120)} answered ${r.status}`);
    events.push(...(r.events ?? []));
    return r;
  };
  await admin.queueFunctionCall('show_callback_form');
  await admin.queue({ text: 'Here is a form.' });
  const created = await run({ type: 'threads.create', params: { input: input('Please call me about my brakes') } });
  const threadId = created.events[0].thread.id;
  const form = created.events.find((e: any) => e.type === 'thread.item.done' && e.item.type === 'widget').item;
  const act = (itemId: string, type: string, payload?: unknown) =>
    run({ type: 'threads.custom_action', params: { thread_id: threadId, item_id: itemId, action: { type, payload } } });
  await act(form.id, 'callback.submit', { phone: '12' });
  await admin.queue({ text: 'Thanks, the shop will call you.' });
  await act(form.id, 'callback.submit', { name: 'Ana', phone: '408-555-0142', text_ok: true });
  await act(form.id, 'callback.change');
  await admin.queueFunctionCall('offer_visit_times');
  await admin.queue({ text: 'Pick a time.' });
  const times = await run({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('Can I drop it off?') } });
  const list = times.events.find((e: any) => e.type === 'thread.item.done' && e.item.type === 'widget').item;
  await admin.queue({ text: 'Noted.' });
  await act(list.id, 'visit.pick', list.widget.children[0].onClickAction.payload);
  await admin.queueFunctionCall('ask_customer', { question: 'Is the car safe to drive?', options: ['Yes', 'No'], allow_freeform: true });
  const asked = await run({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('It grinds') } });
  const question = asked.events.find((e: any) => e.type === 'thread.item.done' && e.item.type === 'structured_input').item;
  await admin.queue({ text: 'Thanks.' });
  await run({
    type: 'threads.add_structured_input',
    params: { thread_id: threadId, item_id: question.id, input: { status: 'answered', answers: { answer: { values: ['No'] } } } },
  });
  const sync = await chatRequest(
    {
      type: 'threads.sync_custom_action',
      params: { thread_id: threadId, item_id: form.id, action: { type: 'callback.submit', payload: { phone: '408-555-0199' } } },
    },
    { token },
  );
  if (sync.status !== 200) throw new Error(`sync answered ${sync.status}`);
  return { events, sync: sync.json };
}

let ours: Flows;
beforeAll(async () => {
  ours = await runFlows();
  if (process.env.RECORD_INTAKE === '1') {
    writeFileSync(EVENTS, `${JSON.stringify(ours.events, null, 1)}\n`);
    writeFileSync(SYNC, `${JSON.stringify(ours.sync)}\n`); // one document per line, as validate.py reads it
  }
}, 60_000);
afterAll(() => admin.reset());

it('emits every kind of event, widget and item the intake flows have', () => {
  const types = new Set((ours.events as any[]).map((e) => e.type));
  for (const t of ['progress_update', 'thread.item.done', 'thread.item.replaced', 'stream_options']) expect(types).toContain(t);
  const items = new Set((ours.events as any[]).filter((e) => e.item).map((e) => e.item.type));
  for (const t of ['widget', 'structured_input', 'assistant_message', 'user_message']) expect(items).toContain(t);
});

it('keeps the shape of the recorded events, which validate against the official types', () => {
  expect(setShape(ours.events)).toEqual(setShape(JSON.parse(readFileSync(EVENTS, 'utf8'))));
  expect(setShape(ours.sync)).toEqual(setShape(JSON.parse(readFileSync(SYNC, 'utf8'))));
});
