/**
 * The conformance script: requests sent in order to a ChatKit server, as one or two users. Each
 * step may save values from its answer (`save`: name -> path into the answer) that later steps
 * use as `$name` inside their body. The same script is recorded from the official server
 * (record.ts, into official-*.json) and replayed against ours (conformance.test.ts).
 */
export interface Step {
  name: string;
  user: 'alice' | 'bob';
  body: unknown;
  /** name -> path such as `events.0.thread.id` or `body.data.0.id`. */
  save?: Record<string, string>;
}

const text = (t: string) => ({ content: [{ type: 'input_text', text: t }], attachments: [], inference_options: {} });
const long = 'A very long title '.repeat(20);

export const SCRIPT: Step[] = [
  // A conversation.
  {
    name: 'create',
    user: 'alice',
    body: { type: 'threads.create', params: { input: text('Hello') } },
    save: { T: 'events.0.thread.id', U1: 'events.1.item.id' },
  },
  {
    name: 'add message',
    user: 'alice',
    body: { type: 'threads.add_user_message', params: { thread_id: '$T', input: text('Brakes') } },
    save: { U2: 'events.0.item.id' },
  },
  {
    name: 'add message with tag, quote and options',
    user: 'alice',
    body: {
      type: 'threads.add_user_message',
      params: {
        thread_id: '$T',
        input: {
          content: [
            { type: 'input_text', text: 'See ' },
            { type: 'input_tag', id: 'tag_1', text: 'Civic', data: { year: 2012 } },
          ],
          attachments: [],
          quoted_text: 'earlier words',
          inference_options: { model: 'gpt-x', tool_choice: { id: 'search' } },
        },
      },
    },
  },
  {
    name: 'add message with metadata',
    user: 'alice',
    body: {
      type: 'threads.add_user_message',
      metadata: { app: 'x' },
      params: { thread_id: '$T', input: text('Thanks') },
      extra: 'ignored',
    },
  },
  { name: 'get by id', user: 'alice', body: { type: 'threads.get_by_id', params: { thread_id: '$T' } } },
  // Paging threads.
  {
    name: 'second thread',
    user: 'alice',
    body: { type: 'threads.create', params: { input: text('Second') } },
    save: { T2: 'events.0.thread.id' },
  },
  { name: 'list threads', user: 'alice', body: { type: 'threads.list', params: {} } },
  { name: 'list threads limit 1', user: 'alice', body: { type: 'threads.list', params: { limit: 1 } }, save: { TC: 'body.after' } },
  { name: 'list threads after cursor', user: 'alice', body: { type: 'threads.list', params: { limit: 1, after: '$TC' } } },
  { name: 'list threads asc', user: 'alice', body: { type: 'threads.list', params: { order: 'asc' } } },
  { name: 'list threads limit 0', user: 'alice', body: { type: 'threads.list', params: { limit: 0 } } },
  { name: 'list threads limit null', user: 'alice', body: { type: 'threads.list', params: { limit: null } } },
  { name: 'list threads limit string', user: 'alice', body: { type: 'threads.list', params: { limit: '1' } } },
  { name: 'list threads limit 500', user: 'alice', body: { type: 'threads.list', params: { limit: 500 } } },
  { name: 'list threads limit integral float', user: 'alice', body: { type: 'threads.list', params: { limit: 1.0 } } },
  { name: 'list threads limit negative', user: 'alice', body: { type: 'threads.list', params: { limit: -1 } } },
  { name: 'list threads limit fraction', user: 'alice', body: { type: 'threads.list', params: { limit: 1.5 } } },
  { name: 'list threads limit word', user: 'alice', body: { type: 'threads.list', params: { limit: 'ten' } } },
  { name: 'list threads bad order', user: 'alice', body: { type: 'threads.list', params: { order: 'sideways' } } },
  { name: 'list threads unknown cursor', user: 'alice', body: { type: 'threads.list', params: { after: 'cthr_unknown' } } },
  { name: 'list threads of another user', user: 'bob', body: { type: 'threads.list', params: {} } },
  // Paging items.
  { name: 'list items', user: 'alice', body: { type: 'items.list', params: { thread_id: '$T' } } },
  {
    name: 'list items limit 2 desc',
    user: 'alice',
    body: { type: 'items.list', params: { thread_id: '$T', limit: 2, order: 'desc' } },
    save: { IC: 'body.after' },
  },
  {
    name: 'list items after cursor',
    user: 'alice',
    body: { type: 'items.list', params: { thread_id: '$T', limit: 2, order: 'desc', after: '$IC' } },
  },
  { name: 'list items asc', user: 'alice', body: { type: 'items.list', params: { thread_id: '$T', order: 'asc', limit: 3 } } },
  { name: 'list items limit 0', user: 'alice', body: { type: 'items.list', params: { thread_id: '$T', limit: 0 } } },
  { name: 'list items limit string', user: 'alice', body: { type: 'items.list', params: { thread_id: '$T', limit: '2' } } },
  { name: 'list items limit 500', user: 'alice', body: { type: 'items.list', params: { thread_id: '$T', limit: 500 } } },
  { name: 'list items unknown cursor', user: 'alice', body: { type: 'items.list', params: { thread_id: '$T', after: 'msg_unknown' } } },
  { name: 'list items unknown thread', user: 'alice', body: { type: 'items.list', params: { thread_id: 'cthr_unknown' } } },
  { name: 'list items of another user', user: 'bob', body: { type: 'items.list', params: { thread_id: '$T' } } },
  { name: 'list items missing thread id', user: 'alice', body: { type: 'items.list', params: {} } },
  // Renaming.
  { name: 'rename', user: 'alice', body: { type: 'threads.update', params: { thread_id: '$T2', title: 'Renamed' } } },
  { name: 'rename to empty', user: 'alice', body: { type: 'threads.update', params: { thread_id: '$T2', title: '' } } },
  { name: 'rename long', user: 'alice', body: { type: 'threads.update', params: { thread_id: '$T2', title: long } } },
  { name: 'rename with a number', user: 'alice', body: { type: 'threads.update', params: { thread_id: '$T2', title: 5 } } },
  { name: 'rename without title', user: 'alice', body: { type: 'threads.update', params: { thread_id: '$T2' } } },
  { name: 'rename unknown thread', user: 'alice', body: { type: 'threads.update', params: { thread_id: 'cthr_unknown', title: 'x' } } },
  { name: 'rename another user’s thread', user: 'bob', body: { type: 'threads.update', params: { thread_id: '$T2', title: 'mine' } } },
  // Refusals of streaming requests (before any stream).
  { name: 'get unknown thread', user: 'alice', body: { type: 'threads.get_by_id', params: { thread_id: 'cthr_unknown' } } },
  { name: 'get another user’s thread', user: 'bob', body: { type: 'threads.get_by_id', params: { thread_id: '$T' } } },
  {
    name: 'add message to unknown thread',
    user: 'alice',
    body: { type: 'threads.add_user_message', params: { thread_id: 'cthr_unknown', input: text('Hi') } },
  },
  {
    name: 'add message to another user’s thread',
    user: 'bob',
    body: { type: 'threads.add_user_message', params: { thread_id: '$T', input: text('Hi') } },
  },
  { name: 'add message without params', user: 'alice', body: { type: 'threads.add_user_message', params: {} } },
  { name: 'add message without thread id', user: 'alice', body: { type: 'threads.add_user_message', params: { input: text('Hi') } } },
  {
    name: 'add message without attachments list',
    user: 'alice',
    body: {
      type: 'threads.add_user_message',
      params: { thread_id: '$T', input: { content: [{ type: 'input_text', text: 'Hi' }], inference_options: {} } },
    },
  },
  {
    name: 'add message without inference options',
    user: 'alice',
    body: {
      type: 'threads.add_user_message',
      params: { thread_id: '$T', input: { content: [{ type: 'input_text', text: 'Hi' }], attachments: [] } },
    },
  },
  {
    name: 'add message with unknown content type',
    user: 'alice',
    body: {
      type: 'threads.add_user_message',
      params: { thread_id: '$T', input: { content: [{ type: 'image', url: 'x' }], attachments: [], inference_options: {} } },
    },
  },
  {
    name: 'add message with text not a string',
    user: 'alice',
    body: {
      type: 'threads.add_user_message',
      params: { thread_id: '$T', input: { content: [{ type: 'input_text', text: 5 }], attachments: [], inference_options: {} } },
    },
  },
  { name: 'create without input', user: 'alice', body: { type: 'threads.create', params: {} } },
  { name: 'create with empty text', user: 'alice', body: { type: 'threads.create', params: { input: text('') } } },
  {
    name: 'create with unknown attachment',
    user: 'alice',
    body: {
      type: 'threads.create',
      params: { input: { content: [{ type: 'input_text', text: 'photo' }], attachments: ['atc_unknown'], inference_options: {} } },
    },
  },
  {
    name: 'retry unknown thread',
    user: 'alice',
    body: { type: 'threads.retry_after_item', params: { thread_id: 'cthr_unknown', item_id: '$U1' } },
  },
  {
    name: 'retry another user’s thread',
    user: 'bob',
    body: { type: 'threads.retry_after_item', params: { thread_id: '$T', item_id: '$U1' } },
  },
  {
    name: 'retry unknown item',
    user: 'alice',
    body: { type: 'threads.retry_after_item', params: { thread_id: '$T', item_id: 'msg_unknown' } },
  },
  { name: 'unknown request type', user: 'alice', body: { type: 'threads.nope', params: {} } },
  { name: 'no type', user: 'alice', body: { params: {} } },
  // Other requests.
  {
    name: 'custom action',
    user: 'alice',
    body: { type: 'threads.custom_action', params: { thread_id: '$T', item_id: null, action: { type: 'approve', payload: { id: 1 } } } },
  },
  {
    name: 'custom action unknown thread',
    user: 'alice',
    body: { type: 'threads.custom_action', params: { thread_id: 'cthr_unknown', action: { type: 'approve' } } },
  },
  {
    name: 'custom action from a message',
    user: 'alice',
    body: { type: 'threads.custom_action', params: { thread_id: '$T', item_id: '$U1', action: { type: 'approve' } } },
  },
  {
    name: 'sync custom action',
    user: 'alice',
    body: { type: 'threads.sync_custom_action', params: { thread_id: '$T', item_id: null, action: { type: 'toggle' } } },
  },
  {
    name: 'client tool output without a pending call',
    user: 'alice',
    body: { type: 'threads.add_client_tool_output', params: { thread_id: '$T', result: { ok: true } } },
  },
  {
    name: 'structured input for unknown item',
    user: 'alice',
    body: {
      type: 'threads.add_structured_input',
      params: { thread_id: '$T', item_id: 'msg_unknown', input: { status: 'answered', answers: {} } },
    },
  },
  { name: 'transcribe', user: 'alice', body: { type: 'input.transcribe', params: { audio_base64: 'AAAA', mime_type: 'audio/webm' } } },
  { name: 'feedback', user: 'alice', body: { type: 'items.feedback', params: { thread_id: '$T', item_ids: ['$U1'], kind: 'positive' } } },
  {
    name: 'feedback bad kind',
    user: 'alice',
    body: { type: 'items.feedback', params: { thread_id: '$T', item_ids: ['$U1'], kind: 'meh' } },
  },
  { name: 'retry', user: 'alice', body: { type: 'threads.retry_after_item', params: { thread_id: '$T', item_id: '$U2' } } },
  { name: 'items after retry', user: 'alice', body: { type: 'items.list', params: { thread_id: '$T', order: 'asc' } } },
  // Deleting.
  { name: 'delete another user’s thread', user: 'bob', body: { type: 'threads.delete', params: { thread_id: '$T' } } },
  { name: 'delete', user: 'alice', body: { type: 'threads.delete', params: { thread_id: '$T' } } },
  { name: 'get deleted thread', user: 'alice', body: { type: 'threads.get_by_id', params: { thread_id: '$T' } } },
  {
    name: 'add message to deleted thread',
    user: 'alice',
    body: { type: 'threads.add_user_message', params: { thread_id: '$T', input: text('Hi') } },
  },
  { name: 'delete again', user: 'alice', body: { type: 'threads.delete', params: { thread_id: '$T' } } },
];

/** What one step answered: the status, and the SSE events or the JSON body. */
export interface Exchange {
  step: string;
  request: unknown;
  status: number;
  contentType: string;
  events?: unknown[];
  /** The stream broke off instead of ending (the official server does this on an error after its first event). */
  aborted?: boolean;
  body?: unknown;
}

/** Replaces `$NAME` strings in a body with saved values. */
export function bind(body: unknown, vars: Record<string, unknown>): unknown {
  if (typeof body === 'string' && body.startsWith('$')) {
    if (!(body.slice(1) in vars)) throw new Error(`conformance script: ${body} was never saved`);
    return vars[body.slice(1)];
  }
  if (Array.isArray(body)) return body.map((b) => bind(b, vars));
  if (body && typeof body === 'object') return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, bind(v, vars)]));
  return body;
}

export function pick(answer: { events?: unknown[]; body?: unknown }, path: string): unknown {
  return path.split('.').reduce<any>((v, k) => (v == null ? undefined : v[k]), answer);
}

/** Runs the script against a server: `auth(user)` gives the Authorization header value. */
export async function runScript(
  url: string,
  auth: (user: Step['user']) => Promise<string> | string,
  beforeStep?: (step: Step) => Promise<void>,
): Promise<Exchange[]> {
  const vars: Record<string, unknown> = {};
  const out: Exchange[] = [];
  for (const step of SCRIPT) {
    await beforeStep?.(step);
    const request = bind(step.body, vars);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: await auth(step.user) },
      body: JSON.stringify(request),
    });
    let raw = '';
    let aborted = false;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) raw += decoder.decode(chunk, { stream: true });
    } catch {
      aborted = true; // e.g. "terminated": the server closed the connection mid-stream
    }
    const contentType = (res.headers.get('content-type') ?? '').split(';')[0]!;
    const ex: Exchange = { step: step.name, request, status: res.status, contentType, ...(aborted ? { aborted } : {}) };
    if (contentType === 'text/event-stream') {
      ex.events = raw
        .split('\n\n')
        .filter((f) => f.startsWith('data: '))
        .map((f) => JSON.parse(f.slice(6)));
    } else {
      try {
        ex.body = JSON.parse(raw);
      } catch {
        ex.body = raw;
      }
    }
    for (const [name, path] of Object.entries(step.save ?? {})) {
      const v = pick(ex, path);
      if (v === undefined) throw new Error(`conformance script: step "${step.name}" has nothing at ${path} (status ${res.status})`);
      vars[name] = v;
    }
    out.push(ex);
  }
  return out;
}
