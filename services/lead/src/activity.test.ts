import { execFileSync } from 'node:child_process';
import type { DynamoDBRecord } from 'aws-lambda';
import { activityByThread, earliestFailure } from './activity';

/** Stream records as the thread table's stream delivers them (NEW_IMAGE). */
const rec = (
  seq: string,
  pk: string,
  sk: string,
  item: Record<string, unknown> | null,
  eventName = 'INSERT',
  more: Record<string, { S: string }> = {},
): DynamoDBRecord =>
  ({
    eventName,
    dynamodb: {
      SequenceNumber: seq,
      ApproximateCreationDateTime: 1_900_000_000,
      Keys: { pk: { S: pk }, sk: { S: sk } },
      NewImage: item ? { pk: { S: pk }, sk: { S: sk }, data: { S: JSON.stringify(item) }, ...more } : undefined,
    },
  }) as DynamoDBRecord;
const t = (iso: string) => Math.floor(Date.parse(iso) / 1000);

describe('activityByThread', () => {
  it('takes each thread’s newest item time and whether an assistant turn completed, in batch order', () => {
    const { threads, ignored } = activityByThread(
      [
        rec('100', 'THREAD#cthr_a', 'ITM#1#msg', { type: 'user_message', created_at: '2030-03-17T17:46:40.000Z' }),
        rec('101', 'THREAD#cthr_b', 'ITM#1#msg', { type: 'user_message', created_at: '2030-03-17T17:46:41.000Z' }),
        rec('102', 'THREAD#cthr_a', 'ITM#2#msg', { type: 'assistant_message', created_at: '2030-03-17T17:46:45.500Z' }),
      ],
      { notBefore: 0 },
    );
    expect(ignored).toBe(0);
    expect(threads).toEqual([
      {
        threadId: 'cthr_a',
        activityAt: t('2030-03-17T17:46:45Z'),
        turnDone: true,
        requests: [],
        mayHaveContact: false,
        firstSequence: '100',
      },
      {
        threadId: 'cthr_b',
        activityAt: t('2030-03-17T17:46:41Z'),
        turnDone: false,
        requests: [],
        mayHaveContact: false,
        firstSequence: '101',
      },
    ]);
  });

  it('takes the thread’s owner from an item row that carries it, from any record of the batch', () => {
    const msg = (type: string) => ({ type, created_at: '2030-03-17T17:46:40.000Z' });
    const { threads } = activityByThread(
      [
        rec('1', 'THREAD#cthr_late', 'ITM#1#msg', msg('user_message')), // written by an instance that had not proven it
        rec('2', 'THREAD#cthr_late', 'ITM#2#msg', msg('assistant_message'), 'INSERT', { user: { S: 'usr_ana' } }),
        rec('3', 'THREAD#cthr_first', 'ITM#1#msg', msg('user_message'), 'INSERT', { user: { S: 'usr_bo' } }),
        rec('4', 'THREAD#cthr_first', 'ITM#2#msg', msg('assistant_message')),
        rec('5', 'THREAD#cthr_none', 'ITM#1#msg', msg('user_message'), 'INSERT', { user: { S: '' } }),
      ],
      { notBefore: 0 },
    );
    expect(Object.fromEntries(threads.map((x) => [x.threadId, x.owner ?? null]))).toEqual({
      cthr_late: 'usr_ana',
      cthr_first: 'usr_bo',
      cthr_none: null, // the scheduler reads it from the thread
    });
  });

  it('marks a thread where the customer asked for a call back or a drop-off time (a recorded request), not other hidden notes', () => {
    const at = '2030-03-17T17:46:40.000Z';
    const { threads } = activityByThread(
      [
        rec('1', 'THREAD#cthr_cb', 'ITM#1#hcx', {
          id: 'hcx_1',
          type: 'hidden_context_item',
          created_at: at,
          content: { type: 'callback_request' },
        }),
        rec('2', 'THREAD#cthr_visit', 'ITM#1#hcx', {
          id: 'hcx_2',
          type: 'hidden_context_item',
          created_at: at,
          content: { type: 'visit_request' },
        }),
        // The same request delivered twice in a batch, and a second one of the same thread: each once, in order.
        rec('5', 'THREAD#cthr_cb', 'ITM#1#hcx', {
          id: 'hcx_1',
          type: 'hidden_context_item',
          created_at: at,
          content: { type: 'callback_request' },
        }),
        rec('6', 'THREAD#cthr_cb', 'ITM#2#hcx', {
          id: 'hcx_3',
          type: 'hidden_context_item',
          created_at: at,
          content: { type: 'callback_request' },
        }),
        rec('3', 'THREAD#cthr_note', 'ITM#1#shcx', {
          type: 'sdk_hidden_context',
          created_at: at,
          content: 'The user cancelled the stream.',
        }),
        rec('4', 'THREAD#cthr_odd', 'ITM#1#hcx', { type: 'hidden_context_item', created_at: at, content: 'callback_request' }),
      ],
      { notBefore: 0 },
    );
    expect(threads.map((x) => [x.threadId, x.requests, x.turnDone, x.mayHaveContact])).toEqual([
      ['cthr_cb', ['hcx_1', 'hcx_3'], false, true], // a request: the scheduler evaluates it whatever it holds
      ['cthr_visit', ['hcx_2'], false, true],
      ['cthr_note', [], false, false],
      ['cthr_odd', [], false, false],
    ]);
  });

  it('ignores what is not a new item (thread rows, updates, removals) and items older than the limit (imports)', () => {
    const { threads, ignored } = activityByThread(
      [
        rec('1', 'THREAD#cthr_a', 'META', { id: 'cthr_a' }),
        rec('2', 'THREAD#cthr_a', 'ITM#1#msg', { type: 'assistant_message', created_at: '2030-01-01T00:00:00Z' }, 'MODIFY'),
        rec('3', 'THREAD#cthr_a', 'ITM#1#msg', null, 'REMOVE'),
        rec('4', 'USER#u', 'ITM#1#msg', { type: 'user_message', created_at: '2030-01-01T00:00:00Z' }),
        rec('5', 'THREAD#cthr_old', 'ITM#1#msg', { type: 'user_message', created_at: '2020-01-01T00:00:00Z' }),
      ],
      { notBefore: t('2029-01-01T00:00:00Z') },
    );
    expect(threads).toEqual([]);
    expect(ignored).toBe(5);
  });

  it('reads an item’s time as the transcript does: a time without a zone is UTC, whatever the machine’s zone', () => {
    // In a process of its own: the zone is the process's (Jest's own process.env does not reach it).
    const script = [
      `const { activityByThread } = require(${JSON.stringify(require.resolve('./activity'))});`,
      `const item = { type: 'user_message', created_at: '2030-03-17T17:46:40' };`,
      `const r = { eventName: 'INSERT', dynamodb: { SequenceNumber: '1', Keys: { pk: { S: 'THREAD#cthr_z' }, sk: { S: 'ITM#1' } },`,
      `  NewImage: { data: { S: JSON.stringify(item) } } } };`,
      `process.stdout.write(String(activityByThread([r], { notBefore: 0 }).threads[0].activityAt));`,
    ].join('\n');
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
      env: { ...process.env, TZ: 'America/Los_Angeles' },
      encoding: 'utf8',
    });
    expect(Number(out)).toBe(Date.UTC(2030, 2, 17, 17, 46, 40) / 1000);
  });

  it('falls back to the stream time when the item cannot be read (and takes it as one that may hold a contact)', () => {
    const r = rec('7', 'THREAD#cthr_a', 'ITM#1#msg', null);
    r.dynamodb!.NewImage = { data: { S: 'not json' } };
    expect(activityByThread([r], { notBefore: 0 }).threads[0]).toMatchObject({
      activityAt: 1_900_000_000,
      turnDone: false,
      mayHaveContact: true,
    });
  });

  it("tells whether the customer's words in the batch could hold a contact: their messages only, never the assistant's or a quote", () => {
    const at = '2030-03-17T17:46:40.000Z';
    const user = (text: string, quoted_text?: string) => ({
      type: 'user_message',
      created_at: at,
      content: [{ type: 'input_text', text }],
      attachments: [],
      ...(quoted_text ? { quoted_text } : {}),
    });
    const assistant = (text: string) => ({ type: 'assistant_message', created_at: at, content: [{ type: 'output_text', text }] });
    const { threads } = activityByThread(
      [
        rec('1', 'THREAD#cthr_phone', 'ITM#1#msg', user('Brakes squeak')),
        rec('2', 'THREAD#cthr_phone', 'ITM#2#msg', user('call me on 415-555-0440')),
        rec('3', 'THREAD#cthr_email', 'ITM#1#msg', user('ana@example.com')),
        rec('4', 'THREAD#cthr_none', 'ITM#1#msg', user('Are you open Saturday?')),
        rec('5', 'THREAD#cthr_none', 'ITM#2#msg', assistant('Yes, call us at (408) 379-3820 or write to shop@craigs.autos')),
        rec('6', 'THREAD#cthr_quote', 'ITM#1#msg', user('Is that right?', 'Call us at (408) 379-3820')),
      ],
      { notBefore: 0 },
    );
    expect(threads.map((x) => [x.threadId, x.mayHaveContact])).toEqual([
      ['cthr_phone', true],
      ['cthr_email', true],
      ['cthr_none', false],
      ['cthr_quote', false],
    ]);
  });
});

describe('earliestFailure', () => {
  it('names the smallest sequence number (numerically: they are longer than any JS number)', () => {
    const a = {
      threadId: 'a',
      activityAt: 0,
      turnDone: false,
      requests: [],
      mayHaveContact: false,
      firstSequence: '900000000000000000000000001',
    };
    const b = { threadId: 'b', activityAt: 0, turnDone: false, requests: [], mayHaveContact: false, firstSequence: '99' };
    expect(earliestFailure([a, b])).toBe('99');
    expect(earliestFailure([])).toBeNull();
  });
});
