import { formatPhone } from '@lead-intake/contacts';
import { esc, type Section } from '@lead-intake/lead-message';

const lines = (s: string) => esc(s).replace(/\r\n|\r|\n/g, '<br>');
const list = (items: string[]) =>
  items.length ? `<ul>${items.map((x) => `<li>${lines(x)}</li>`).join('')}</ul>` : `<p class="muted">None</p>`;
const titled = (title: string, body: string) => `<section class="card"><h2>${esc(title)}</h2>${body}</section>`;

/**
 * The lead's content as the email has it (@lead-intake/lead-message `leadEmailContent`: one source
 * for what a lead says), rendered for the page: semantic HTML, every string escaped. The header
 * and footer are the page's own.
 */
export function sectionHtml(s: Section): string {
  switch (s.kind) {
    case 'notes':
      return s.notes.map((n) => `<p class="banner">${esc(n)}</p>`).join('');
    case 'header':
    case 'footer':
      return '';
    case 'contacts': {
      const rows = [
        ...s.phones.map(
          (p) =>
            `<li><a class="button contact" href="tel:${esc(p)}">Call ${esc(formatPhone(p))}</a>` +
            `<a class="button secondary contact" href="sms:${esc(p)}">Text</a>` +
            `${p === s.formPhone ? ' <span class="muted">(callback form)</span>' : ''}</li>`,
        ),
        ...s.emails.map(
          (e) =>
            `<li><a class="button secondary contact" href="mailto:${esc(encodeURIComponent(e).replace(/%40/g, '@'))}">` +
            `Email ${esc(e)}</a></li>`,
        ),
      ];
      const facts = [s.vehicle ? `Vehicle: ${esc(s.vehicle)}` : '', s.language ? `Language: ${esc(s.language)}` : ''].filter(Boolean);
      return titled(
        'Contact',
        (rows.length ? `<ul class="contacts">${rows.join('')}</ul>` : `<p>No contact details.</p>`) +
          (facts.length ? `<p class="muted">${facts.join(' · ')}</p>` : ''),
      );
    }
    case 'actions': {
      // Call, text and email are the contact buttons above; the page link and the logs stay.
      const rest = s.actions.filter((a) => !['Call', 'Text', 'Email'].includes(a.label));
      return rest.length
        ? `<p class="links">${rest.map((a) => `<a href="${esc(a.href)}" rel="noopener noreferrer">${esc(a.label)}</a>`).join(' · ')}</p>`
        : '';
    }
    case 'no-summary':
      return titled('AI summary', `<p>AI summary unavailable. The contact details and the full transcript are here.</p>`);
    case 'summary':
      return titled(
        'Summary',
        `<p>${lines(s.text)}</p><p class="muted">Ready for handoff: ${s.handoffReady ? 'yes' : 'no'} · ${esc(s.handoffReason)}</p>`,
      );
    case 'list':
      return titled(s.title, list(s.items));
    case 'script':
      return titled('Call script', `<ol>${s.prompts.map((p) => `<li>${lines(p)}</li>`).join('')}</ol>`);
    case 'drafts':
      return titled('Drafts to copy', s.drafts.map((d) => `<h3>${esc(d.label)}</h3><p class="draft">${lines(d.value)}</p>`).join(''));
    case 'transcript': {
      const rows = s.lines.map(
        (l) =>
          `<li><p class="speaker"><strong>${esc(l.speaker)}</strong> <span class="muted">${esc(l.stamp)}</span></p>` +
          (l.quote ? `<blockquote>${lines(l.quote)}</blockquote>` : '') +
          (l.text ? `<p>${lines(l.text)}</p>` : '') +
          l.attachments
            .map((a) =>
              !a.url
                ? `<p>Attachment: ${esc(a.label)}</p>`
                : a.image
                  ? `<a class="thumb" href="${esc(a.url)}">` +
                    `<img src="${esc(a.url)}" alt="Photo from the customer" width="160" loading="lazy"></a>`
                  : `<p>Attachment: <a href="${esc(a.url)}">${esc(a.label)}</a></p>`,
            )
            .join('') +
          `</li>`,
      );
      return titled(`${s.title ?? 'Transcript'} (${s.lines.length} messages)`, `<ol class="transcript">${rows.join('')}</ol>`);
    }
  }
}
