/**
 * ChatKit thread items (the protocol's `ThreadItem`) -> transcript lines, one exhaustive switch.
 */
import type { Attachment, Task, ThreadItem } from '@lead-intake/chatkit-protocol';
import { httpUrlOrNull } from '@lead-intake/http/fields';
import { isCallbackRequest, isVisitRequest, requestLine, type RecordedRequest } from './requests';

export interface TranscriptAttachment {
  /** The attachment's id (links to self-hosted files are made from it), or null. */
  id: string | null;
  name: string;
  mimeType: string;
  /** Only ever an http(s) URL, or null. */
  previewUrl: string | null;
}

export interface TranscriptLine {
  itemId: string;
  /** Unix seconds. */
  createdAt: number;
  role: 'customer' | 'assistant' | 'event';
  /** `Customer`, the assistant's name, or `Event` for tool calls and tasks. */
  speaker: string;
  text: string;
  /** Text the customer quoted (from an earlier message), shown as a quote; never a contact source. */
  quote: string | null;
  attachments: TranscriptAttachment[];
}

export interface Transcript {
  threadId: string;
  title: string | null;
  /** Unix seconds. */
  createdAt: number | null;
  user: string | null;
  /** The page the chat ran on, when the conversation's source knows it (self-hosted threads). */
  pageUrl: string | null;
  lines: TranscriptLine[];
  /** The id of the last item and the number of items: identifies a transcript state. */
  lastItemId: string | null;
  itemCount: number;
  /** Unix seconds of the newest item (the conversation's last activity), or null without items. */
  lastActivityAt: number | null;
  /** Item types that were deliberately skipped, with counts (e.g. widgets). */
  skipped: Record<string, number>;
  /** What the customer sent through the chat's widgets (a callback request, a drop-off time), in order. */
  requests: RecordedRequest[];
}

/**
 * What a source hands over: the self-hosted protocol's items (@lead-intake/chatkit-protocol). The
 * hosted API's items are converted to these once, at the edge (`HostedChatKitSource`, with the
 * protocol's `convertHostedItem`). Stored data may still not match its declared type (an older
 * writer, a hand-edited row), so fields are read defensively: an odd item must not lose a lead.
 */
export type SourceItem = ThreadItem;

export function toSeconds(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e12 ? Math.floor(v / 1000) : Math.floor(v);
  if (typeof v === 'string') {
    // Self-hosted items carry ISO strings (the Python reference even omits the zone: treat as UTC).
    const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  return 0;
}

function textOf(content: readonly { type: string; text?: unknown }[] | undefined, types: string[]): string {
  if (!Array.isArray(content)) return '';
  return content
    .filter((c) => c && types.includes(c.type) && typeof c.text === 'string')
    .map((c) => c.text as string)
    .join('');
}

function attachmentsOf(list: readonly Attachment[] | undefined): TranscriptAttachment[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter((a) => a && typeof a === 'object')
    .map((a) => ({
      id: typeof a.id === 'string' && a.id ? a.id : null,
      name: typeof a.name === 'string' && a.name ? a.name : 'attachment',
      mimeType: typeof a.mime_type === 'string' ? a.mime_type : 'application/octet-stream',
      previewUrl: a.type === 'image' ? httpUrlOrNull(a.preview_url) : null,
    }));
}

/** A task as one line of text: its title and content, as the protocol's `Task` has them. */
const taskText = (t: Task | undefined) => [t?.title, t?.content].filter((x) => typeof x === 'string' && x).join(': ');

/** A line for a tool call or a task: said by neither side, shown as an event. */
const event = (base: Pick<TranscriptLine, 'itemId' | 'createdAt'>, text: string): TranscriptLine => ({
  ...base,
  role: 'event',
  speaker: 'Event',
  text,
  quote: null,
  attachments: [],
});

export function normalizeItems(
  items: readonly SourceItem[],
  assistantName: string,
): { lines: TranscriptLine[]; skipped: Record<string, number>; requests: RecordedRequest[] } {
  const lines: TranscriptLine[] = [];
  const requests: RecordedRequest[] = [];
  const skipped: Record<string, number> = {};
  const skip = (type: string) => (skipped[type] = (skipped[type] ?? 0) + 1);
  for (const item of items) {
    const base = { itemId: String(item.id), createdAt: toSeconds(item.created_at) };
    switch (item.type) {
      case 'user_message': {
        const text = textOf(item.content, ['input_text', 'input_tag']).trim();
        const quote = (typeof item.quoted_text === 'string' ? item.quoted_text : '').trim() || null;
        const attachments = attachmentsOf(item.attachments);
        if (!text && !quote && attachments.length === 0) {
          skip('empty_user_message');
          break;
        }
        lines.push({ ...base, role: 'customer', speaker: 'Customer', text, quote, attachments });
        break;
      }
      case 'assistant_message': {
        const text = textOf(item.content, ['output_text']).trim();
        if (!text) {
          skip('empty_assistant_message');
          break;
        }
        lines.push({ ...base, role: 'assistant', speaker: assistantName, text, quote: null, attachments: [] });
        break;
      }
      case 'client_tool_call': {
        const status = typeof item.status === 'string' ? ` (${item.status})` : '';
        lines.push(event(base, `Tool call: ${String(item.name ?? 'unknown')}${status}`));
        break;
      }
      case 'task': {
        const t = taskText(item.task);
        if (t) lines.push(event(base, `Task: ${t}`));
        else skip(item.type);
        break;
      }
      case 'workflow': {
        const tasks = Array.isArray(item.workflow?.tasks) ? item.workflow.tasks : [];
        const t = tasks.map(taskText).filter(Boolean).join('; ');
        if (t) lines.push(event(base, `Tasks: ${t}`));
        else skip(item.type);
        break;
      }
      case 'hidden_context_item': {
        // What the customer sent through a widget (a callback form, a drop-off time): their words, in effect.
        const c = item.content;
        if (isCallbackRequest(c) || isVisitRequest(c)) {
          requests.push({ ...c, itemId: item.id });
          lines.push({ ...base, role: 'customer', speaker: 'Customer', text: requestLine(c), quote: null, attachments: [] });
        } else skip(item.type);
        break;
      }
      case 'structured_input': {
        const answered = item.inputs.filter((q) => q.answer && !q.answer.skipped && q.answer.values.length);
        if (!answered.length) {
          skip(item.type);
          break;
        }
        for (const q of answered) lines.push(event(base, `Question: ${q.question} Answer: ${q.answer!.values.join(', ')}`));
        break;
      }
      // Not part of what the customer and the assistant said, so not in the transcript.
      case 'widget':
      case 'generated_image':
      case 'end_of_turn':
      case 'sdk_hidden_context':
        skip(item.type);
        break;
      default: {
        // A type newer than this code (stored data is not checked against the union).
        const unknown: never = item;
        skip(String((unknown as { type?: unknown }).type ?? 'unknown'));
      }
    }
  }
  return { lines, skipped, requests };
}

/** Unix seconds of the newest item, whatever the order; null when none has a readable time. */
function newest(items: readonly SourceItem[]): number | null {
  let at = 0;
  for (const i of items) at = Math.max(at, toSeconds(i.created_at));
  return at || null;
}

/** A conversation's items and facts as one Transcript: the one place either source assembles it. */
export function assembleTranscript(
  thread: { threadId: string; title?: string | null; createdAt?: unknown; user?: string | null; pageUrl?: unknown },
  items: readonly SourceItem[],
  assistantName: string,
  /**
   * A source that converted its items (hosted): what it read, so the transcript state keeps the
   * source's identity (its item count and last item id) and counts the items it could not convert.
   */
  read?: { itemCount: number; lastItemId: string | null; dropped: Record<string, number> },
): Transcript {
  const { lines, skipped, requests } = normalizeItems(items, assistantName);
  for (const [type, n] of Object.entries(read?.dropped ?? {})) skipped[type] = (skipped[type] ?? 0) + n;
  return {
    threadId: thread.threadId,
    title: thread.title ?? null,
    createdAt: toSeconds(thread.createdAt) || null,
    user: thread.user ?? null,
    pageUrl: httpUrlOrNull(thread.pageUrl),
    lines,
    lastItemId: read ? read.lastItemId : items.length ? String(items[items.length - 1]!.id) : null,
    itemCount: read ? read.itemCount : items.length,
    lastActivityAt: newest(items),
    skipped,
    requests,
  };
}
