import { createHash } from 'node:crypto';
import { assistantMessageItem, outputText, userMessageItem } from './items';
import type { Attachment, ThreadItem, ThreadMetadata } from './types';

/**
 * Hosted ChatKit threads (`/v1/chatkit/threads`) -> the custom-server protocol's shapes. The two
 * differ (reference, section 2.2): hosted quotes are content parts, self-hosted ones a field;
 * hosted times are Unix seconds, self-hosted ones ISO strings; hosted types carry `chatkit.`.
 */

const iso = (seconds: unknown) => new Date((typeof seconds === 'number' ? seconds : 0) * 1000).toISOString();

/**
 * A time-sortable id derived only from the hosted item (its time, position and id), so importing
 * the same thread twice writes the same items: the import is idempotent.
 */
export function importedItemId(prefix: string, createdAtSeconds: number, position: number, hostedId: string): string {
  const hash = createHash('sha256').update(hostedId).digest('hex').slice(0, 8);
  return `${prefix}_${Math.round(createdAtSeconds * 1000)
    .toString(36)
    .padStart(9, '0')}${position.toString(36).padStart(4, '0')}${hash}`;
}

export function convertHostedThread(t: Record<string, any>): { thread: ThreadMetadata; user: string } {
  const status =
    t.status?.type === 'locked' || t.status?.type === 'closed'
      ? { type: t.status.type, ...(t.status.reason ? { reason: t.status.reason } : {}) }
      : { type: 'active' as const };
  return {
    user: String(t.user),
    thread: { id: String(t.id), title: t.title ?? null, created_at: iso(t.created_at), status, metadata: { migrated_from: 'hosted' } },
  };
}

function annotation(a: Record<string, any>) {
  if (a?.source?.type === 'url') return { type: 'annotation', source: { type: 'url', url: a.source.url, title: a.source.url } };
  if (a?.source?.type === 'file')
    return { type: 'annotation', source: { type: 'file', filename: a.source.filename, title: a.source.filename } };
  return null;
}

function json(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}

/** One hosted item as a self-hosted item, or null for what has no self-hosted equivalent. */
export function convertHostedItem(item: Record<string, any>, threadId: string, position: number): ThreadItem | null {
  const created = typeof item.created_at === 'number' ? item.created_at : 0;
  const base = (prefix: string) => ({
    id: importedItemId(prefix, created, position, String(item.id)),
    thread_id: threadId,
    created_at: iso(created),
  });
  switch (String(item.type).replace(/^chatkit\./, '')) {
    case 'user_message': {
      const parts: any[] = Array.isArray(item.content) ? item.content : [];
      const quoted = parts
        .filter((c) => c?.type === 'quoted_text')
        .map((c) => c.text)
        .join('\n');
      const { id, created_at } = base('msg');
      return userMessageItem({
        id,
        threadId,
        createdAt: created_at,
        content: parts.filter((c) => c?.type === 'input_text').map((c) => ({ type: 'input_text', text: String(c.text ?? '') })),
        attachments: (Array.isArray(item.attachments) ? item.attachments : []).map((a: any): Attachment => {
          const base = {
            id: String(a.id),
            name: String(a.name ?? 'attachment'),
            mime_type: String(a.mime_type ?? 'application/octet-stream'),
          };
          return a.type === 'image' && a.preview_url
            ? { ...base, type: 'image', preview_url: String(a.preview_url) }
            : { ...base, type: 'file' };
        }),
        quotedText: quoted,
        inferenceOptions: item.inference_options && typeof item.inference_options === 'object' ? item.inference_options : {},
      });
    }
    case 'assistant_message': {
      const { id, created_at } = base('msg');
      return assistantMessageItem({
        id,
        threadId,
        createdAt: created_at,
        content: (Array.isArray(item.content) ? item.content : []).map((c: any) =>
          outputText(String(c.text ?? ''), (c.annotations ?? []).map(annotation).filter(Boolean)),
        ),
      });
    }
    case 'client_tool_call':
      return {
        ...base('tc'),
        type: 'client_tool_call',
        status: item.status === 'pending' ? 'pending' : 'completed',
        call_id: String(item.call_id ?? ''),
        name: String(item.name ?? ''),
        arguments: (json(item.arguments) ?? {}) as Record<string, unknown>,
        ...(item.output !== null && item.output !== undefined ? { output: item.output } : {}),
      };
    case 'widget': {
      const widget = json(item.widget);
      return widget && typeof widget === 'object' ? { ...base('msg'), type: 'widget', widget: widget as Record<string, unknown> } : null;
    }
    case 'task':
      return {
        ...base('tsk'),
        type: 'task',
        task: { type: 'custom', title: item.heading ?? undefined, content: item.summary ?? undefined, status_indicator: 'complete' },
      };
    case 'task_group':
      return {
        ...base('wf'),
        type: 'workflow',
        workflow: {
          type: 'custom',
          tasks: (item.tasks ?? []).map((x: any) => ({
            type: 'custom',
            title: x.heading ?? undefined,
            content: x.summary ?? undefined,
            status_indicator: 'complete',
          })),
          expanded: false,
        },
      };
    default:
      return null;
  }
}
