import { leadEmailContent, type LeadEmailInput, type RenderedEmail } from './content';
import { renderHtml } from './html';
import { renderText } from './text';

/** The lead email: its content built once (./content.ts), rendered as HTML (./html.ts) and as text (./text.ts). */
export function renderLeadEmail(i: LeadEmailInput): RenderedEmail {
  const content = leadEmailContent(i);
  return { subject: content.subject, html: renderHtml(content), text: renderText(content) };
}
