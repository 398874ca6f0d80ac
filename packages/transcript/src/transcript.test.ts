import OpenAI from 'openai';
import { emulator, emulatorBaseURL } from '@lead-intake/testkit';
import {
  extractContacts,
  formatForModel,
  HostedChatKitSource,
  isSendableAddress,
  normalizeItems,
  ThreadNotFoundError,
  type TranscriptLine,
  type SourceItem,
} from './index';

const customer = (text: string, quote: string | null = null): TranscriptLine => ({
  itemId: 'i',
  createdAt: 0,
  role: 'customer',
  speaker: 'Customer',
  text,
  quote,
  attachments: [],
});
const assistant = (text: string): TranscriptLine => ({ ...customer(text), role: 'assistant', speaker: 'Roxana' });
const SHOP = '+14083793820';

describe('extractContacts', () => {
  it('finds emails (lower-cased, de-duplicated) and phones in E.164, in order of appearance', () => {
    const c = extractContacts(
      [
        customer('Reach me at Ana.Lopez@Example.com or (650) 253-0000.'),
        customer('Or ana.lopez@example.com, 650.253.0000, and my work line +1 415 555 2671'),
      ],
      { shopPhone: SHOP },
    );
    expect(c.emails).toEqual(['ana.lopez@example.com']);
    expect(c.phones).toEqual(['+16502530000', '+14155552671']);
  });

  it("excludes the shop's own number however it is written", () => {
    const spellings = [
      '(408) 379-3820',
      '408-379-3820',
      '408.379.3820',
      '4083793820',
      '+1 408 379 3820',
      '+14083793820',
      '1-408-379-3820',
      '+1 (408) 379-3820',
    ];
    const c = extractContacts(
      spellings.map((s) => customer(`Is this your number ${s}?`)),
      { shopPhone: SHOP },
    );
    expect(c.phones).toEqual([]);
  });

  it('parses international numbers, and national ones with the shop country as default', () => {
    const c = extractContacts([customer('Mi número es +52 55 1234 5678, o en UK +44 20 7946 0958. Local: 510 555 0199 or 510-883-1234')], {
      shopPhone: SHOP,
    });
    expect(c.phones).toEqual(['+525512345678', '+442079460958', '+15105550199', '+15108831234']);
  });

  it('reads only customer lines, never the assistant or quoted text', () => {
    const c = extractContacts(
      [
        assistant('Call us at 650-253-0000 or write to shop@craigs.autos'),
        customer('Thanks!', 'write to shop@craigs.autos or 650-253-0001'),
      ],
      { shopPhone: SHOP },
    );
    expect(c).toEqual({ emails: [], phones: [] });
  });

  it('ignores digit runs inside email addresses and things that are not numbers', () => {
    const c = extractContacts([customer('my email is user4155552671@mail.com and my car is a 2012 model with 120000 miles')], {
      shopPhone: SHOP,
    });
    expect(c).toEqual({ emails: ['user4155552671@mail.com'], phones: [] });
  });
});

describe('addresses that cannot be sent to (issue: one odd address lost a lead)', () => {
  it.each([
    ['dots before the @', 'my email is ...@example.com and phone (415) 723-4603'],
    ['a lone dot', 'email .@gmail.com, phone (415) 723-4603'],
    ['a local part over 64 characters', `write to ${'a'.repeat(1500)}@example.com or call (415) 723-4603`],
    ['two dots in a row', 'mail jo..hn@example.com, or (415) 723-4603'],
  ])('%s is not a contact; the phone still is', (_label, text) => {
    const c = extractContacts([customer(text)], { shopPhone: SHOP });
    expect(c.emails).toEqual([]);
    expect(c.phones).toEqual(['+14157234603']);
  });

  it('invisible characters do not split an address', () => {
    for (const ch of ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD']) {
      expect(extractContacts([customer(`write to jo${ch}hn@exa${ch}mple.com`)], { shopPhone: SHOP }).emails).toEqual(['john@example.com']);
    }
  });

  it('isSendableAddress is the one rule, shared with the mailer', () => {
    expect(['a@b.co', "o'brien+cars@mail.example.org", `${'x'.repeat(64)}@example.com`].every(isSendableAddress)).toBe(true);
    expect(
      [
        '@b.co',
        '.a@b.co',
        'a.@b.co',
        'a..b@c.co',
        `${'x'.repeat(65)}@example.com`,
        'a@b',
        'a@-b.co',
        'a b@c.co',
        'a@b.co\r\nBcc: x@y.z',
      ].some(isSendableAddress),
    ).toBe(false);
  });
});

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
