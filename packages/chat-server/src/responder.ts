import { UpstreamError } from '@lead-intake/errors';
import type OpenAI from 'openai';
import {
  assistantMessageItem,
  type AssistantMessageItem,
  type ThreadItem,
  type ThreadMetadata,
  type ThreadStreamEvent,
} from '@lead-intake/chatkit-protocol';
import type { ShopProfile } from '@lead-intake/shop';
import { assistantInstructions } from './instructions';
import { toModelInput } from './model-input';

type ModelTools = typeof import('./model-tools');
// Loaded by the first turn that asks the model, after its first byte (model-tools.ts).
let modelTools: Promise<ModelTools> | undefined;
const loadModelTools = (): Promise<ModelTools> => (modelTools ??= import('./model-tools'));

/** At most this many model calls that run tools in one turn; the next one must answer in text. */
export const MAX_TOOL_ROUNDS = 2;

interface FunctionCall {
  call_id: string;
  name: string;
  arguments: string;
}

export interface TurnInput {
  thread: ThreadMetadata;
  /** What the model sees of the conversation, oldest first (the new user message last). */
  history: ThreadItem[];
  /** Short-lived URLs of the current message's attachments (id -> URL), given to the model as inputs. */
  fileUrls?: Map<string, string>;
  /** The customer's locale and page, from the client token (validated by the session service). */
  locale?: string;
  pageUrl?: string;
  /** Aborted when the customer stops the answer (closes the stream). */
  signal: AbortSignal;
  /** The intake tools on this turn (default: the responder's setting); off for an action's acknowledgement. */
  tools?: boolean;
}

/** One assistant turn: the events of the answer. The server persists and forwards them. */
export interface Responder {
  /** Starts the model call at once (it overlaps the user message's write); events follow. */
  start(input: TurnInput): AsyncIterable<ThreadStreamEvent>;
}

export interface ResponsesResponderDeps {
  /** The client, or how to load it on the first call (the SDK's modules then stay out of the cold start's first answer). */
  openai: OpenAI | (() => Promise<OpenAI>);
  model: string;
  profile: ShopProfile;
  newItemId: () => string;
  now?: () => Date;
  /** The intake tools (callback form, drop-off times, quick questions); off: text only. */
  tools?: boolean;
}

/** The assistant on the Responses API, its stream mapped to ChatKit events (chatkit/agents.py `stream_agent_response`). */
export class ResponsesResponder implements Responder {
  constructor(private readonly deps: ResponsesResponderDeps) {}

  start(input: TurnInput): AsyncIterable<ThreadStreamEvent> {
    const { profile } = this.deps;
    const now = this.deps.now ?? (() => new Date());
    const modelInput: unknown[] = toModelInput(input.history, input.fileUrls);
    const tools = input.tools ?? this.deps.tools === true;
    const prepared = loadModelTools().then((m) => {
      const state = m.computeShopState(now(), profile); // fresh every turn: "are you open?" from facts
      return { m, instructions: assistantInstructions(profile, state, { locale: input.locale, pageUrl: input.pageUrl }) };
    });
    // The first call starts now (it overlaps the user message's write); tool rounds follow it.
    const first = this.call(prepared, modelInput, input.signal, 0, tools);
    return this.rounds(first, prepared, modelInput, input, now);
  }

  private call(
    prepared: Promise<{ m: ModelTools; instructions: string }>,
    modelInput: unknown[],
    signal: AbortSignal,
    round: number,
    withTools: boolean,
  ): Promise<AsyncIterable<any>> {
    const { openai, model } = this.deps;
    const client = typeof openai === 'function' ? openai() : Promise.resolve(openai);
    const request = Promise.all([client, prepared]).then(([c, { m, instructions }]) => {
      const tools = withTools ? m.INTAKE_TOOLS : undefined;
      return c.responses.create(
        {
          model,
          instructions,
          input: [...modelInput] as OpenAI.Responses.ResponseInput,
          stream: true,
          store: false,
          ...(tools ? { tools, tool_choice: round < MAX_TOOL_ROUNDS ? 'auto' : 'none' } : {}),
        },
        { signal },
      );
    });
    request.catch(() => undefined); // observed below; never an unhandled rejection meanwhile
    return request as Promise<AsyncIterable<any>>;
  }

  /**
   * The model's answer; when it calls tools, each runs here (its progress and items streamed), the
   * model gets their outputs and answers again, up to MAX_TOOL_ROUNDS. A question for the customer
   * ends the turn (their answer comes next).
   */
  private async *rounds(
    first: Promise<AsyncIterable<any>>,
    prepared: Promise<{ m: ModelTools; instructions: string }>,
    modelInput: unknown[],
    input: TurnInput,
    now: () => Date,
  ): AsyncGenerator<ThreadStreamEvent> {
    const seen: ThreadItem[] = [...input.history];
    let request = first;
    for (let round = 0; ; round++) {
      const calls: FunctionCall[] = [];
      for await (const ev of this.events(request, input.thread.id, now, calls)) {
        if (ev.type === 'thread.item.done') seen.push(ev.item);
        yield ev;
      }
      if (!calls.length || round >= MAX_TOOL_ROUNDS) return;
      let ends = false;
      const { m } = await prepared;
      for (const call of calls) {
        const run = m.runTool(call.name, call.arguments, {
          threadId: input.thread.id,
          now: now(),
          profile: this.deps.profile,
          newItemId: this.deps.newItemId,
          history: seen,
        });
        for (const ev of m.toolEvents(run)) yield ev;
        seen.push(...run.items);
        modelInput.push(
          { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: 'function_call_output', call_id: call.call_id, output: run.output },
        );
        ends ||= run.endsTurn;
      }
      if (ends || input.signal.aborted) return;
      request = this.call(prepared, modelInput, input.signal, round + 1, true);
    }
  }

  private async *events(
    request: Promise<AsyncIterable<any>>,
    threadId: string,
    now: () => Date,
    calls: FunctionCall[],
  ): AsyncGenerator<ThreadStreamEvent> {
    let item: AssistantMessageItem | undefined;
    let id = '';
    let text = '';
    for await (const ev of await request) {
      if (ev.type === 'response.output_item.done' && ev.item?.type === 'function_call') {
        calls.push({ call_id: String(ev.item.call_id), name: String(ev.item.name), arguments: String(ev.item.arguments ?? '{}') });
        continue;
      }
      if (ev.type === 'response.output_item.added' && ev.item?.type === 'message' && !item) {
        // One created_at for the item, from `added` to `done` (as the official server), and its id
        // minted at that same moment: ids order a thread's items (the store's sort key), so an
        // answer that started late sorts after a turn that overlapped it, as created_at does.
        id = this.deps.newItemId();
        item = assistantMessageItem({ id, threadId, createdAt: now().toISOString() });
        yield { type: 'thread.item.added', item: structuredClone(item) };
      } else if (!item) {
        if (ev.type === 'response.failed' || ev.type === 'error') throw new ModelStreamError(ev.response?.error?.code ?? ev.code);
      } else if (ev.type === 'response.content_part.added' && ev.part?.type === 'output_text') {
        yield {
          type: 'thread.item.updated',
          item_id: id,
          update: {
            type: 'assistant_message.content_part.added',
            content_index: 0,
            content: { annotations: [], text: '', type: 'output_text' },
          },
        };
      } else if (ev.type === 'response.output_text.delta') {
        text += ev.delta;
        yield {
          type: 'thread.item.updated',
          item_id: id,
          update: { type: 'assistant_message.content_part.text_delta', content_index: 0, delta: ev.delta },
        };
      } else if (ev.type === 'response.output_text.done') {
        text = typeof ev.text === 'string' ? ev.text : text;
        yield {
          type: 'thread.item.updated',
          item_id: id,
          update: {
            type: 'assistant_message.content_part.done',
            content_index: 0,
            content: { annotations: [], text, type: 'output_text' },
          },
        };
      } else if (ev.type === 'response.output_item.done' && ev.item?.type === 'message') {
        yield { type: 'thread.item.done', item: { ...item, content: [{ annotations: [], text, type: 'output_text' }] } };
      } else if (ev.type === 'response.failed' || ev.type === 'error') {
        throw new ModelStreamError(ev.response?.error?.code ?? ev.code);
      }
    }
  }
}

/** The model's stream reported a failure (never its message: it may echo the conversation). */
export class ModelStreamError extends UpstreamError {
  constructor(readonly upstreamCode: unknown) {
    super('openai', `model stream failed: ${typeof upstreamCode === 'string' ? upstreamCode.slice(0, 60) : 'unknown'}`);
  }
}
