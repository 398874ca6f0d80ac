import { isHidden, type ThreadItem } from '@lead-intake/chatkit-protocol';

export type ModelMessage = { role: 'user' | 'assistant'; content: string };

/**
 * Stored items, oldest first, as Responses input (the official converter's rules,
 * chatkit/agents.py ThreadItemConverter): tags as `@text`, the last message's quote as an extra
 * user message, hidden context wrapped, tool calls and widgets left out (this server makes none).
 */
export function toModelInput(items: ThreadItem[]): ModelMessage[] {
  const out: ModelMessage[] = [];
  items.forEach((item, i) => {
    if (item.type === 'user_message') {
      const text = item.content.map((c) => (c.type === 'input_tag' ? `@${c.text}` : c.text)).join('');
      const shared = item.attachments.length ? `\n[The customer shared: ${item.attachments.map((a) => a.name).join(', ')}]` : '';
      out.push({ role: 'user', content: text + shared });
      if (item.quoted_text && i === items.length - 1)
        out.push({ role: 'user', content: `The user is referring to this in particular: ${item.quoted_text}` });
    } else if (item.type === 'assistant_message') {
      out.push({ role: 'assistant', content: item.content.map((c) => c.text).join('') });
    } else if (isHidden(item)) {
      out.push({
        role: 'user',
        content: `<HiddenContext>${typeof item.content === 'string' ? item.content : JSON.stringify(item.content)}</HiddenContext>`,
      });
    }
  });
  return out;
}
