import { isHidden, type ThreadItem } from '@lead-intake/chatkit-protocol';

export type ModelPart =
  | { type: 'input_text'; text: string }
  | { type: 'input_image'; image_url: string; detail: 'auto' }
  | { type: 'input_file'; file_url: string; filename: string };
export type ModelMessage = { role: 'user' | 'assistant'; content: string | ModelPart[] };

/**
 * Stored items, oldest first, as Responses input (the official converter's rules,
 * chatkit/agents.py ThreadItemConverter): tags as `@text`, the last message's quote as an extra
 * user message, hidden context wrapped, a widget described with its JSON, a structured input with
 * its status and answers; client tool calls left out (this server makes none).
 * Attachments: every message says which files it shared; the files of a message with a URL in
 * `fileUrls` (the current turn's) go to the model as inputs, images as `input_image`, other
 * files (PDFs) as `input_file`.
 */
export function toModelInput(items: ThreadItem[], fileUrls: Map<string, string> = new Map()): ModelMessage[] {
  const out: ModelMessage[] = [];
  items.forEach((item, i) => {
    if (item.type === 'user_message') {
      const text = item.content.map((c) => (c.type === 'input_tag' ? `@${c.text}` : c.text)).join('');
      const shared = item.attachments.length ? `\n[The customer shared: ${item.attachments.map((a) => a.name).join(', ')}]` : '';
      const files: ModelPart[] = item.attachments.flatMap((a): ModelPart[] => {
        const url = fileUrls.get(a.id);
        if (!url) return [];
        return a.type === 'image'
          ? [{ type: 'input_image', image_url: url, detail: 'auto' }]
          : [{ type: 'input_file', file_url: url, filename: a.name }];
      });
      out.push({ role: 'user', content: files.length ? [{ type: 'input_text', text: text + shared }, ...files] : text + shared });
      if (item.quoted_text && i === items.length - 1)
        out.push({ role: 'user', content: `The user is referring to this in particular: ${item.quoted_text}` });
    } else if (item.type === 'assistant_message') {
      out.push({ role: 'assistant', content: item.content.map((c) => c.text).join('') });
    } else if (item.type === 'widget') {
      out.push({
        role: 'user',
        content: `The following graphical UI widget (id: ${item.id}) was displayed to the user:${JSON.stringify(item.widget)}`,
      });
    } else if (item.type === 'structured_input') {
      const lines = item.inputs.map((q) => {
        const a = q.answer;
        return `- ${q.question}: ${!a ? 'unanswered' : a.skipped ? 'skipped' : a.values.join(', ')}`;
      });
      out.push({
        role: 'user',
        content:
          `A structured input request was displayed to the user with the following status: ${item.status}\n` +
          `<StructuredInput>\n${lines.join('\n')}\n</StructuredInput>`,
      });
    } else if (isHidden(item)) {
      out.push({
        role: 'user',
        content: `<HiddenContext>${typeof item.content === 'string' ? item.content : JSON.stringify(item.content)}</HiddenContext>`,
      });
    }
  });
  return out;
}
