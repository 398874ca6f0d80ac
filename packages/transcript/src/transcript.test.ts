import OpenAI from 'openai';
import { emulator, emulatorBaseURL } from '@lead-intake/testkit';
import { assembleTranscript, formatForModel, HostedChatKitSource, normalizeItems, ThreadNotFoundError, type SourceItem } from './index';

const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 19, 21, s)).toISOString();
const base = (id: string, s: number) => ({ id, thread_id: 'cthr_t', created_at: at(s) });

describe('normalizeItems', () => {
  it('labels speakers, marks quotes, lists attachments, and handles every item type of the protocol deliberately', () => {
    const items: SourceItem[] = [
      {
        ...base('1', 0),
        type: 'user_message',
        content: [{ type: 'input_text', text: 'Great, see photo' }],
        quoted_text: 'We open at 8',
        attachments: [
          { id: 'a', name: 'dent.jpg', mime_type: 'image/jpeg', type: 'image', preview_url: 'https://cdn.example/dent.jpg' },
          { id: 'b', name: 'x.jpg', mime_type: 'image/jpeg', type: 'image', preview_url: 'javascript:alert(1)' },
          { id: 'c', name: 'x.pdf', mime_type: 'application/pdf', type: 'file' },
        ],
        inference_options: {},
      },
      { ...base('2', 1), type: 'assistant_message', content: [{ type: 'output_text', text: 'Thanks!', annotations: [] }] },
      { ...base('3', 2), type: 'widget', widget: { type: 'Card', children: [] } },
      { ...base('4', 3), type: 'client_tool_call', status: 'completed', call_id: 'c', name: 'get_location', arguments: {} },
      { ...base('5', 4), type: 'task', task: { type: 'thought', title: 'Checking hours', status_indicator: 'complete' } },
      {
        ...base('6', 5),
        type: 'workflow',
        workflow: { type: 'custom', tasks: [{ type: 'custom', title: 'A', content: 'b' }, { type: 'custom' }], expanded: false },
      },
      { ...base('7', 6), type: 'structured_input', status: 'answered', inputs: [] },
      { ...base('8', 7), type: 'hidden_context_item', content: 'secret' },
      { ...base('9', 8), type: 'sdk_hidden_context', content: 'secret' },
      { ...base('10', 9), type: 'end_of_turn' },
      { ...base('11', 10), type: 'generated_image' },
      { ...base('12', 11), type: 'user_message', content: [], attachments: [], inference_options: {} },
      // Stored data is not checked against the union: a type newer than this code is skipped, never thrown on.
      { ...base('13', 12), type: 'something.new' } as unknown as SourceItem,
    ];
    const { lines, skipped } = normalizeItems(items, 'Roxana');
    expect(lines.map((l) => [l.speaker, l.text])).toEqual([
      ['Customer', 'Great, see photo'],
      ['Roxana', 'Thanks!'],
      ['Event', 'Tool call: get_location (completed)'],
      ['Event', 'Task: Checking hours'],
      ['Event', 'Tasks: A: b'],
    ]);
    expect(lines[0]).toMatchObject({ quote: 'We open at 8', createdAt: Date.UTC(2026, 10, 25, 19, 21, 0) / 1000 });
    expect(lines[0]!.attachments).toEqual([
      { id: 'a', name: 'dent.jpg', mimeType: 'image/jpeg', previewUrl: 'https://cdn.example/dent.jpg' },
      { id: 'b', name: 'x.jpg', mimeType: 'image/jpeg', previewUrl: null },
      { id: 'c', name: 'x.pdf', mimeType: 'application/pdf', previewUrl: null },
    ]);
    expect(skipped).toEqual({
      widget: 1,
      structured_input: 1,
      hidden_context_item: 1,
      sdk_hidden_context: 1,
      end_of_turn: 1,
      generated_image: 1,
      empty_user_message: 1,
      'something.new': 1,
    });
    expect(formatForModel(lines.slice(0, 2))).toBe(
      'Customer: (quoting: "We open at 8") Great, see photo [attachment: ' +
        'dent.jpg, image/jpeg] [attachment: x.jpg, image/jpeg] [attachment: x.pdf, application/pdf]\nRoxana: Thanks!',
    );
  });

  it('reads a self-hosted time without a zone (as the Python reference writes it) as UTC', () => {
    const { lines } = normalizeItems(
      [
        {
          ...base('1', 0),
          created_at: '2026-11-25T19:21:15.333567',
          type: 'assistant_message',
          content: [{ type: 'output_text', text: 'x', annotations: [] }],
        },
      ],
      'R',
    );
    expect(lines[0]!.createdAt).toBe(Date.UTC(2026, 10, 25, 19, 21, 15) / 1000);
  });
});

describe('assembleTranscript', () => {
  it('knows when the conversation last had activity: its newest item, hidden ones included (a recorded request is activity)', () => {
    const say = (id: string, sec: number) =>
      ({ ...base(id, sec), type: 'assistant_message', content: [{ type: 'output_text', text: id, annotations: [] }] }) as SourceItem;
    const items = [say('1', 0), { ...base('2', 9), type: 'hidden_context_item', content: 'callback' } as SourceItem, say('3', 4)];
    expect(assembleTranscript({ threadId: 'cthr_t' }, items, 'R').lastActivityAt).toBe(Date.UTC(2026, 10, 25, 19, 21, 9) / 1000);
    expect(assembleTranscript({ threadId: 'cthr_t' }, [], 'R').lastActivityAt).toBeNull();
    expect(assembleTranscript({ threadId: 'cthr_t' }, [{ ...say('4', 0), created_at: 'not a time' }], 'R').lastActivityAt).toBeNull();
  });
});

describe('HostedChatKitSource (through the real SDK and the emulator)', () => {
  const admin = emulator();
  const client = new OpenAI({ apiKey: 'k', baseURL: emulatorBaseURL(), maxRetries: 0 });
  beforeEach(() => admin.reset());

  it('reads every page in ascending order', async () => {
    const items = Array.from({ length: 23 }, (_, i) => ({ role: (i % 2 ? 'assistant' : 'user') as 'user' | 'assistant', text: `m${i}` }));
    const id = await admin.seedThread({ user: 'u9', title: 'Brakes', items });
    const t = await new HostedChatKitSource(client, 5).fetch(id, { assistantName: 'Roxana' });
    expect(t.lines.map((l) => l.text)).toEqual(items.map((i) => i.text));
    expect(t).toMatchObject({ threadId: id, title: 'Brakes', user: 'u9', itemCount: 23 });
    // The state's identity stays the hosted one (the ledger compares it across evaluations).
    expect(t.lastItemId).toMatch(/^cthi_/);
    const pages = (await admin.requests()).filter((r) => r.path.endsWith('/items'));
    expect(pages).toHaveLength(5);
    expect(pages.every((p) => p.query.order === 'asc')).toBe(true);
  });

  it('converts hosted items once at the edge: quotes, attachments, tool calls, tasks; widgets and unknown types skipped', async () => {
    const id = await admin.seedThread({
      user: 'u9',
      items: [
        {
          role: 'user',
          text: 'Great, see photo',
          quoted_text: 'We open at 8',
          attachments: [{ name: 'dent.jpg', mime_type: 'image/jpeg', preview_url: 'https://cdn.example/dent.jpg' }],
        },
        { role: 'assistant', text: 'Thanks!' },
        { type: 'chatkit.widget', widget: '{"type":"Card","children":[]}' },
        { type: 'chatkit.client_tool_call', name: 'get_location', call_id: 'c', arguments: '{}', output: null, status: 'completed' },
        { type: 'chatkit.task', task_type: 'thought', heading: 'Checking hours', summary: null },
        { type: 'chatkit.task_group', tasks: [{ type: 'custom', heading: 'A', summary: 'b' }] },
        { type: 'chatkit.something_new' },
      ],
    });
    const t = await new HostedChatKitSource(client).fetch(id, { assistantName: 'Roxana' });
    expect(t.lines.map((l) => [l.speaker, l.text, l.quote])).toEqual([
      ['Customer', 'Great, see photo', 'We open at 8'],
      ['Roxana', 'Thanks!', null],
      ['Event', 'Tool call: get_location (completed)', null],
      ['Event', 'Task: Checking hours', null],
      ['Event', 'Tasks: A: b', null],
    ]);
    expect(t.lines[0]!.attachments).toEqual([expect.objectContaining({ name: 'dent.jpg', previewUrl: 'https://cdn.example/dent.jpg' })]);
    expect(t.skipped).toEqual({ widget: 1, something_new: 1 });
    expect(t.itemCount).toBe(7);
  });

  it('throws ThreadNotFoundError for an unknown thread', async () => {
    await expect(new HostedChatKitSource(client).fetch('cthr_nope', { assistantName: 'R' })).rejects.toBeInstanceOf(ThreadNotFoundError);
  });
});
