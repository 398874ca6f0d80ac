/**
 * ChatKit thread items -> transcript lines. Works on the hosted API's item shapes
 * (`chatkit.user_message`...) and on the self-hosted protocol's (`user_message`...), so a
 * `TranscriptSource` may hand over either.
 */
import type OpenAI from 'openai';
import type { ThreadItem } from '@lead-intake/chatkit-protocol';
import { httpUrlOrNull } from '@lead-intake/http/fields';

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
  /** Item types that were deliberately skipped, with counts (e.g. widgets). */
  skipped: Record<string, number>;
}

/**
 * What a source hands over: the self-hosted protocol's items (@lead-intake/chatkit-protocol) or
 * the hosted API's (the `openai` SDK's types, `chatkit.*`). Read defensively all the same: stored
 * or remote data may not match its declared type, and an odd item must not lose a lead.
 */
export type SourceItem = ThreadItem | HostedThreadItem;
type HostedThreadItem = OpenAI.Beta.ChatKit.Threads.ChatKitThreadItemList['data'][number];
type LooseItem = Record<string, any> & { id: string; type: string };

const bareType = (t: string) => t.replace(/^chatkit\./, '');

export function toSeconds(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v > 1e12 ? Math.floor(v / 1000) : Math.floor(v);
  if (typeof v === 'string') {
    // Self-hosted items carry ISO strings (the Python reference even omits the zone: treat as UTC).
    const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) ? v : `${v}Z`);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  return 0;
}

function textOf(content: unknown, types: string[]): string {
  if (!Array.isArray(content)) return '';
  return content
    .filter((c) => c && types.includes(c.type) && typeof c.text === 'string')
    .map((c) => c.text as string)
    .join('');
}

function attachmentsOf(list: unknown): TranscriptAttachment[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter((a) => a && typeof a === 'object')
    .map((a) => ({
      id: typeof a.id === 'string' && a.id ? a.id : null,
      name: typeof a.name === 'string' && a.name ? a.name : 'attachment',
      mimeType: typeof a.mime_type === 'string' ? a.mime_type : 'application/octet-stream',
      previewUrl: httpUrlOrNull(a.preview_url),
    }));
}

export function normalizeItems(
  sourceItems: readonly SourceItem[],
  assistantName: string,
): { lines: TranscriptLine[]; skipped: Record<string, number> } {
  const items = sourceItems as readonly LooseItem[];
  const lines: TranscriptLine[] = [];
  const skipped: Record<string, number> = {};
  const skip = (type: string) => (skipped[type] = (skipped[type] ?? 0) + 1);
  for (const item of items) {
    const type = bareType(String(item.type ?? 'unknown'));
    const base = { itemId: String(item.id), createdAt: toSeconds(item.created_at) };
    switch (type) {
      case 'user_message': {
        const text = textOf(item.content, ['input_text', 'input_tag']).trim();
        // Hosted items put the quote in the content; self-hosted items carry `quoted_text`.
        const quote =
          (textOf(item.content, ['quoted_text']) || (typeof item.quoted_text === 'string' ? item.quoted_text : '')).trim() || null;
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
        lines.push({
          ...base,
          role: 'event',
          speaker: 'Event',
          text: `Tool call: ${String(item.name ?? 'unknown')}${status}`,
          quote: null,
          attachments: [],
        });
        break;
      }
      case 'task': {
        const t = [item.heading, item.summary].filter((x) => typeof x === 'string' && x).join(': ');
        if (t) lines.push({ ...base, role: 'event', speaker: 'Event', text: `Task: ${t}`, quote: null, attachments: [] });
        else skip(type);
        break;
      }
      case 'task_group': {
        const tasks = Array.isArray(item.tasks) ? item.tasks : [];
        const t = tasks
          .map((x: any) => [x?.heading, x?.summary].filter((s) => typeof s === 'string' && s).join(': '))
          .filter(Boolean)
          .join('; ');
        if (t) lines.push({ ...base, role: 'event', speaker: 'Event', text: `Tasks: ${t}`, quote: null, attachments: [] });
        else skip(type);
        break;
      }
      default:
        // Widgets, hidden context, end-of-turn markers, and types newer than this code: not part
        // of what the customer and the assistant said, so not in the transcript.
        skip(type);
    }
  }
  return { lines, skipped };
}

/** A conversation's items and facts as one Transcript: the one place either source assembles it. */
export function assembleTranscript(
  thread: { threadId: string; title?: string | null; createdAt?: unknown; user?: string | null; pageUrl?: unknown },
  items: readonly SourceItem[],
  assistantName: string,
): Transcript {
  const { lines, skipped } = normalizeItems(items, assistantName);
  return {
    threadId: thread.threadId,
    title: thread.title ?? null,
    createdAt: toSeconds(thread.createdAt) || null,
    user: thread.user ?? null,
    pageUrl: httpUrlOrNull(thread.pageUrl),
    lines,
    lastItemId: items.length ? String(items[items.length - 1]!.id) : null,
    itemCount: items.length,
    skipped,
  };
}
