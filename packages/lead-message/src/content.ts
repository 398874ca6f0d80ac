import type { LeadSummary } from '@lead-intake/lead-summary';
import type { TranscriptLine } from '@lead-intake/transcript';
import type { Contacts } from '@lead-intake/contacts';
import { httpUrlOrNull, UNSAFE_TEXT_ALL } from '@lead-intake/http/fields';
import { formatPhone, isE164, isSendableAddress } from '@lead-intake/contacts';

/** Everything the lead email shows. Customer- and model-written strings are untrusted. */
export interface LeadEmailInput {
  shop: { name: string; phone: string; assistantName: string; timezone: string };
  threadId: string;
  /** What triggered the email (auto, idle, pagehide, close, manual; request: the chat's form). */
  reason: string;
  /** The page the chat started on, if the frontend told us (only http(s) becomes a link). */
  pageUrl: string | null;
  contacts: Contacts;
  /** null when the AI summary was unavailable. */
  summary: LeadSummary | null;
  lines: TranscriptLine[];
  /** Triage: an urgent lead (and whether the shop was closed when it went out), a follow-up of an earlier one. */
  flags?: LeadFlags;
  /** The lead's page in the owner's inbox (services/inbox), or null: the first quick action. */
  inboxLink?: string | null;
}

export interface LeadFlags {
  urgent?: boolean;
  shopClosed?: boolean;
  /** The same phone or email produced this earlier lead within the follow-up window. */
  followUp?: { threadId: string; sentAt: number } | null;
  /** The customer asked for a call back through the chat's form (the latest request): the lead's first contact. */
  callback?: { phone: string; name: string | null; bestTime: string | null; textOk: boolean } | null;
  /** A drop-off time the customer picked in the chat (a request the shop confirms). */
  dropOff?: { label: string; time: string } | null;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export const SUBJECT_MAX = 150;
const OPENAI_LOGS = 'https://platform.openai.com/logs/';

/** One line: no control characters (CR/LF/TAB, C0/C1, line separators), collapsed spaces. */
export function oneLine(s: string): string {
  return s.replace(UNSAFE_TEXT_ALL, ' ').replace(/\s+/g, ' ').trim();
}

/** `URGENT (shop closed): `, `Follow-up: `, both, or nothing: what the owner must see first. */
export function subjectPrefix(f: LeadFlags | undefined): string {
  const urgent = f?.urgent ? `URGENT${f.shopClosed ? ' (shop closed)' : ''}: ` : '';
  return `${urgent}${f?.followUp ? 'Follow-up: ' : ''}`;
}

/** What the lead is: `Callback requested: <best time>`, `Preferred drop-off: <time>`, or a (new) lead. */
export function leadKind(f: LeadFlags | undefined): string {
  if (f?.callback) return callbackLine(f.callback);
  if (f?.dropOff) return `Preferred drop-off: ${oneLine(f.dropOff.label)}`;
  return f?.followUp ? 'Lead' : 'New lead';
}

/** `Callback requested: Tomorrow morning` (or `as soon as possible` without a best time): the email's and the text's. */
export const callbackLine = (c: NonNullable<LeadFlags['callback']>) =>
  `Callback requested: ${c.bestTime ? oneLine(c.bestTime) : 'as soon as possible'}`;

export function buildSubject(i: Pick<LeadEmailInput, 'summary' | 'contacts' | 'flags'>): string {
  const who = oneLine(i.summary?.customer_name ?? '') || i.contacts.phones[0] || i.contacts.emails[0] || 'website visitor';
  const what = oneLine(i.summary?.project_summary ?? '') || 'AI summary unavailable';
  const subject = oneLine(`${subjectPrefix(i.flags)}${leadKind(i.flags)}: ${who} - ${what}`);
  return subject.length <= SUBJECT_MAX ? subject : `${subject.slice(0, SUBJECT_MAX - 1).trimEnd()}…`;
}

export interface Action {
  label: string;
  href: string;
}

/** One attachment of a transcript line, its link (http(s) only) resolved. */
export interface ContentAttachment {
  label: string;
  url: string | null;
  image: boolean;
}

/**
 * The lead email's content, built once (`leadEmailContent`) and rendered twice (./html.ts,
 * ./text.ts): each section says what it shows, never how. Strings are as written (customer- and
 * model-written ones untrusted): each renderer escapes for its own format.
 */
export type Section =
  | { kind: 'notes'; notes: string[] }
  /** `title`: what the email is (`New lead` unless said: an update says so). */
  | { kind: 'header'; title?: string; intro: { shop: string; assistant: string; reason: string }; who: string; project: string | null }
  | {
      kind: 'contacts';
      phones: string[];
      /** The phone the customer gave in the callback form (first in `phones`), marked as such. */
      formPhone: string | null;
      emails: string[];
      language: string | null;
      vehicle: string | null;
    }
  | { kind: 'actions'; actions: Action[] }
  | { kind: 'no-summary' }
  | { kind: 'summary'; text: string; handoffReady: boolean; handoffReason: string }
  | { kind: 'list'; title: string; items: string[] }
  | { kind: 'script'; prompts: string[] }
  | { kind: 'drafts'; drafts: Array<{ label: string; value: string }> }
  | {
      kind: 'transcript';
      /** `Transcript` unless said (an update shows only what came after the lead). */
      title?: string;
      lines: Array<{ speaker: string; stamp: string; quote: string | null; text: string; attachments: ContentAttachment[] }>;
    }
  /** `once`: what the email is sent once per (`conversation` unless said). */
  | { kind: 'footer'; threadId: string; once?: string };

export interface LeadEmailContent {
  subject: string;
  sections: Section[];
}

export function actions(i: Pick<LeadEmailInput, 'contacts' | 'summary' | 'pageUrl' | 'threadId' | 'inboxLink'>): Action[] {
  const out: Action[] = [];
  const inbox = httpUrlOrNull(i.inboxLink ?? null);
  if (inbox) out.push({ label: 'Open in inbox', href: inbox });
  const phone = i.contacts.phones.find(isE164);
  const email = i.contacts.emails.find(isSendableAddress);
  const s = i.summary;
  if (phone) out.push({ label: 'Call', href: `tel:${phone}` });
  if (phone) out.push({ label: 'Text', href: `sms:${phone}${s ? `?body=${encodeURIComponent(s.sms_draft)}` : ''}` });
  if (email) {
    const q = s ? `?subject=${encodeURIComponent(s.email_subject)}&body=${encodeURIComponent(s.email_body)}` : '';
    out.push({ label: 'Email', href: `mailto:${encodeURIComponent(email).replace(/%40/g, '@')}${q}` });
  }
  const page = httpUrlOrNull(i.pageUrl);
  if (page) out.push({ label: 'Open chat page', href: page });
  out.push({ label: 'OpenAI logs', href: OPENAI_LOGS + encodeURIComponent(i.threadId) });
  return out;
}

function vehicleText(s: LeadSummary): string | null {
  const v = s.vehicle;
  if (!v) return null;
  const t = [v.year === null ? '' : String(v.year), v.make ?? '', v.model ?? ''].join(' ').trim();
  return t || null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Building an Intl formatter costs more than rendering a line: keep one per time zone. */
export function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** What the lead email says, in order: triage notes, header, contacts, actions, the summary's sections, the transcript. */
export function leadEmailContent(i: LeadEmailInput): LeadEmailContent {
  const s = i.summary;
  const time = formatter(i.shop.timezone);
  const when = (sec: number) => (sec > 0 ? time.format(new Date(sec * 1000)) : '');
  const sections: Section[] = [];

  // Triage first: urgent (and the shop closed), a follow-up of an earlier lead.
  const f = i.flags;
  const notes = [
    ...(f?.urgent
      ? [
          `Urgent: the customer says the car is unsafe or will not drive, or they are stranded or need a tow.` +
            (f.shopClosed ? ' The shop is closed now.' : ''),
        ]
      : []),
    ...(f?.callback ? [callbackNote(f.callback)] : []),
    ...(f?.dropOff ? [dropOffNote(f.dropOff)] : []),
    ...(f?.followUp ? [`Follow-up: the same customer's earlier lead ${f.followUp.threadId} went out ${when(f.followUp.sentAt)}.`] : []),
  ];
  if (notes.length) sections.push({ kind: 'notes', notes });

  sections.push({
    kind: 'header',
    intro: { shop: i.shop.name, assistant: i.shop.assistantName, reason: i.reason },
    who: oneLine(s?.customer_name ?? '') || 'Website visitor',
    project: s ? oneLine(s.project_summary) : null,
  });
  sections.push({
    kind: 'contacts',
    phones: i.contacts.phones.filter(isE164),
    formPhone: f?.callback?.phone ?? null,
    emails: i.contacts.emails.filter(isSendableAddress),
    language: s?.customer_language ? oneLine(s.customer_language) : null,
    vehicle: s ? vehicleText(s) : null,
  });
  sections.push({ kind: 'actions', actions: actions(i) });

  if (!s) sections.push({ kind: 'no-summary' });
  else {
    sections.push(
      { kind: 'summary', text: s.summary, handoffReady: s.handoff_ready, handoffReason: oneLine(s.handoff_reason) },
      { kind: 'list', title: 'Key details', items: s.key_details },
      { kind: 'list', title: 'Missing info', items: s.missing_info },
      { kind: 'list', title: 'Next steps', items: s.next_steps },
      { kind: 'script', prompts: s.call_script_prompts },
      {
        kind: 'drafts',
        drafts: [
          { label: 'SMS', value: s.sms_draft },
          { label: 'Email subject', value: s.email_subject },
          { label: 'Email body', value: s.email_body },
          { label: `Outreach (${oneLine(s.customer_language)})`, value: s.outreach_message },
        ],
      },
    );
  }

  sections.push(transcriptSection(i.lines, when));
  sections.push({ kind: 'footer', threadId: i.threadId });
  return { subject: buildSubject(i), sections };
}

/** The transcript's lines as a section (stamped in the shop's time zone). */
export function transcriptSection(lines: TranscriptLine[], when: (sec: number) => string, title?: string): Section {
  return {
    kind: 'transcript',
    ...(title ? { title } : {}),
    lines: lines.map((l) => ({
      speaker: l.speaker,
      stamp: when(l.createdAt),
      quote: l.quote,
      text: l.text,
      attachments: l.attachments.map((a) => ({
        label: `${a.name} (${a.mimeType})`,
        url: httpUrlOrNull(a.previewUrl),
        image: a.mimeType.toLowerCase().startsWith('image/'),
      })),
    })),
  };
}

/** The note a callback request makes (the lead's, and an update's). */
export const callbackNote = (c: NonNullable<LeadFlags['callback']>) =>
  `${callbackLine(c)}. The customer asked for a call back at ${formatPhone(c.phone)} through the chat's form` +
  `${c.name ? ` (name: ${oneLine(c.name)})` : ''}; ${c.textOk ? 'texting is OK' : 'no texts'}.`;

/** The note a picked drop-off time makes. */
export const dropOffNote = (d: NonNullable<LeadFlags['dropOff']>) =>
  `Preferred drop-off: ${oneLine(d.label)} (picked in the chat; confirm it with the customer).`;
