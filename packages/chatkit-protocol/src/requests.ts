import { InvalidRequestError } from './errors';
import type { InferenceOptions, Order, UserMessageContent } from './types';

/**
 * Every request the ChatKit web client sends (chatkit/types.py `ChatKitReq`), parsed with the
 * official server's leniency (pydantic's lax mode): integers may come as integral floats, numeric
 * strings or booleans; `limit` 0 or null means the default; unknown extra fields are ignored.
 * What it refuses, it refuses with a 400 that names the field.
 */

export interface UserMessageInput {
  content: UserMessageContent[];
  /** Attachment ids (from `attachments.create`). */
  attachments: string[];
  quoted_text?: string;
  inference_options: InferenceOptions;
}

export interface PageParams {
  /** Already defaulted (0 or absent: 20) and clamped to MAX_PAGE_SIZE. */
  limit: number;
  order: Order;
  after?: string;
}

/** The customer's answers to a pending structured input, keyed by its questions' ids. */
export interface StructuredInputSubmission {
  status: 'answered' | 'skipped';
  answers: Record<string, { values: string[]; skipped: boolean }>;
}

export interface CustomActionParams {
  thread_id: string;
  item_id: string | null;
  action: { type: string; payload?: unknown };
}

type Req<T extends string, P> = { type: T; params: P; metadata: Record<string, unknown> };
export type ChatKitRequest =
  | Req<'threads.create', { input: UserMessageInput }>
  | Req<'threads.add_user_message', { thread_id: string; input: UserMessageInput }>
  | Req<'threads.add_client_tool_output', { thread_id: string; result: unknown }>
  | Req<'threads.add_structured_input', { thread_id: string; item_id: string; input: StructuredInputSubmission }>
  | Req<'threads.retry_after_item', { thread_id: string; item_id: string }>
  | Req<'threads.custom_action', CustomActionParams>
  | Req<'threads.get_by_id', { thread_id: string }>
  | Req<'threads.list', PageParams>
  | Req<'items.list', PageParams & { thread_id: string }>
  | Req<'items.feedback', { thread_id: string; item_ids: string[]; kind: 'positive' | 'negative' }>
  | Req<'attachments.create', { name: string; size: number; mime_type: string }>
  | Req<'attachments.delete', { attachment_id: string }>
  | Req<'threads.update', { thread_id: string; title: string }>
  | Req<'threads.delete', { thread_id: string }>
  | Req<'input.transcribe', { audio_base64: string; mime_type: string }>
  | Req<'threads.sync_custom_action', CustomActionParams>;
export type RequestType = ChatKitRequest['type'];
export type StreamingRequest = Extract<ChatKitRequest, { type: (typeof STREAMING_TYPES)[number] }>;
export type JsonRequest = Exclude<ChatKitRequest, StreamingRequest>;

export const STREAMING_TYPES = [
  'threads.create',
  'threads.add_user_message',
  'threads.add_client_tool_output',
  'threads.add_structured_input',
  'threads.retry_after_item',
  'threads.custom_action',
] as const;
export const JSON_TYPES = [
  'threads.get_by_id',
  'threads.list',
  'items.list',
  'items.feedback',
  'attachments.create',
  'attachments.delete',
  'threads.update',
  'threads.delete',
  'input.transcribe',
  'threads.sync_custom_action',
] as const;

export const isStreaming = (r: ChatKitRequest): r is StreamingRequest => (STREAMING_TYPES as readonly string[]).includes(r.type);

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
/** Our bounds on what one message may carry (the official server has none; docs/chatkit-protocol.md). */
export const MAX_MESSAGE_TEXT = 8000;
export const MAX_QUOTED_TEXT = 4000;
export const MAX_TITLE = 200;
/** The ChatKit client sends feedback for one item (a handful at most); a request is bounded. */
export const MAX_FEEDBACK_ITEMS = 50;
export const MAX_ATTACHMENTS_PER_MESSAGE = 16;

/** Ids (threads, items, attachments, page cursors): the shape every id this server mints has, with room for others'. */
export const ID = /^[A-Za-z0-9_-]{1,128}$/;
function checkId(v: string, path: string): string {
  if (!ID.test(v)) throw new InvalidRequestError(`${path} is not an id (1 to 128 of A-Z, a-z, 0-9, _ and -).`);
  return v;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Fields {
  constructor(
    private readonly o: Obj,
    private readonly at: string,
  ) {}
  path(k: string) {
    return this.at ? `${this.at}.${k}` : k;
  }
  private missing(k: string): never {
    throw new InvalidRequestError(`${this.path(k)} is required.`);
  }
  str(k: string): string {
    const v = this.o[k];
    if (v === undefined) this.missing(k);
    if (typeof v !== 'string') throw new InvalidRequestError(`${this.path(k)} must be a string.`);
    return v;
  }
  optStr(k: string): string | undefined {
    const v = this.o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new InvalidRequestError(`${this.path(k)} must be a string or null.`);
    return v;
  }
  int(k: string): number {
    const v = this.o[k];
    if (v === undefined) this.missing(k);
    return laxInt(v, this.path(k));
  }
  optInt(k: string): number | undefined {
    const v = this.o[k];
    return v === undefined || v === null ? undefined : laxInt(v, this.path(k));
  }
  obj(k: string): Obj {
    const v = this.o[k];
    if (v === undefined) this.missing(k);
    if (!isObj(v)) throw new InvalidRequestError(`${this.path(k)} must be an object.`);
    return v;
  }
  fields(k: string): Fields {
    return new Fields(this.obj(k), this.path(k));
  }
  /** An id the store keys on: bounded and of the ids' alphabet, checked before any store call (a 400, never the store's 500). */
  id(k: string): string {
    return checkId(this.str(k), this.path(k));
  }
  optId(k: string): string | undefined {
    const v = this.optStr(k);
    return v === undefined ? undefined : checkId(v, this.path(k));
  }
  idList(k: string): string[] {
    return this.strList(k).map((v, i) => checkId(v, `${this.path(k)}[${i}]`));
  }
  strList(k: string): string[] {
    const v = this.o[k];
    if (v === undefined) this.missing(k);
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw new InvalidRequestError(`${this.path(k)} must be a list of strings.`);
    return v as string[];
  }
  oneOf<T extends string>(k: string, allowed: readonly T[], dflt?: T): T {
    const v = this.o[k];
    if (v === undefined && dflt !== undefined) return dflt;
    if (v === undefined) this.missing(k);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
      throw new InvalidRequestError(`${this.path(k)} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}.`);
    return v as T;
  }
  any(k: string): unknown {
    return this.o[k];
  }
  optObj(k: string): Obj | undefined {
    const v = this.o[k];
    if (v === undefined || v === null) return undefined;
    if (!isObj(v)) throw new InvalidRequestError(`${this.path(k)} must be an object.`);
    return v;
  }
  optArr(k: string): unknown[] | undefined {
    const v = this.o[k];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw new InvalidRequestError(`${this.path(k)} must be a list.`);
    return v;
  }
  optBool(k: string): boolean | undefined {
    const v = this.o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new InvalidRequestError(`${this.path(k)} must be true or false.`);
    return v;
  }
}

/** pydantic's lax int: integers, integral floats, booleans, and strings holding an integer. */
function laxInt(v: unknown, path: string): number {
  let n: number | undefined;
  if (typeof v === 'boolean') n = v ? 1 : 0;
  else if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*[+-]?\d+(\.0*)?\s*$/.test(v)) n = Number.parseFloat(v);
  if (n === undefined || !Number.isFinite(n) || !Number.isInteger(n)) throw new InvalidRequestError(`${path} must be an integer.`);
  return n;
}

function pageParams(f: Fields): PageParams {
  const raw = f.optInt('limit');
  if (raw !== undefined && raw < 0) throw new InvalidRequestError('params.limit must not be negative.');
  const limit = !raw ? DEFAULT_PAGE_SIZE : Math.min(raw, MAX_PAGE_SIZE);
  const after = f.optId('after');
  return { limit, order: f.oneOf('order', ['asc', 'desc'], 'desc'), ...(after !== undefined ? { after } : {}) };
}

function content(v: unknown, path: string): UserMessageContent {
  if (!isObj(v)) throw new InvalidRequestError(`${path} must be an object.`);
  const f = new Fields(v, path);
  const type = f.oneOf('type', ['input_text', 'input_tag']);
  if (type === 'input_text') return { type, text: f.str('text') };
  const group = f.optStr('group');
  const interactive = v.interactive;
  if (interactive !== undefined && typeof interactive !== 'boolean')
    throw new InvalidRequestError(`${path}.interactive must be a boolean.`);
  // The official server defaults `interactive` to false when the client leaves it out.
  return {
    type,
    id: f.str('id'),
    text: f.str('text'),
    data: f.obj('data'),
    ...(group !== undefined ? { group } : {}),
    interactive: interactive ?? false,
  };
}

/** A user message's input. Unlike the official server, a message needs some text or an attachment. */
export function parseUserMessageInput(f: Fields): UserMessageInput {
  const raw = f.obj('input');
  const input = new Fields(raw, 'params.input');
  const list = raw.content;
  if (list === undefined) throw new InvalidRequestError('params.input.content is required.');
  if (!Array.isArray(list)) throw new InvalidRequestError('params.input.content must be a list.');
  const parts = list.map((c, i) => content(c, `params.input.content[${i}]`));
  const attachments = input.idList('attachments');
  if (attachments.length > MAX_ATTACHMENTS_PER_MESSAGE)
    throw new InvalidRequestError(`params.input.attachments holds more than ${MAX_ATTACHMENTS_PER_MESSAGE} ids.`);
  const opts = input.fields('inference_options');
  const toolChoice = opts.any('tool_choice');
  let inference: InferenceOptions = {};
  if (toolChoice !== undefined && toolChoice !== null) inference = { tool_choice: { id: opts.fields('tool_choice').str('id') } };
  const model = opts.optStr('model');
  if (model !== undefined) inference = { ...inference, model };
  const textLength = parts.reduce((n, c) => n + c.text.length, 0);
  if (textLength > MAX_MESSAGE_TEXT) throw new InvalidRequestError(`params.input is longer than ${MAX_MESSAGE_TEXT} characters.`);
  if (parts.every((c) => c.text.trim() === '') && attachments.length === 0)
    throw new InvalidRequestError('params.input needs some text or an attachment.');
  const quoted = input.optStr('quoted_text');
  return {
    content: parts,
    attachments,
    ...(quoted ? { quoted_text: quoted.slice(0, MAX_QUOTED_TEXT) } : {}),
    inference_options: inference,
  };
}

/** At most this many answers, values per answer and characters per value: a few quick questions, not a document. */
export const MAX_STRUCTURED_ANSWERS = 10;
export const MAX_STRUCTURED_VALUES = 10;
export const MAX_STRUCTURED_VALUE = 500;

function structuredSubmission(f: Fields): StructuredInputSubmission {
  const status = f.optStr('status') ?? 'answered';
  if (status !== 'answered' && status !== 'skipped') throw new InvalidRequestError(`${f.path('status')} must be 'answered' or 'skipped'.`);
  const raw = f.optObj('answers') ?? {};
  const keys = Object.keys(raw);
  if (keys.length > MAX_STRUCTURED_ANSWERS)
    throw new InvalidRequestError(`${f.path('answers')} has more than ${MAX_STRUCTURED_ANSWERS} answers.`);
  const answers: StructuredInputSubmission['answers'] = {};
  const all = f.fields('answers');
  for (const k of keys) {
    const a = all.fields(k);
    const values = a.optArr('values') ?? [];
    if (values.length > MAX_STRUCTURED_VALUES || !values.every((v) => typeof v === 'string' && v.length <= MAX_STRUCTURED_VALUE))
      throw new InvalidRequestError(
        `${a.path('values')} must be at most ${MAX_STRUCTURED_VALUES} strings of at most ${MAX_STRUCTURED_VALUE} characters.`,
      );
    answers[k.slice(0, 100)] = { values: values as string[], skipped: a.optBool('skipped') ?? false };
  }
  return { status, answers };
}

/** An action's JSON at most this long: a form's few fields, not a payload to store. */
export const MAX_ACTION_BYTES = 4096;

function customAction(p: Fields): CustomActionParams {
  const action = p.fields('action');
  const payload = action.any('payload');
  if (Buffer.byteLength(JSON.stringify(p.obj('action'))) > MAX_ACTION_BYTES)
    throw new InvalidRequestError(`${p.path('action')} is larger than ${MAX_ACTION_BYTES} bytes.`);
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(action.str('type')))
    throw new InvalidRequestError(`${action.path('type')} must be 1-64 letters, digits, '_', '.', ':' or '-'.`);
  return {
    thread_id: p.id('thread_id'),
    item_id: p.optId('item_id') ?? null,
    action: { type: action.str('type'), ...(payload !== undefined ? { payload } : {}) },
  };
}

/** Parses one request body. Throws `InvalidRequestError` (400) naming what is wrong. */
export function parseRequest(body: unknown): ChatKitRequest {
  if (!isObj(body)) throw new InvalidRequestError('The request must be a JSON object.');
  const type = body.type;
  if (typeof type !== 'string') throw new InvalidRequestError('type is required: a ChatKit request type such as threads.create.');
  const metadata = body.metadata === undefined || body.metadata === null ? {} : body.metadata;
  if (!isObj(metadata)) throw new InvalidRequestError('metadata must be an object.');
  if (!(STREAMING_TYPES as readonly string[]).includes(type) && !(JSON_TYPES as readonly string[]).includes(type)) {
    throw new InvalidRequestError(`Unknown request type ${JSON.stringify(type.slice(0, 80))}.`);
  }
  const p = new Fields({ params: body.params }, '').fields('params');
  const req = <T extends RequestType>(t: T, params: Extract<ChatKitRequest, { type: T }>['params']) =>
    ({ type: t, params, metadata }) as ChatKitRequest;
  switch (type as RequestType) {
    case 'threads.create':
      return req('threads.create', { input: parseUserMessageInput(p) });
    case 'threads.add_user_message':
      return req('threads.add_user_message', { input: parseUserMessageInput(p), thread_id: p.id('thread_id') });
    case 'threads.add_client_tool_output':
      return req('threads.add_client_tool_output', { thread_id: p.id('thread_id'), result: p.any('result') });
    case 'threads.add_structured_input':
      return req('threads.add_structured_input', {
        thread_id: p.id('thread_id'),
        item_id: p.id('item_id'),
        input: structuredSubmission(p.fields('input')),
      });
    case 'threads.retry_after_item':
      return req('threads.retry_after_item', { thread_id: p.id('thread_id'), item_id: p.id('item_id') });
    case 'threads.custom_action':
      return req('threads.custom_action', customAction(p));
    case 'threads.sync_custom_action':
      return req('threads.sync_custom_action', customAction(p));
    case 'threads.get_by_id':
      return req('threads.get_by_id', { thread_id: p.id('thread_id') });
    case 'threads.list':
      return req('threads.list', pageParams(p));
    case 'items.list':
      return req('items.list', { thread_id: p.id('thread_id'), ...pageParams(p) });
    case 'items.feedback': {
      const itemIds = p.idList('item_ids');
      if (itemIds.length > MAX_FEEDBACK_ITEMS) throw new InvalidRequestError(`params.item_ids holds more than ${MAX_FEEDBACK_ITEMS} ids.`);
      return req('items.feedback', { thread_id: p.id('thread_id'), item_ids: itemIds, kind: p.oneOf('kind', ['positive', 'negative']) });
    }
    case 'attachments.create':
      return req('attachments.create', { name: p.str('name'), size: p.int('size'), mime_type: p.str('mime_type') });
    case 'attachments.delete':
      return req('attachments.delete', { attachment_id: p.id('attachment_id') });
    case 'threads.update':
      // Any string is a title (the official server keeps even an empty one); a long one is cut.
      return req('threads.update', { thread_id: p.id('thread_id'), title: p.str('title').trim().slice(0, MAX_TITLE) });
    case 'threads.delete':
      return req('threads.delete', { thread_id: p.id('thread_id') });
    case 'input.transcribe':
      return req('input.transcribe', { audio_base64: p.str('audio_base64'), mime_type: p.str('mime_type') });
  }
}
