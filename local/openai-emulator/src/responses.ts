import { ApiError } from './errors';
import { isObject } from './chatkit';
import { valueForSchema, SchemaError, type JsonSchema } from './schema-value';
import { newId, type QueuedResponse } from './state';

/** `POST /v1/responses`: Structured Outputs and plain text, buffered or streamed. */

export interface ResponsePlan {
  body: Record<string, unknown>;
  /** The function call the answer is (a queued one), instead of a message. */
  functionCall: { id: string; call_id: string; name: string; arguments: string } | null;
  /** The text of the single output_text part (absent for a refusal). */
  text: string | null;
  refusal: string | null;
  chunkDelayMs: number;
}

export function validateRequest(body: unknown): Record<string, any> {
  if (!isObject(body)) throw ApiError.invalid('Request body must be a JSON object.', null);
  if (typeof body.model !== 'string' || !body.model) throw ApiError.invalid("Missing required parameter: 'model'.", 'model');
  if (body.input === undefined) throw ApiError.invalid("Missing required parameter: 'input'.", 'input');
  if (typeof body.input !== 'string' && !Array.isArray(body.input))
    throw ApiError.invalid("Invalid 'input': expected a string or an array.", 'input');
  if (Array.isArray(body.input)) body.input.forEach((m, i) => checkInputMessage(m, i));
  if (Array.isArray(body.input)) checkToolCalls(body.input);
  if (body.tools !== undefined) checkTools(body.tools);
  const format = body.text?.format;
  if (format !== undefined) {
    if (!isObject(format) || typeof format.type !== 'string') throw ApiError.invalid("Invalid 'text.format'.", 'text.format');
    if (format.type === 'json_schema') {
      if (typeof format.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(format.name)) {
        throw ApiError.invalid("Invalid 'text.format.name': 1-64 characters of a-z, A-Z, 0-9, _ or -.", 'text.format.name');
      }
      if (!isObject(format.schema)) throw ApiError.invalid("Missing required parameter: 'text.format.schema'.", 'text.format.schema');
      if (format.strict === true) checkStrict(format.schema as JsonSchema, 'text.format.schema');
    } else if (format.type !== 'text' && format.type !== 'json_object') {
      throw ApiError.invalid(`Invalid 'text.format.type': '${format.type}'.`, 'text.format.type');
    }
  }
  return body;
}

const INPUT_PARTS = ['input_text', 'input_image', 'input_file'];
const OUTPUT_PARTS = ['output_text', 'refusal'];
const HTTP_URL = /^https?:\/\/\S+$/;

/**
 * A message's content parts as the API checks them: text, images (`image_url`: an http(s) or
 * `data:image/...` URL, or a `file_id`; `detail` low, high or auto) and files (`file_url`, or
 * `file_data` with a `filename`, or a `file_id`). Anything else is refused with the API's error.
 */
function checkInputMessage(m: unknown, i: number): void {
  if (!isObject(m) || !Array.isArray(m.content)) return;
  const allowed = m.role === 'assistant' ? OUTPUT_PARTS : INPUT_PARTS;
  m.content.forEach((c, j) => {
    const at = `input[${i}].content[${j}]`;
    if (!isObject(c) || typeof c.type !== 'string' || !allowed.includes(c.type))
      throw ApiError.invalid(
        `Invalid value: '${isObject(c) ? String(c.type) : typeof c}'. Supported values are: ${allowed.map((a) => `'${a}'`).join(', ')}.`,
        `${at}.type`,
      );
    if (c.type === 'input_image') {
      const url = c.image_url;
      if (url === undefined && typeof c.file_id !== 'string')
        throw ApiError.invalid("Missing required parameter: one of 'image_url' or 'file_id'.", `${at}.image_url`);
      if (url !== undefined && (typeof url !== 'string' || !(HTTP_URL.test(url) || url.startsWith('data:image/'))))
        throw ApiError.invalid("Invalid 'image_url': expected an http(s) URL or a base64-encoded data URL of an image.", `${at}.image_url`);
      if (c.detail !== undefined && !['low', 'high', 'auto'].includes(c.detail as string))
        throw ApiError.invalid(`Invalid value: '${String(c.detail)}'. Supported values are: 'low', 'high' and 'auto'.`, `${at}.detail`);
    }
    if (c.type === 'input_file') {
      const ok =
        (typeof c.file_url === 'string' && HTTP_URL.test(c.file_url)) ||
        typeof c.file_id === 'string' ||
        (typeof c.file_data === 'string' && typeof c.filename === 'string');
      if (!ok)
        throw ApiError.invalid(
          "Invalid 'input_file': expected an http(s) 'file_url', a 'file_id', or 'file_data' with a 'filename'.",
          `${at}`,
        );
    }
  });
}

/** Function tools as the API takes them: `{type: 'function', name, parameters, strict?}`, names unique. */
function checkTools(tools: unknown): void {
  if (!Array.isArray(tools)) throw ApiError.invalid("Invalid 'tools': expected an array.", 'tools');
  const names = new Set<string>();
  tools.forEach((t, i) => {
    if (!isObject(t) || t.type !== 'function')
      throw ApiError.invalid(`Invalid 'tools[${i}].type': this emulator knows 'function'.`, `tools[${i}].type`);
    if (typeof t.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(t.name))
      throw ApiError.invalid(`Invalid 'tools[${i}].name': 1-64 characters of a-z, A-Z, 0-9, _ or -.`, `tools[${i}].name`);
    if (names.has(t.name)) throw ApiError.invalid(`Duplicate function name '${t.name}' in 'tools'.`, `tools[${i}].name`);
    names.add(t.name);
    if (t.parameters !== undefined && !isObject(t.parameters))
      throw ApiError.invalid(`Invalid 'tools[${i}].parameters': expected a JSON schema object.`, `tools[${i}].parameters`);
    if (t.strict === true && isObject(t.parameters)) checkStrict(t.parameters as JsonSchema, `tools[${i}].parameters`);
  });
}

/**
 * The API's pairing rule: every `function_call` in the input has its `function_call_output` (same
 * `call_id`) and every output answers a call of the input.
 */
function checkToolCalls(input: unknown[]): void {
  const calls = new Set<string>();
  const outputs = new Set<string>();
  for (const m of input) {
    if (!isObject(m)) continue;
    if (m.type === 'function_call') {
      if (typeof m.call_id !== 'string' || typeof m.name !== 'string' || typeof m.arguments !== 'string')
        throw ApiError.invalid(
          "Invalid 'function_call' input item: 'call_id', 'name' and 'arguments' (a JSON string) are required.",
          'input',
        );
      calls.add(m.call_id);
    } else if (m.type === 'function_call_output') {
      if (typeof m.call_id !== 'string' || typeof m.output !== 'string')
        throw ApiError.invalid("Invalid 'function_call_output' input item: 'call_id' and 'output' (a string) are required.", 'input');
      if (!calls.has(m.call_id)) throw ApiError.invalid(`No tool call found for function call output with call_id ${m.call_id}.`, 'input');
      outputs.add(m.call_id);
    }
  }
  for (const id of calls) if (!outputs.has(id)) throw ApiError.invalid(`No tool output found for function call ${id}.`, 'input');
}

/** Strict mode: every object lists all its properties as required and forbids extra ones. */
function checkStrict(schema: JsonSchema, path: string): void {
  if (!isObject(schema)) return;
  const s = schema as JsonSchema & Record<string, unknown>;
  if (s.properties) {
    if ((s as any).additionalProperties !== false) {
      throw ApiError.invalid(
        `Invalid schema for response_format: In context=(${path}), 'additionalProperties' is required to be supplied and to be false.`,
        'text.format.schema',
      );
    }
    const required = new Set(s.required ?? []);
    for (const key of Object.keys(s.properties)) {
      if (!required.has(key)) {
        throw ApiError.invalid(
          `Invalid schema for response_format: In context=(${path}), 'required' is required to include every key; missing '${key}'.`,
          'text.format.schema',
        );
      }
      checkStrict(s.properties[key]!, `${path}.properties.${key}`);
    }
  }
  if (s.items) checkStrict(s.items, `${path}.items`);
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) s[k]?.forEach((x, i) => checkStrict(x, `${path}.${k}[${i}]`));
  for (const k of ['$defs', 'definitions'] as const) for (const [n, x] of Object.entries(s[k] ?? {})) checkStrict(x, `${path}.${k}.${n}`);
}

/** A user message of the input (a message without a role is the user's); tool calls and their outputs are not. */
const isUserMessage = (m: unknown): m is Record<string, any> =>
  isObject(m) && (m.type === undefined || m.type === 'message') && (m.role === undefined || m.role === 'user');

/** The user-visible text of the request, used to derive deterministic default answers. */
export function inputText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (!Array.isArray(input)) return '';
  const parts: string[] = [];
  for (const msg of input) {
    if (!isUserMessage(msg)) continue;
    if (typeof msg.content === 'string') parts.push(msg.content);
    else if (Array.isArray(msg.content)) {
      for (const c of msg.content) if (isObject(c) && typeof c.text === 'string') parts.push(c.text);
    }
  }
  return parts.join('\n');
}

function lastUserText(input: unknown): string {
  if (typeof input === 'string') return input;
  const users = Array.isArray(input) ? input.filter(isUserMessage) : [];
  return inputText(users.slice(-1));
}

export function planResponse(req: Record<string, any>, queued: QueuedResponse | undefined): ResponsePlan {
  const format = req.text?.format;
  let text: string | null = null;
  let refusal: string | null = null;
  let status = 'completed';
  let incomplete: unknown = null;
  let chunkDelayMs = 0;

  let functionCall: ResponsePlan['functionCall'] = null;
  if (queued?.kind === 'function_call') {
    // Only a function the request offers can be called (the queue names one it does not: a test's mistake, said loudly).
    const offered = Array.isArray(req.tools) ? req.tools.map((t: { name?: string }) => t.name) : [];
    if (!offered.includes(queued.name))
      throw ApiError.invalid(
        `The queued function_call '${queued.name}' is not among the request's tools (${offered.join(', ') || 'none'}).`,
        'tools',
      );
    functionCall = { id: newId('fc'), call_id: newId('call'), name: queued.name, arguments: JSON.stringify(queued.arguments) };
  } else if (queued?.kind === 'refusal') refusal = queued.refusal;
  else if (queued?.kind === 'output') text = JSON.stringify(queued.output);
  else if (queued?.kind === 'text') {
    text = queued.text;
    chunkDelayMs = queued.chunk_delay_ms ?? 0;
  } else if (format?.type === 'json_schema') {
    try {
      text = JSON.stringify(valueForSchema(format.schema, inputText(req.input)));
    } catch (e) {
      if (e instanceof SchemaError) throw ApiError.invalid(`Invalid schema for response_format: ${e.message}`, 'text.format.schema');
      throw e;
    }
  } else if (format?.type === 'json_object') {
    text = '{}';
  } else {
    const said = lastUserText(req.input).replace(/\s+/g, ' ').trim().slice(0, 200);
    text = said ? `Thanks for your message. You said: "${said}". How can I help further?` : 'Hello! How can I help you today?';
  }

  if (queued?.kind === 'incomplete') {
    // What a `max_output_tokens` stop looks like: a truncated answer with the reason.
    status = 'incomplete';
    incomplete = { reason: queued.reason };
    text = (text ?? '').slice(0, Math.max(1, Math.floor((text ?? '').length / 2)));
  }

  const content = refusal !== null ? [{ type: 'refusal', refusal }] : [{ type: 'output_text', text, annotations: [], logprobs: [] }];
  const output = functionCall
    ? [{ type: 'function_call', status: 'completed', ...functionCall }]
    : [{ id: newId('msg'), type: 'message', role: 'assistant', status: status === 'completed' ? 'completed' : 'incomplete', content }];
  if (functionCall) text = null;
  const inputTokens = Math.ceil(JSON.stringify(req.input ?? '').length / 4);
  const outputTokens = Math.ceil((text ?? refusal ?? functionCall?.arguments ?? '').length / 4);
  const body = {
    id: newId('resp'),
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    background: false,
    error: null,
    incomplete_details: incomplete,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: req.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: req.previous_response_id ?? null,
    temperature: req.temperature ?? 1,
    text: { format: format ?? { type: 'text' } },
    tool_choice: 'auto',
    tools: Array.isArray(req.tools) ? req.tools : [],
    top_p: 1,
    truncation: 'disabled',
    usage: {
      input_tokens: inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: inputTokens + outputTokens,
    },
    user: req.user ?? null,
    metadata: req.metadata ?? {},
  };
  return { body, functionCall, text, refusal, chunkDelayMs };
}

/** The Responses streaming events for a planned answer, in the order the API sends them. */
export function streamEvents(plan: ResponsePlan): Array<Record<string, unknown>> {
  const body = plan.body as any;
  const msg = body.output[0];
  let seq = 0;
  const ev = (type: string, rest: Record<string, unknown>) => ({ type, sequence_number: seq++, ...rest });
  const pending = { ...body, status: 'in_progress', output: [], usage: null };
  const events: Array<Record<string, unknown>> = [
    ev('response.created', { response: pending }),
    ev('response.in_progress', { response: pending }),
  ];
  if (plan.functionCall) {
    // A function call streams its arguments, then the item (as the API does).
    const call = msg;
    events.push(ev('response.output_item.added', { output_index: 0, item: { ...call, status: 'in_progress', arguments: '' } }));
    events.push(ev('response.function_call_arguments.delta', { item_id: call.id, output_index: 0, delta: call.arguments }));
    events.push(
      ev('response.function_call_arguments.done', { item_id: call.id, output_index: 0, name: call.name, arguments: call.arguments }),
    );
    events.push(ev('response.output_item.done', { output_index: 0, item: call }));
    events.push(ev('response.completed', { response: body }));
    return events;
  }
  events.push(ev('response.output_item.added', { output_index: 0, item: { ...msg, status: 'in_progress', content: [] } }));
  if (plan.refusal !== null) {
    events.push(
      ev('response.content_part.added', { item_id: msg.id, output_index: 0, content_index: 0, part: { type: 'refusal', refusal: '' } }),
    );
    events.push(ev('response.refusal.delta', { item_id: msg.id, output_index: 0, content_index: 0, delta: plan.refusal }));
    events.push(ev('response.refusal.done', { item_id: msg.id, output_index: 0, content_index: 0, refusal: plan.refusal }));
  } else {
    const text = plan.text ?? '';
    events.push(
      ev('response.content_part.added', {
        item_id: msg.id,
        output_index: 0,
        content_index: 0,
        part: { type: 'output_text', text: '', annotations: [], logprobs: [] },
      }),
    );
    for (const delta of text.match(/\S+\s*|\s+/g) ?? []) {
      events.push(ev('response.output_text.delta', { item_id: msg.id, output_index: 0, content_index: 0, delta, logprobs: [] }));
    }
    events.push(ev('response.output_text.done', { item_id: msg.id, output_index: 0, content_index: 0, text, logprobs: [] }));
  }
  events.push(ev('response.content_part.done', { item_id: msg.id, output_index: 0, content_index: 0, part: msg.content[0] }));
  events.push(ev('response.output_item.done', { output_index: 0, item: msg }));
  events.push(ev(body.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: body }));
  return events;
}
