import {
  isHidden,
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
  message: UserMessageItem,
): AsyncGenerator<ThreadStreamEvent> {
  const { store } = deps;
  yield { type: 'stream_options', stream_options: { allow_cancel: true } };
  const pending = new Map<string, AssistantMessageItem>();
  try {
    for await (const ev of events) {
      if (signal.aborted) break;
      if (ev.type === 'thread.item.added' && ev.item.type === 'assistant_message') pending.set(ev.item.id, structuredClone(ev.item));
      else if (ev.type === 'thread.item.updated') applyUpdate(pending.get(ev.item_id), ev.update);
      else if (ev.type === 'thread.item.done') {
        await store.addThreadItem(thread.id, ev.item);
        pending.delete(ev.item.id);
        if (isHidden(ev.item)) continue;
      } else if (ev.type === 'thread.item.replaced') await store.saveItem(thread.id, ev.item);
      else if (ev.type === 'thread.item.removed') await store.deleteThreadItem(thread.id, ev.item_id);
      yield ev;
    }
  } catch (e) {
    if (!signal.aborted) {
      deps.onTurn?.('failed');
      yield failureEvent(deps, 'respond', e);
      return;
    }
  }
  if (signal.aborted) {
    await keepCancelled(deps, thread, [...pending.values()]).catch((e) => deps.onError?.('cancel', e));
    deps.onTurn?.('cancelled');
    return;
  }
  deps.onTurn?.('done');
  if (thread.title === null || thread.title === undefined) {
    thread.title = titleFrom(message);
    try {
      await store.saveThread(thread, ctx.user);
    } catch (e) {
      yield failureEvent(deps, 'title', e);
      return;
    }
    yield { type: 'thread.updated', thread: threadResponse(thread) };
  }
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
