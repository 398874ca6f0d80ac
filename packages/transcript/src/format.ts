import type { TranscriptLine } from './normalize';

/** The transcript as plain text for the summary model: one speaker-labelled line per message. */
export function formatForModel(lines: TranscriptLine[]): string {
  return lines
    .map((l) => {
      const parts: string[] = [];
      if (l.quote) parts.push(`(quoting: "${l.quote}")`);
      if (l.text) parts.push(l.text);
      for (const a of l.attachments) parts.push(`[attachment: ${a.name}, ${a.mimeType}]`);
      return `${l.speaker}: ${parts.join(' ')}`;
    })
    .join('\n');
}
