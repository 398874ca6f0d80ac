import type { Contacts } from '@lead-intake/contacts';
import { isE164, isSendableAddress } from '@lead-intake/contacts';
import type { TranscriptLine } from '@lead-intake/transcript';
import {
  actions,
  callbackLine,
  callbackNote,
  dropOffNote,
  formatter,
  oneLine,
  SUBJECT_MAX,
  transcriptSection,
  type LeadEmailContent,
  type LeadFlags,
  type RenderedEmail,
  type Section,
} from './content';
import { renderHtml } from './html';
import { renderText } from './text';

/**
 * A request the customer made after the conversation's lead went out (a callback through the
 * chat's form, a picked drop-off time): not a second lead, an update to that one. It says what
 * was asked, how to reach the customer, and only what was said since the lead.
 */
export interface RequestUpdateInput {
  shop: { name: string; phone: string; assistantName: string; timezone: string };
  threadId: string;
  pageUrl: string | null;
  /** When the conversation's lead went out (epoch seconds). */
  leadSentAt: number;
  /** The one request this update is for: a callback or a drop-off time. */
  request: Pick<LeadFlags, 'callback' | 'dropOff'>;
  contacts: Contacts;
  /** The conversation since the lead went out. */
  lines: TranscriptLine[];
}

/** `Callback requested: Tomorrow morning` or `Preferred drop-off: Thu 8:00 AM`: what the update is about. */
export function requestKind(r: RequestUpdateInput['request']): string {
  if (r.callback) return callbackLine(r.callback);
  if (r.dropOff) return `Preferred drop-off: ${oneLine(r.dropOff.label)}`;
  return 'Update';
}

export function requestUpdateContent(i: RequestUpdateInput): LeadEmailContent {
  const time = formatter(i.shop.timezone);
  const when = (sec: number) => (sec > 0 ? time.format(new Date(sec * 1000)) : '');
  const { callback, dropOff } = i.request;
  const who = oneLine(callback?.name ?? '') || i.contacts.phones[0] || i.contacts.emails[0] || 'website visitor';
  const sections: Section[] = [
    {
      kind: 'notes',
      notes: [
        ...(callback ? [callbackNote(callback)] : []),
        ...(dropOff ? [dropOffNote(dropOff)] : []),
        `Update to this conversation's lead, which went out ${when(i.leadSentAt)}: not a new lead.`,
      ],
    },
    {
      kind: 'header',
      title: 'Update to a lead',
      intro: { shop: i.shop.name, assistant: i.shop.assistantName, reason: 'request' },
      who: oneLine(callback?.name ?? '') || 'Website visitor',
      project: null,
    },
    {
      kind: 'contacts',
      phones: i.contacts.phones.filter(isE164),
      formPhone: callback?.phone ?? null,
      emails: i.contacts.emails.filter(isSendableAddress),
      language: null,
      vehicle: null,
    },
    { kind: 'actions', actions: actions({ ...i, summary: null }) },
    transcriptSection(i.lines, when, 'Since the lead'),
    { kind: 'footer', threadId: i.threadId, once: 'request' },
  ];
  const subject = oneLine(`${requestKind(i.request)}: ${who} - update to the lead of ${when(i.leadSentAt)}`);
  return { subject: subject.length <= SUBJECT_MAX ? subject : `${subject.slice(0, SUBJECT_MAX - 1).trimEnd()}…`, sections };
}

/** The update's email, rendered as the lead's is (the same sections and renderers). */
export function renderRequestUpdate(i: RequestUpdateInput): RenderedEmail {
  const content = requestUpdateContent(i);
  return { subject: content.subject, html: renderHtml(content), text: renderText(content) };
}
