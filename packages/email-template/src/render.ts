import type { LeadSummary } from '@lead-intake/lead-summary';
import type { Contacts, TranscriptLine } from '@lead-intake/transcript';
import { httpUrlOrNull, UNSAFE_TEXT_ALL } from '@lead-intake/http/fields';
import { isE164, isSendableAddress } from '@lead-intake/transcript/address';

/** Everything the lead email shows. Customer- and model-written strings are untrusted. */
export interface LeadEmailInput {
  shop: { name: string; phone: string; assistantName: string; timezone: string };
  threadId: string;
  /** What triggered the email (auto, idle, pagehide, close, manual). */
  reason: string;
  /** The page the chat started on, if the frontend told us (only http(s) becomes a link). */
  pageUrl: string | null;
  contacts: Contacts;
  /** null when the AI summary was unavailable. */
  summary: LeadSummary | null;
  lines: TranscriptLine[];
  /** Triage: an urgent lead (and whether the shop was closed when it went out), a follow-up of an earlier one. */
  flags?: LeadFlags;
}

export interface LeadFlags {
  urgent?: boolean;
  shopClosed?: boolean;
  /** The same phone or email produced this earlier lead within the follow-up window. */
  followUp?: { threadId: string; sentAt: number } | null;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export const SUBJECT_MAX = 150;
const OPENAI_LOGS = 'https://platform.openai.com/logs/';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** HTML-escapes text for element content and quoted attribute values. */
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]!);
const escLines = (s: string) => esc(s).replace(/\r\n|\r|\n/g, '<br>');

/** One line: no control characters (CR/LF/TAB, C0/C1, line separators), collapsed spaces. */
export function oneLine(s: string): string {
  return s.replace(UNSAFE_TEXT_ALL, ' ').replace(/\s+/g, ' ').trim();
}

/** `URGENT (shop closed): `, `Follow-up: `, both, or nothing: what the owner must see first. */
export function subjectPrefix(f: LeadFlags | undefined): string {
  const urgent = f?.urgent ? `URGENT${f.shopClosed ? ' (shop closed)' : ''}: ` : '';
  return `${urgent}${f?.followUp ? 'Follow-up: ' : ''}`;
}

export function buildSubject(i: Pick<LeadEmailInput, 'summary' | 'contacts' | 'flags'>): string {
  const who = oneLine(i.summary?.customer_name ?? '') || i.contacts.phones[0] || i.contacts.emails[0] || 'website visitor';
  const what = oneLine(i.summary?.project_summary ?? '') || 'AI summary unavailable';
  const subject = oneLine(`${subjectPrefix(i.flags)}${i.flags?.followUp ? 'Lead' : 'New lead'}: ${who} - ${what}`);
  return subject.length <= SUBJECT_MAX ? subject : `${subject.slice(0, SUBJECT_MAX - 1).trimEnd()}…`;
}

/** (408) 555-0142 for North American numbers, else E.164 as it is (the email's and the owner's text's). */
export function formatPhone(e164: string): string {
  const m = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `(${m[1]}) ${m[2]}-${m[3]}` : e164;
}

interface Action {
  label: string;
  href: string;
}

function actions(i: LeadEmailInput): Action[] {
  const out: Action[] = [];
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

// Inline styles (Gmail and Outlook drop most <style>); the <style> block only adds dark mode where
// it is honoured (Apple Mail, iOS, Outlook.com), and the palette reads in both schemes anyway.
const FONT = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;";
const C = {
  page: 'background:#eef0f3;',
  card: 'background:#ffffff;border:1px solid #d9dde3;border-radius:8px;',
  text: `color:#1f2328;${FONT}font-size:15px;line-height:1.5;`,
  muted: 'color:#59636e;font-size:13px;',
  h2: `margin:0 0 8px 0;font-size:13px;letter-spacing:.06em;text-transform:uppercase;color:#59636e;${FONT}`,
  chip:
    'display:inline-block;margin:0 6px 6px 0;padding:7px 14px;border-radius:16px;background:#0b5cad;color:#ffffff;' +
    `text-decoration:none;font-weight:600;font-size:14px;${FONT}`,
  link: 'color:#0b5cad;',
  quote: 'margin:4px 0;padding:4px 10px;border-left:3px solid #c4cad1;color:#59636e;',
  draft: 'margin:4px 0 12px 0;padding:10px 12px;background:#f6f8fa;border:1px solid #d9dde3;border-radius:6px;white-space:pre-wrap;',
  banner: 'padding:10px 12px;background:#fff4d6;border:1px solid #e6c36a;border-radius:6px;color:#5c4200;',
};

const DARK_CSS =
  '@media (prefers-color-scheme: dark){' +
  '.lp-page{background:#111316 !important}.lp-card{background:#1b1f24 !important;border-color:#30363d !important}' +
  '.lp-text,.lp-text td{color:#e6edf3 !important}.lp-muted{color:#9aa5b1 !important}' +
  '.lp-draft{background:#22272e !important;border-color:#30363d !important}.lp-link{color:#6cb6ff !important}' +
  '.lp-banner{background:#3a2f0b !important;color:#f2d98c !important}.lp-rule{border-color:#30363d !important}}';

function section(title: string, body: string): string {
  return `<tr><td style="padding:16px 24px 0 24px;"><h2 class="lp-muted" style="${C.h2}">${esc(title)}</h2>${body}</td></tr>`;
}

function list(items: string[]): string {
  if (items.length === 0) return `<p class="lp-muted" style="margin:0;${C.muted}">None</p>`;
  return `<ul style="margin:0;padding-left:20px;">${items.map((x) => `<li>${escLines(x)}</li>`).join('')}</ul>`;
}

function draft(label: string, value: string): string {
  return `<div class="lp-muted" style="${C.muted}">${esc(label)}</div><div class="lp-draft" style="${C.draft}">${escLines(value)}</div>`;
}

function vehicleText(s: LeadSummary): string | null {
  const v = s.vehicle;
  if (!v) return null;
  const t = [v.year === null ? '' : String(v.year), v.make ?? '', v.model ?? ''].join(' ').trim();
  return t || null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Building an Intl formatter costs more than rendering a line: keep one per time zone. */
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

export function renderLeadEmail(i: LeadEmailInput): RenderedEmail {
  const subject = buildSubject(i);
  const s = i.summary;
  const acts = actions(i);
  const time = formatter(i.shop.timezone);
  const when = (sec: number) => (sec > 0 ? time.format(new Date(sec * 1000)) : '');
  const who = oneLine(s?.customer_name ?? '') || 'Website visitor';
  const h: string[] = [];
  const t: string[] = [];

  h.push(
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
      `<meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" ` +
      `content="light dark"><title>${esc(subject)}</title><style>${DARK_CSS}</style></head>` +
      `<body class="lp-page" style="margin:0;padding:0;${C.page}">` +
      `<table role="presentation" class="lp-page" width="100%" cellpadding="0" cellspacing="0" ` +
      `border="0" style="${C.page}"><tr><td align="center" style="padding:16px 8px;">` +
      `<table role="presentation" class="lp-card lp-text" width="640" cellpadding="0" ` +
      `cellspacing="0" border="0" style="width:100%;max-width:640px;${C.card}${C.text}">`,
  );

  // Triage first: urgent (and the shop closed), a follow-up of an earlier lead.
  const f = i.flags;
  const notes = [
    ...(f?.urgent
      ? [
          `Urgent: the customer says the car is unsafe or will not drive, or they are stranded or need a tow.` +
            (f.shopClosed ? ' The shop is closed now.' : ''),
        ]
      : []),
    ...(f?.followUp ? [`Follow-up: the same customer's earlier lead ${f.followUp.threadId} went out ${when(f.followUp.sentAt)}.`] : []),
  ];
  if (notes.length) {
    h.push(
      `<tr><td style="padding:16px 24px 0 24px;">` +
        notes.map((n) => `<div class="lp-banner" style="${C.banner}margin-bottom:6px;">${esc(n)}</div>`).join('') +
        `</td></tr>`,
    );
    t.push(...notes.map((n) => `!! ${n}`), '');
  }

  // Header
  h.push(
    `<tr><td style="padding:20px 24px 0 24px;"><div class="lp-muted" style="${C.muted}">New lead ` +
      `for ${esc(i.shop.name)} · via ${esc(i.shop.assistantName)} · trigger: ${esc(i.reason)}</div>` +
      `<div style="font-size:22px;font-weight:700;margin-top:4px;">${esc(who)}</div>` +
      (s ? `<div style="margin-top:2px;">${esc(oneLine(s.project_summary))}</div>` : '') +
      `</td></tr>`,
  );
  t.push(
    `New lead for ${i.shop.name} (via ${i.shop.assistantName}, trigger: ${i.reason})`,
    `${who}${s ? ` - ${oneLine(s.project_summary)}` : ''}`,
    '',
  );

  // Contacts
  const contactRows: string[] = [];
  const contactText: string[] = [];
  for (const p of i.contacts.phones.filter(isE164)) {
    contactRows.push(
      `<div>Phone: <a class="lp-link" style="${C.link}" href="tel:${p}">${esc(formatPhone(p))}</a> ` +
        `· <a class="lp-link" style="${C.link}" href="sms:${p}">text</a></div>`,
    );
    contactText.push(`Phone: ${formatPhone(p)}  tel:${p}  sms:${p}`);
  }
  for (const e of i.contacts.emails.filter(isSendableAddress)) {
    contactRows.push(
      `<div>Email: <a class="lp-link" style="${C.link}" ` +
        `href="mailto:${esc(encodeURIComponent(e).replace(/%40/g, '@'))}">${esc(e)}</a></div>`,
    );
    contactText.push(`Email: ${e}  mailto:${e}`);
  }
  if (s?.customer_language) {
    contactRows.push(`<div class="lp-muted" style="${C.muted}">Language: ${esc(oneLine(s.customer_language))}</div>`);
    contactText.push(`Language: ${oneLine(s.customer_language)}`);
  }
  const vehicle = s ? vehicleText(s) : null;
  if (vehicle) {
    contactRows.push(`<div class="lp-muted" style="${C.muted}">Vehicle: ${esc(vehicle)}</div>`);
    contactText.push(`Vehicle: ${vehicle}`);
  }
  h.push(section('Contact', contactRows.join('') || `<p style="margin:0;">No contact details.</p>`));
  t.push('CONTACT', ...(contactText.length ? contactText : ['No contact details.']), '');

  // Quick actions
  h.push(section('Quick actions', acts.map((a) => `<a href="${esc(a.href)}" style="${C.chip}">${esc(a.label)}</a>`).join('')));
  t.push('QUICK ACTIONS', ...acts.map((a) => `${a.label}: ${a.href}`), '');

  if (!s) {
    h.push(
      section(
        'AI summary',
        `<div class="lp-banner" style="${C.banner}"><strong>AI summary ` +
          `unavailable.</strong> The contact details and the full transcript are below.</div>`,
      ),
    );
    t.push('AI SUMMARY', 'AI summary unavailable. The contact details and the full transcript are below.', '');
  } else {
    h.push(
      section(
        'Summary',
        `<p style="margin:0;">${escLines(s.summary)}</p><p class="lp-muted" style="margin:6px 0 0 ` +
          `0;${C.muted}">Ready for handoff: ${s.handoff_ready ? 'yes' : 'no'} · ${esc(oneLine(s.handoff_reason))}</p>`,
      ),
    );
    h.push(section('Key details', list(s.key_details)));
    h.push(section('Missing info', list(s.missing_info)));
    h.push(section('Next steps', list(s.next_steps)));
    h.push(
      section(
        'Call script',
        `<ol style="margin:0;padding-left:20px;">${s.call_script_prompts.map((p) => `<li>${escLines(p)}</li>`).join('')}</ol>`,
      ),
    );
    h.push(
      section(
        'Drafts to copy',
        draft('SMS', s.sms_draft) +
          draft('Email subject', s.email_subject) +
          draft('Email body', s.email_body) +
          draft(`Outreach (${oneLine(s.customer_language)})`, s.outreach_message),
      ),
    );
    const bullets = (xs: string[]) => (xs.length ? xs.map((x) => `- ${x}`) : ['- None']);
    t.push('SUMMARY', s.summary, `Ready for handoff: ${s.handoff_ready ? 'yes' : 'no'} - ${oneLine(s.handoff_reason)}`, '');
    t.push(
      'KEY DETAILS',
      ...bullets(s.key_details),
      '',
      'MISSING INFO',
      ...bullets(s.missing_info),
      '',
      'NEXT STEPS',
      ...bullets(s.next_steps),
      '',
    );
    t.push('CALL SCRIPT', ...s.call_script_prompts.map((p, n) => `${n + 1}. ${p}`), '');
    t.push(
      'DRAFTS TO COPY',
      'SMS:',
      s.sms_draft,
      '',
      'Email subject:',
      s.email_subject,
      '',
      'Email body:',
      s.email_body,
      '',
      `Outreach (${oneLine(s.customer_language)}):`,
      s.outreach_message,
      '',
    );
  }

  // Transcript
  const rows: string[] = [];
  t.push('TRANSCRIPT');
  for (const l of i.lines) {
    const stamp = when(l.createdAt);
    const atts = l.attachments.map((a) => {
      const url = httpUrlOrNull(a.previewUrl);
      const label = `${a.name} (${a.mimeType})`;
      if (!url) return `<div>Attachment: ${esc(label)}</div>`;
      // Photos show as a thumbnail that opens the full image; other files as a link.
      const thumb = a.mimeType.toLowerCase().startsWith('image/')
        ? // A fixed alt text: the customer's file name is shown (escaped) in the link below, never inside a tag.
          `<div style="margin:6px 0;"><a href="${esc(url)}"><img src="${esc(url)}" alt="Photo from the customer" width="160" ` +
          `style="display:block;width:160px;max-width:100%;height:auto;border:1px solid #e3e6ea;border-radius:4px;"></a></div>`
        : '';
      return `${thumb}<div>Attachment: <a class="lp-link" style="${C.link}" href="${esc(url)}">${esc(label)}</a></div>`;
    });
    rows.push(
      `<tr><td class="lp-rule" style="padding:8px 0;border-top:1px solid #e3e6ea;vertical-align:top;">` +
        `<div><strong>${esc(l.speaker)}</strong> <span class="lp-muted" style="${C.muted}">${esc(stamp)}</span></div>` +
        (l.quote ? `<div class="lp-muted" style="${C.quote}">${escLines(l.quote)}</div>` : '') +
        (l.text ? `<div>${escLines(l.text)}</div>` : '') +
        atts.join('') +
        `</td></tr>`,
    );
    t.push(`${l.speaker}${stamp ? ` (${stamp})` : ''}:`);
    if (l.quote) t.push(...l.quote.split(/\r\n|\r|\n/).map((q) => `> ${q}`));
    if (l.text) t.push(l.text);
    for (const a of l.attachments)
      t.push(`[attachment] ${a.name} (${a.mimeType})${httpUrlOrNull(a.previewUrl) ? ` ${httpUrlOrNull(a.previewUrl)}` : ''}`);
    t.push('');
  }
  h.push(
    section(
      `Transcript (${i.lines.length} messages)`,
      `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">${rows.join('')}</table>`,
    ),
  );

  h.push(
    `<tr><td class="lp-muted" style="padding:16px 24px 20px 24px;${C.muted}">Thread ` +
      `${esc(i.threadId)} · sent once per conversation by chatkit-lead-intake</td></tr>`,
  );
  h.push('</table></td></tr></table></body></html>');
  t.push(`Thread ${i.threadId}`);

  return { subject, html: h.join(''), text: t.join('\n') };
}
