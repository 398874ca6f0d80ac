import { randomBytes } from 'node:crypto';
import { ApiError } from './errors';
import type OpenAI from 'openai';
import { EmulatorState, newId, type Session, type Thread, type ThreadItem } from './state';

/** The hosted API's user message, as the openai SDK declares it (what the emulator must answer). */
type HostedUserMessage = OpenAI.Beta.ChatKit.Threads.ChatKitThreadUserMessageItem;

/** ChatKit endpoints: sessions and threads, with the shapes and pagination of the real API. */

const nowSeconds = () => Math.floor(Date.now() / 1000);

export function createSession(state: EmulatorState, body: unknown): Session {
  if (!isObject(body)) throw ApiError.invalid('Request body must be a JSON object.', null);
  const { user, workflow, expires_after, rate_limits, chatkit_configuration } = body;
  if (typeof user !== 'string' || user.length === 0) throw ApiError.invalid("Missing required parameter: 'user'.", 'user');
  if (!isObject(workflow) || typeof workflow.id !== 'string' || workflow.id.length === 0) {
    throw ApiError.invalid("Missing required parameter: 'workflow.id'.", 'workflow.id');
  }
  const vars = workflow.state_variables;
  if (vars !== undefined && vars !== null) {
    if (!isObject(vars))
      throw ApiError.invalid("Invalid type for 'workflow.state_variables': expected an object.", 'workflow.state_variables');
    for (const [k, v] of Object.entries(vars)) {
      if (k.length > 64)
        throw ApiError.invalid(`State variable key '${k.slice(0, 70)}' is longer than 64 characters.`, 'workflow.state_variables');
      if (!['string', 'number', 'boolean'].includes(typeof v)) {
        throw ApiError.invalid(
          `Invalid type for 'workflow.state_variables.${k}': expected a string, number or boolean.`,
          `workflow.state_variables.${k}`,
        );
      }
    }
  }
  let seconds = 600;
  if (expires_after !== undefined) {
    if (
      !isObject(expires_after) ||
      expires_after.anchor !== 'created_at' ||
      !Number.isInteger(expires_after.seconds) ||
      (expires_after.seconds as number) <= 0
    ) {
      throw ApiError.invalid("Invalid 'expires_after': expected {anchor: 'created_at', seconds: positive integer}.", 'expires_after');
    }
    seconds = expires_after.seconds as number;
  }
  let perMinute = 10;
  if (rate_limits !== undefined) {
    if (
      !isObject(rate_limits) ||
      !Number.isInteger(rate_limits.max_requests_per_1_minute) ||
      (rate_limits.max_requests_per_1_minute as number) <= 0
    ) {
      throw ApiError.invalid("Invalid 'rate_limits': expected {max_requests_per_1_minute: positive integer}.", 'rate_limits');
    }
    perMinute = rate_limits.max_requests_per_1_minute as number;
  }
  const id = newId('cksess');
  const session: Session = {
    id,
    object: 'chatkit.session',
    client_secret: `ek_${randomBytes(24).toString('hex')}`,
    expires_at: nowSeconds() + seconds,
    max_requests_per_1_minute: perMinute,
    rate_limits: { max_requests_per_1_minute: perMinute },
    status: 'active',
    user,
    workflow: {
      id: workflow.id,
      version: typeof workflow.version === 'string' ? workflow.version : null,
      state_variables: (vars as Record<string, unknown> | undefined) ?? null,
      tracing: { enabled: isObject(workflow.tracing) ? workflow.tracing.enabled !== false : true },
    },
    chatkit_configuration: {
      automatic_thread_titling: { enabled: true },
      file_upload: { enabled: false, max_file_size: 512, max_files: 10 },
      history: { enabled: true, recent_threads: null },
      ...(isObject(chatkit_configuration) ? chatkit_configuration : {}),
    },
  };
  state.sessions.set(id, session);
  return session;
}

export function cancelSession(state: EmulatorState, id: string): Session {
  const session = state.sessions.get(id);
  if (!session) throw ApiError.notFound(`No session found with id '${id}'.`);
  session.status = 'cancelled';
  return session;
}

/** Admin: stores a hosted thread built from simple role/text items. */
export function seedThread(state: EmulatorState, body: unknown): Thread {
  if (!isObject(body)) throw ApiError.invalid('Body must be a JSON object.', null);
  if (typeof body.user !== 'string' || !body.user) throw ApiError.invalid("'user' is required.", 'user');
  if (!Array.isArray(body.items)) throw ApiError.invalid("'items' must be an array.", 'items');
  const id = typeof body.id === 'string' ? body.id : newId('cthr');
  if (!/^cthr_[A-Za-z0-9_-]{1,128}$/.test(id)) throw ApiError.invalid("'id' must look like cthr_...", 'id');
  if (state.threads.has(id)) throw ApiError.invalid(`A thread with id '${id}' exists.`, 'id');
  const created = typeof body.created_at === 'number' ? body.created_at : nowSeconds();
  const thread: Thread = {
    id,
    object: 'chatkit.thread',
    created_at: created,
    title: typeof body.title === 'string' ? body.title : null,
    user: body.user,
    status: { type: 'active' },
    items: [],
  };
  body.items.forEach((raw: unknown, i: number) => {
    if (!isObject(raw)) throw ApiError.invalid(`items[${i}] must be an object.`, `items[${i}]`);
    thread.items.push(seedItem(id, raw, created + i, i, state));
  });
  state.threads.set(id, thread);
  return thread;
}

/** Admin: appends items to a stored thread (a conversation that goes on). */
export function appendItems(state: EmulatorState, threadId: string, body: unknown): Thread {
  const thread = state.threads.get(threadId);
  if (!thread) throw ApiError.notFound(`No thread found with id '${threadId}'.`);
  if (!isObject(body) || !Array.isArray(body.items)) throw ApiError.invalid("'items' must be an array.", 'items');
  const last = thread.items[thread.items.length - 1]?.created_at ?? thread.created_at;
  const start = Math.max(last + 1, nowSeconds());
  body.items.forEach((raw: unknown, i: number) => {
    if (!isObject(raw)) throw ApiError.invalid(`items[${i}] must be an object.`, `items[${i}]`);
    thread.items.push(seedItem(threadId, raw, start + i, i, state));
  });
  return thread;
}

function seedItem(threadId: string, raw: Record<string, unknown>, createdAt: number, i: number, state: EmulatorState): ThreadItem {
  const base = { id: newId('cthi'), object: 'chatkit.thread_item' as const, thread_id: threadId, created_at: createdAt };
  // Any other item type (widget, client tool call, task...) is stored as given, so tests can seed them.
  if (typeof raw.type === 'string') return { ...raw, ...base, type: raw.type } as ThreadItem;
  if (typeof raw.text !== 'string') throw ApiError.invalid(`items[${i}].text must be a string.`, `items[${i}].text`);
  if (raw.role === 'user') {
    const attachments: HostedUserMessage['attachments'] = Array.isArray(raw.attachments)
      ? raw.attachments.map((a: unknown, j: number) => {
          if (!isObject(a) || typeof a.name !== 'string' || typeof a.mime_type !== 'string') {
            throw ApiError.invalid(`items[${i}].attachments[${j}] needs name and mime_type.`, `items[${i}].attachments`);
          }
          const id = newId('cfile');
          // Bytes given: the emulator serves them, as the hosted CDN served previews.
          if (typeof a.content_base64 === 'string')
            state.files.set(id, { bytes: Buffer.from(a.content_base64, 'base64'), mimeType: a.mime_type });
          return {
            id,
            name: a.name,
            mime_type: a.mime_type,
            preview_url:
              typeof a.content_base64 === 'string'
                ? `${state.origin}/files/${id}`
                : typeof a.preview_url === 'string'
                  ? a.preview_url
                  : null,
            type: a.mime_type.startsWith('image/') ? 'image' : 'file',
          };
        })
      : [];
    const content: HostedUserMessage['content'] = [];
    if (typeof raw.quoted_text === 'string') content.push({ type: 'quoted_text', text: raw.quoted_text });
    content.push({ type: 'input_text', text: raw.text });
    // The built-in shapes are the hosted API's as the openai SDK declares them.
    return { ...base, type: 'chatkit.user_message', content, attachments, inference_options: null } satisfies HostedUserMessage;
  }
  if (raw.role === 'assistant') {
    return {
      ...base,
      type: 'chatkit.assistant_message',
      content: [{ type: 'output_text', text: raw.text, annotations: [] }],
    } satisfies OpenAI.Beta.ChatKit.Threads.ChatKitThreadAssistantMessageItem;
  }
  throw ApiError.invalid(`items[${i}].role must be 'user' or 'assistant'.`, `items[${i}].role`);
}

export function threadView(t: Thread) {
  const { items: _items, ...rest } = t;
  return rest;
}

export function getThread(state: EmulatorState, id: string): Thread {
  const t = state.threads.get(id);
  if (!t) throw ApiError.notFound(`No thread found with id '${id}'.`);
  return t;
}

export function deleteThread(state: EmulatorState, id: string) {
  getThread(state, id);
  state.threads.delete(id);
  return { id, object: 'chatkit.thread.deleted', deleted: true };
}

export function listThreads(state: EmulatorState, query: URLSearchParams) {
  const user = query.get('user');
  const all = [...state.threads.values()].filter((t) => !user || t.user === user).map(threadView);
  return paginate(all, query);
}

export function listItems(state: EmulatorState, id: string, query: URLSearchParams) {
  return paginate(getThread(state, id).items, query);
}

/**
 * Cursor pagination as the API does it: `after`/`before` are ids read relative to the requested
 * order (default desc), `limit` 1..100 (default 20).
 */
function paginate<T extends { id: string }>(all: T[], query: URLSearchParams) {
  const order = query.get('order') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw ApiError.invalid("Invalid 'order': expected 'asc' or 'desc'.", 'order');
  const limitRaw = query.get('limit');
  const limit = limitRaw === null ? 20 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    throw ApiError.invalid("Invalid 'limit': expected an integer from 1 to 100.", 'limit');
  let list = order === 'asc' ? [...all] : [...all].reverse();
  const after = query.get('after');
  const before = query.get('before');
  if (after) {
    const i = list.findIndex((x) => x.id === after);
    if (i < 0) throw ApiError.invalid(`Invalid 'after': no object with id '${after}'.`, 'after');
    list = list.slice(i + 1);
  }
  if (before) {
    const i = list.findIndex((x) => x.id === before);
    if (i < 0) throw ApiError.invalid(`Invalid 'before': no object with id '${before}'.`, 'before');
    list = list.slice(0, i);
    // `before` pages end next to the cursor.
    const data = list.slice(Math.max(0, list.length - limit));
    return envelope(data, list.length > limit);
  }
  const data = list.slice(0, limit);
  return envelope(data, list.length > limit);
}

function envelope<T extends { id: string }>(data: T[], hasMore: boolean) {
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null, has_more: hasMore };
}

export function isObject(v: unknown): v is Record<string, any> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
