import type { LeadEmailContent, Section } from './content';
import { formatPhone } from '@lead-intake/contacts';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** HTML-escapes text for element content and quoted attribute values. */
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c]!);
const escLines = (s: string) => esc(s).replace(/\r\n|\r|\n/g, '<br>');

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

function titled(title: string, body: string): string {
  return `<tr><td style="padding:16px 24px 0 24px;"><h2 class="lp-muted" style="${C.h2}">${esc(title)}</h2>${body}</td></tr>`;
}

function list(items: string[]): string {
  if (items.length === 0) return `<p class="lp-muted" style="margin:0;${C.muted}">None</p>`;
  return `<ul style="margin:0;padding-left:20px;">${items.map((x) => `<li>${escLines(x)}</li>`).join('')}</ul>`;
}

function draft(label: string, value: string): string {
  return `<div class="lp-muted" style="${C.muted}">${esc(label)}</div><div class="lp-draft" style="${C.draft}">${escLines(value)}</div>`;
}

/** One section as table rows of the card. Everything customer- or model-written is escaped here. */
function section(s: Section): string {
  switch (s.kind) {
    case 'notes':
      return (
        `<tr><td style="padding:16px 24px 0 24px;">` +
        s.notes.map((n) => `<div class="lp-banner" style="${C.banner}margin-bottom:6px;">${esc(n)}</div>`).join('') +
        `</td></tr>`
      );
    case 'header':
      return (
        `<tr><td style="padding:20px 24px 0 24px;"><div class="lp-muted" style="${C.muted}">${esc(s.title ?? 'New lead')} ` +
        `for ${esc(s.intro.shop)} · via ${esc(s.intro.assistant)} · trigger: ${esc(s.intro.reason)}</div>` +
        `<div style="font-size:22px;font-weight:700;margin-top:4px;">${esc(s.who)}</div>` +
        (s.project !== null ? `<div style="margin-top:2px;">${esc(s.project)}</div>` : '') +
        `</td></tr>`
      );
    case 'contacts': {
      const rows = [
        ...s.phones.map(
          (p) =>
            `<div>Phone: <a class="lp-link" style="${C.link}" href="tel:${p}">${esc(formatPhone(p))}</a> ` +
            `· <a class="lp-link" style="${C.link}" href="sms:${p}">text</a>${p === s.formPhone ? ' (callback form)' : ''}</div>`,
        ),
        ...s.emails.map(
          (e) =>
            `<div>Email: <a class="lp-link" style="${C.link}" ` +
            `href="mailto:${esc(encodeURIComponent(e).replace(/%40/g, '@'))}">${esc(e)}</a></div>`,
        ),
        ...(s.language ? [`<div class="lp-muted" style="${C.muted}">Language: ${esc(s.language)}</div>`] : []),
        ...(s.vehicle ? [`<div class="lp-muted" style="${C.muted}">Vehicle: ${esc(s.vehicle)}</div>`] : []),
      ];
      return titled('Contact', rows.join('') || `<p style="margin:0;">No contact details.</p>`);
    }
    case 'actions':
      return titled('Quick actions', s.actions.map((a) => `<a href="${esc(a.href)}" style="${C.chip}">${esc(a.label)}</a>`).join(''));
    case 'no-summary':
      return titled(
        'AI summary',
        `<div class="lp-banner" style="${C.banner}"><strong>AI summary ` +
          `unavailable.</strong> The contact details and the full transcript are below.</div>`,
      );
    case 'summary':
      return titled(
        'Summary',
        `<p style="margin:0;">${escLines(s.text)}</p><p class="lp-muted" style="margin:6px 0 0 ` +
          `0;${C.muted}">Ready for handoff: ${s.handoffReady ? 'yes' : 'no'} · ${esc(s.handoffReason)}</p>`,
      );
    case 'list':
      return titled(s.title, list(s.items));
    case 'script':
      return titled(
        'Call script',
        `<ol style="margin:0;padding-left:20px;">${s.prompts.map((p) => `<li>${escLines(p)}</li>`).join('')}</ol>`,
      );
    case 'drafts':
      return titled('Drafts to copy', s.drafts.map((d) => draft(d.label, d.value)).join(''));
    case 'transcript': {
      const rows = s.lines.map((l) => {
        const atts = l.attachments.map((a) => {
          if (!a.url) return `<div>Attachment: ${esc(a.label)}</div>`;
          // Photos show as a thumbnail that opens the full image; other files as a link.
          const thumb = a.image
            ? // A fixed alt text: the customer's file name is shown (escaped) in the link below, never inside a tag.
              `<div style="margin:6px 0;"><a href="${esc(a.url)}"><img src="${esc(a.url)}" alt="Photo from the customer" width="160" ` +
              `style="display:block;width:160px;max-width:100%;height:auto;border:1px solid #e3e6ea;border-radius:4px;"></a></div>`
            : '';
          return `${thumb}<div>Attachment: <a class="lp-link" style="${C.link}" href="${esc(a.url)}">${esc(a.label)}</a></div>`;
        });
        return (
          `<tr><td class="lp-rule" style="padding:8px 0;border-top:1px solid #e3e6ea;vertical-align:top;">` +
          `<div><strong>${esc(l.speaker)}</strong> <span class="lp-muted" style="${C.muted}">${esc(l.stamp)}</span></div>` +
          (l.quote ? `<div class="lp-muted" style="${C.quote}">${escLines(l.quote)}</div>` : '') +
          (l.text ? `<div>${escLines(l.text)}</div>` : '') +
          atts.join('') +
          `</td></tr>`
        );
      });
      return titled(
        `${s.title ?? 'Transcript'} (${s.lines.length} messages)`,
        `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">${rows.join('')}</table>`,
      );
    }
    case 'footer':
      return (
        `<tr><td class="lp-muted" style="padding:16px 24px 20px 24px;${C.muted}">Thread ` +
        `${esc(s.threadId)} · sent once per ${esc(s.once ?? 'conversation')} by chatkit-lead-intake</td></tr>`
      );
  }
}

/** The email's HTML part: one card of table rows (what mail clients render alike), light and dark. */
export function renderHtml(c: LeadEmailContent): string {
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" ` +
    `content="light dark"><title>${esc(c.subject)}</title><style>${DARK_CSS}</style></head>` +
    `<body class="lp-page" style="margin:0;padding:0;${C.page}">` +
    `<table role="presentation" class="lp-page" width="100%" cellpadding="0" cellspacing="0" ` +
    `border="0" style="${C.page}"><tr><td align="center" style="padding:16px 8px;">` +
    `<table role="presentation" class="lp-card lp-text" width="640" cellpadding="0" ` +
    `cellspacing="0" border="0" style="width:100%;max-width:640px;${C.card}${C.text}">` +
    c.sections.map(section).join('') +
    '</table></td></tr></table></body></html>'
  );
}
