import type { LeadEmailContent, Section } from './content';
import { formatPhone } from '@lead-intake/contacts';

const bullets = (xs: string[]) => (xs.length ? xs.map((x) => `- ${x}`) : ['- None']);

/** One section as plain-text lines (each ends with a blank line, as paragraphs). */
function section(s: Section): string[] {
  switch (s.kind) {
    case 'notes':
      return [...s.notes.map((n) => `!! ${n}`), ''];
    case 'header':
      return [
        `${s.title ?? 'New lead'} for ${s.intro.shop} (via ${s.intro.assistant}, trigger: ${s.intro.reason})`,
        `${s.who}${s.project !== null ? ` - ${s.project}` : ''}`,
        '',
      ];
    case 'contacts': {
      const rows = [
        ...s.phones.map((p) => `Phone: ${formatPhone(p)}  tel:${p}  sms:${p}${p === s.formPhone ? '  (callback form)' : ''}`),
        ...s.emails.map((e) => `Email: ${e}  mailto:${e}`),
        ...(s.language ? [`Language: ${s.language}`] : []),
        ...(s.vehicle ? [`Vehicle: ${s.vehicle}`] : []),
      ];
      return ['CONTACT', ...(rows.length ? rows : ['No contact details.']), ''];
    }
    case 'actions':
      return ['QUICK ACTIONS', ...s.actions.map((a) => `${a.label}: ${a.href}`), ''];
    case 'no-summary':
      return ['AI SUMMARY', 'AI summary unavailable. The contact details and the full transcript are below.', ''];
    case 'summary':
      return ['SUMMARY', s.text, `Ready for handoff: ${s.handoffReady ? 'yes' : 'no'} - ${s.handoffReason}`, ''];
    case 'list':
      return [s.title.toUpperCase(), ...bullets(s.items), ''];
    case 'script':
      return ['CALL SCRIPT', ...s.prompts.map((p, n) => `${n + 1}. ${p}`), ''];
    case 'drafts':
      return ['DRAFTS TO COPY', ...s.drafts.flatMap((d) => [`${d.label}:`, d.value, ''])];
    case 'transcript':
      return [
        (s.title ?? 'Transcript').toUpperCase(),
        ...s.lines.flatMap((l) => [
          `${l.speaker}${l.stamp ? ` (${l.stamp})` : ''}:`,
          ...(l.quote ? l.quote.split(/\r\n|\r|\n/).map((q) => `> ${q}`) : []),
          ...(l.text ? [l.text] : []),
          ...l.attachments.map((a) => `[attachment] ${a.label}${a.url ? ` ${a.url}` : ''}`),
          '',
        ]),
      ];
    case 'footer':
      return [`Thread ${s.threadId}`];
  }
}

/** The email's plain-text part: the same sections, for clients that show text and for search. */
export function renderText(c: LeadEmailContent): string {
  return c.sections.flatMap(section).join('\n');
}
