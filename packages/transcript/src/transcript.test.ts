import OpenAI from 'openai';
import { emulator, emulatorBaseURL } from '@lead-intake/testkit';
import { formatForModel, HostedChatKitSource, normalizeItems, ThreadNotFoundError, type SourceItem } from './index';

describe('normalizeItems', () => {
  it('labels speakers, marks quotes, lists attachments, and handles every other item type deliberately', () => {
    const { lines, skipped } = normalizeItems(
      [
        {
          id: '1',
          type: 'chatkit.user_message',
          created_at: 100,
          content: [
            { type: 'quoted_text', text: 'We open at 8' },
            { type: 'input_text', text: 'Great, see photo' },
          ],
          attachments: [
            { id: 'a', name: 'dent.jpg', mime_type: 'image/jpeg', preview_url: 'https://cdn.example/dent.jpg', type: 'image' },
            { id: 'b', name: 'x.pdf', mime_type: 'application/pdf', preview_url: 'javascript:alert(1)', type: 'file' },
          ],
        },
        {
          id: '2',
          type: 'chatkit.assistant_message',
          created_at: 101,
          content: [{ type: 'output_text', text: 'Thanks!', annotations: [] }],
        },
        { id: '3', type: 'chatkit.widget', created_at: 102, widget: '{}' },
        {
          id: '4',
          type: 'chatkit.client_tool_call',
          created_at: 103,
          name: 'get_location',
          call_id: 'c',
          arguments: '{}',
          output: null,
          status: 'completed',
        },
        { id: '5', type: 'chatkit.task', created_at: 104, task_type: 'thought', heading: 'Checking hours', summary: null },
        { id: '6', type: 'chatkit.task_group', created_at: 105, tasks: [{ type: 'custom', heading: 'A', summary: 'b' }] },
        {
          id: '7',
          type: 'user_message',
          created_at: '2026-11-25T19:21:15.333567',
          content: [{ type: 'input_text', text: 'self-hosted' }],
          quoted_text: 'q',
          attachments: [],
        },
        { id: '8', type: 'hidden_context_item', created_at: 0, content: 'secret' },
        { id: '9', type: 'something.new', created_at: 0 },
      ] as unknown as SourceItem[], // partial and unknown items on purpose: the normalizer reads defensively
      'Roxana',
    );
    expect(lines.map((l) => [l.speaker, l.text])).toEqual([
      ['Customer', 'Great, see photo'],
      ['Roxana', 'Thanks!'],
      ['Event', 'Tool call: get_location (completed)'],
      ['Event', 'Task: Checking hours'],
      ['Event', 'Tasks: A: b'],
      ['Customer', 'self-hosted'],
    ]);
    expect(lines[0]!.quote).toBe('We open at 8');
    expect(lines[0]!.attachments).toEqual([
      { id: 'a', name: 'dent.jpg', mimeType: 'image/jpeg', previewUrl: 'https://cdn.example/dent.jpg' },
      { id: 'b', name: 'x.pdf', mimeType: 'application/pdf', previewUrl: null },
    ]);
    expect(lines[5]).toMatchObject({ quote: 'q', createdAt: Date.UTC(2026, 10, 25, 19, 21, 15) / 1000 });
    expect(skipped).toEqual({ widget: 1, hidden_context_item: 1, 'something.new': 1 });
    expect(formatForModel(lines.slice(0, 2))).toBe(
      'Customer: (quoting: "We open at 8") Great, see photo [attachment: ' +
        'dent.jpg, image/jpeg] [attachment: x.pdf, application/pdf]\nRoxana: Thanks!',
    );
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
    expect(t.lastItemId).toMatch(/^cthi_/);
    const pages = (await admin.requests()).filter((r) => r.path.endsWith('/items'));
    expect(pages).toHaveLength(5);
    expect(pages.every((p) => p.query.order === 'asc')).toBe(true);
  });

  it('throws ThreadNotFoundError for an unknown thread', async () => {
    await expect(new HostedChatKitSource(client).fetch('cthr_nope', { assistantName: 'R' })).rejects.toBeInstanceOf(ThreadNotFoundError);
  });
});
