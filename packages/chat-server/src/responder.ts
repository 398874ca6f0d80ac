import { UpstreamError } from '@lead-intake/errors';
import type OpenAI from 'openai';
import {
  assistantMessageItem,
  type AssistantMessageItem,
  type ThreadItem,
  type ThreadMetadata,
  type ThreadStreamEvent,
} from '@lead-intake/chatkit-protocol';
import { computeShopState, type ShopProfile } from '@lead-intake/shop';
import { assistantInstructions } from './instructions';
import { toModelInput } from './model-input';

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
}

/** One assistant turn: the events of the answer. The server persists and forwards them. */
export interface Responder {
  /** Starts the model call at once (it overlaps the user message's write); events follow. */
  start(input: TurnInput): AsyncIterable<ThreadStreamEvent>;
}

export interface ResponsesResponderDeps {
  openai: OpenAI;
  model: string;
  profile: ShopProfile;
  newItemId: () => string;
  now?: () => Date;
}

/** The assistant on the Responses API, its stream mapped to ChatKit events (chatkit/agents.py `stream_agent_response`). */
export class ResponsesResponder implements Responder {
  constructor(private readonly deps: ResponsesResponderDeps) {}

  start(input: TurnInput): AsyncIterable<ThreadStreamEvent> {
    const { openai, model, profile } = this.deps;
    const now = this.deps.now ?? (() => new Date());
    const state = computeShopState(now(), profile); // fresh every turn: "are you open?" from facts
    const request = openai.responses.create(
      {
        model,
        instructions: assistantInstructions(profile, state, { locale: input.locale, pageUrl: input.pageUrl }),
        input: toModelInput(input.history, input.fileUrls) as OpenAI.Responses.ResponseInput,
        stream: true,
        store: false,
      },
      { signal: input.signal },
    );
    request.catch(() => undefined); // observed below; never an unhandled rejection meanwhile
    return this.events(request as Promise<AsyncIterable<any>>, input.thread.id, now);
  }

  private async *events(request: Promise<AsyncIterable<any>>, threadId: string, now: () => Date): AsyncGenerator<ThreadStreamEvent> {
    let item: AssistantMessageItem | undefined;
    let id = '';
    let text = '';
    for await (const ev of await request) {
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
