import {
  assistantMessageItem,
  isHidden,
  NotFoundError,
  outputText,
  ProtocolError,
  type AssistantMessageItem,
  type ThreadMetadata,
  type ThreadStreamEvent,
  type UserMessageItem,
} from '@lead-intake/chatkit-protocol';
import { failureEvent, nowOf, threadResponse, type ChatServerDeps, type RequestContext } from './context';

/**
 * The one place a turn's items are persisted (chatkit/server.py `_process_events`): the
 * responder's events are forwarded, and on the way `done` is stored, `replaced` upserted,
 * `removed` deleted; hidden items are stored but never sent. A stream the client closed keeps the
 * partial answer and a hidden note for the model. A new thread gets its title at the end.
 */

const CANCELLED_NOTE = 'The user cancelled the stream. Stop responding to the prior request.';

/**
 * Forwards the responder's events and persists them (chatkit/server.py `_process_events`):
 * `done` is stored, `replaced` upserted, `removed` deleted; hidden items are stored but never
 * sent. A stream the client closed keeps the partial answer and a hidden note for the model.
 */
export async function* persistAnswer(
  deps: ChatServerDeps,
  thread: ThreadMetadata,
  events: AsyncIterable<ThreadStreamEvent>,
  ctx: RequestContext,
  signal: AbortSignal,
  /** The turn's user message (a thread without a title is titled from it); none for an action's turn. */
  message: UserMessageItem | null,
  /** A new thread's first turn: its title was written with it, and is announced after the answer. */
  newThread = false,
): AsyncGenerator<ThreadStreamEvent> {
  const { store } = deps;
  yield { type: 'stream_options', stream_options: { allow_cancel: true } };
  const pending = new Map<string, AssistantMessageItem>();
  let answered = false;
  try {
    for await (const ev of events) {
      if (signal.aborted) break;
      if (ev.type === 'thread.item.added' && ev.item.type === 'assistant_message') pending.set(ev.item.id, structuredClone(ev.item));
      else if (ev.type === 'thread.item.updated') applyUpdate(pending.get(ev.item_id), ev.update);
      else if (ev.type === 'thread.item.done') {
        await store.addThreadItem(thread.id, ev.item);
        pending.delete(ev.item.id);
        if (isHidden(ev.item)) continue;
        answered ||= ev.item.type === 'assistant_message';
      } else if (ev.type === 'thread.item.replaced') await store.saveItem(thread.id, ev.item);
      else if (ev.type === 'thread.item.removed') await store.deleteThreadItem(thread.id, ev.item_id);
      yield ev;
    }
  } catch (e) {
    if (!signal.aborted) {
      // The thread was deleted while the turn ran (deletion wins: nothing more is written), or
      // another answer the client gets as a protocol error: the customer's doing, not a failure.
      if (e instanceof ProtocolError) {
        deps.onTurn?.('cancelled');
        yield failureEvent(deps, 'respond', e);
        return;
      }
      deps.onTurn?.('failed');
      if (answered || !deps.unavailableAnswer) {
        yield failureEvent(deps, 'respond', e);
        return;
      }
      // The model failed before it answered: what the customer wrote is kept (stored before the
      // model was asked) and answered with the fixed text, so the conversation reaches the lead
      // pipeline as any other. The failure is still reported (the error alarms count it).
      deps.onError?.('respond', e);
      for (const id of pending.keys()) yield { type: 'thread.item.removed', item_id: id };
      try {
        yield* fixedAnswer(deps, thread.id, deps.unavailableAnswer);
      } catch (err) {
        yield failureEvent(deps, 'fixed answer', err);
        return;
      }
      yield* titled(deps, thread, message, ctx, newThread);
      return;
    }
  }
  if (signal.aborted) {
    await keepCancelled(deps, thread, [...pending.values()]).catch((e) => e instanceof NotFoundError || deps.onError?.('cancel', e));
    deps.onTurn?.('cancelled');
    return;
  }
  deps.onTurn?.('done');
  yield* titled(deps, thread, message, ctx, newThread);
}

/**
 * A thread's title is its first message. A new thread is written with it (turn.ts: one write for
 * the thread, its title and its first message), and the client is told once the first turn has an
 * answer (`thread.updated`, where the official server announces a thread its turn changed). A
 * thread still without one (written before titles came with the thread) gets it here, its own write.
 */
export async function* titled(
  deps: ChatServerDeps,
  thread: ThreadMetadata,
  message: UserMessageItem | null,
  ctx: RequestContext,
  newThread = false,
): AsyncGenerator<ThreadStreamEvent> {
  if (!message) return;
  if (thread.title === null || thread.title === undefined) {
    thread.title = titleFrom(message);
    try {
      await deps.store.saveThread(thread, ctx.user);
    } catch (e) {
      yield failureEvent(deps, 'title', e);
      return;
    }
  } else if (!newThread) return;
  yield { type: 'thread.updated', thread: threadResponse(thread) };
}

/**
 * The assistant's fixed answer when the model cannot give one (the day's ceiling, a network's
 * share, an upstream failure): stored and streamed as any answer, so the customer is told the
 * truth and the conversation (with its contact) reaches the lead pipeline as any other.
 */
export async function* fixedAnswer(deps: ChatServerDeps, threadId: string, text: string): AsyncGenerator<ThreadStreamEvent> {
  const item = assistantMessageItem({
    id: deps.store.generateItemId('message'),
    threadId,
    createdAt: nowOf(deps).toISOString(),
    content: [outputText(text)],
  });
  yield { type: 'thread.item.added', item: { ...item, content: [] } };
  await deps.store.addThreadItem(threadId, item);
  yield { type: 'thread.item.done', item };
}

/** The Stop button: keep what was said, and tell the model it was cut off (as the official server). */
async function keepCancelled(deps: ChatServerDeps, thread: ThreadMetadata, pending: AssistantMessageItem[]): Promise<void> {
  const { store } = deps;
  for (const item of pending) if (item.content.some((c) => c.text.trim())) await store.addThreadItem(thread.id, item);
  await store.addThreadItem(thread.id, {
    id: store.generateItemId('sdk_hidden_context'),
    thread_id: thread.id,
    created_at: nowOf(deps).toISOString(),
    type: 'sdk_hidden_context',
    content: CANCELLED_NOTE,
  });
}

function applyUpdate(
  item: AssistantMessageItem | undefined,
  update: Extract<ThreadStreamEvent, { type: 'thread.item.updated' }>['update'],
): void {
  if (!item) return;
  while (item.content.length <= update.content_index) item.content.push({ type: 'output_text', text: '', annotations: [] });
  if (update.type === 'assistant_message.content_part.text_delta') item.content[update.content_index]!.text += update.delta;
  else if (update.type === 'assistant_message.content_part.added' || update.type === 'assistant_message.content_part.done')
    item.content[update.content_index] = structuredClone(update.content);
}

/** A new thread's title: its first message's text, or its files' names. */
export function titleFrom(message: UserMessageItem): string {
  const text = message.content
    .map((c) => c.text)
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!text)
    return (
      message.attachments
        .map((a) => a.name)
        .join(', ')
        .slice(0, 60) || 'New conversation'
    );
  return text.length <= 60 ? text : `${text.slice(0, 59).trimEnd()}…`;
}
