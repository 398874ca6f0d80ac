import { formatPhone } from '@lead-intake/contacts';
import { OUTCOMES, STATUS_LABELS, type HistoryEntry, type InboxDetail } from '@lead-intake/inbox-store';
import { esc, type Section } from '@lead-intake/lead-message';
import { age, csrfField, layout, when } from './layout';
import { sectionHtml } from './sections';

export interface DetailView {
  detail: InboxDetail;
  /** The lead's content as the email has it (summary, call script, drafts, contacts, transcript). */
  sections: Section[];
  /** The deliveries the ledger recorded: label and time. */
  deliveries: Array<{ label: string; at: number }>;
  /** The transcript could not be read (deleted): said on the page. */
  transcriptMissing: boolean;
  timeZone: string;
  now: number;
  session: { email: string; csrf: string };
}

function historyLine(h: HistoryEntry, tz: string): string {
  const what = [
    h.event === 'rescued' ? 'Marked a customer (from Filtered)' : '',
    h.status ? `Status: ${STATUS_LABELS[h.status]}` : '',
    h.status === 'booked' && h.bookedValue != null ? `job value ${h.bookedValue}` : '',
    h.status === 'lost' && h.lostReason ? `reason: ${h.lostReason}` : '',
    h.note !== undefined ? (h.note ? `Note: ${h.note}` : 'Note cleared') : '',
  ].filter(Boolean);
  return `<li><span class="muted">${esc(when(h.at, tz))} · ${esc(h.by)}</span><br>${esc(what.join('; '))}</li>`;
}

export function detailPage(v: DetailView): string {
  const l = v.detail.lead;
  const id = encodeURIComponent(l.threadId);
  const name = l.name || (l.phones[0] ? formatPhone(l.phones[0]) : l.emails[0]) || 'Website visitor';
  const toContact = l.firstContactedAt !== null ? ` · contacted after ${Math.round((l.firstContactedAt - l.at) / 60)} min` : '';
  const outcome =
    l.kind === 'lead'
      ? `<section class="card"><h2>Outcome</h2>` +
        `<form method="post" action="/leads/${id}/outcome" class="outcome">${csrfField(v.session.csrf)}` +
        `<div class="buttons">` +
        Object.entries(OUTCOMES)
          .map(
            ([value, label]) =>
              `<button type="submit" name="status" value="${value}"${l.status === value ? ' aria-pressed="true"' : ''}>${label}</button>`,
          )
          .join('') +
        `</div>` +
        `<div class="extra"><div><label for="value">Job value (with Booked, optional)</label>` +
        `<input id="value" name="value" inputmode="decimal" pattern="[0-9]+([.][0-9]{1,2})?" maxlength="12"></div>` +
        `<div><label for="reason">Reason (with Lost, optional)</label><input id="reason" name="reason" maxlength="200"></div></div>` +
        `</form>` +
        `<form method="post" action="/leads/${id}/note" class="note">${csrfField(v.session.csrf)}` +
        `<label for="note">Note</label><textarea id="note" name="note" rows="3" maxlength="2000">${esc(l.note ?? '')}</textarea>` +
        `<button type="submit" class="secondary">Save note</button></form></section>`
      : `<section class="card"><h2>Filtered</h2>` +
        `<p>The triage did not alert on this conversation (${esc(l.leadKind ?? 'not a customer')}).</p>` +
        (l.rescuedAt
          ? `<p>Marked a customer; its lead is on its way.</p>`
          : `<form method="post" action="/filtered/${id}/customer">${csrfField(v.session.csrf)}` +
            `<button type="submit">This is a customer</button></form>`) +
        `</section>`;
  const deliveries = v.deliveries.length
    ? `<ul>${v.deliveries.map((d) => `<li>${esc(d.label)}: ${esc(when(d.at, v.timeZone))}</li>`).join('')}</ul>`
    : `<p class="muted">None recorded.</p>`;
  const history = v.detail.history.length
    ? `<ol class="history">${v.detail.history.map((h) => historyLine(h, v.timeZone)).join('')}</ol>`
    : `<p class="muted">No changes yet.</p>`;
  return layout({
    title: name,
    session: v.session,
    current: l.kind === 'lead' ? 'leads' : 'filtered',
    body:
      `<p><a href="${l.kind === 'lead' ? '/' : '/filtered'}">← All ${l.kind === 'lead' ? 'leads' : 'filtered'}</a></p>` +
      `<div class="head"><h1>${esc(name)}</h1><span class="status s-${l.status}">${esc(STATUS_LABELS[l.status])}</span></div>` +
      `<p class="muted">${esc(l.need ?? '')}${l.need ? ' · ' : ''}` +
      `<time datetime="${new Date(l.at * 1000).toISOString()}">${esc(when(l.at, v.timeZone))} (${age(l.at, v.now)})</time>` +
      `${toContact}${l.urgent ? ' · <strong>Urgent</strong>' : ''}${l.afterHours ? ' · after hours' : ''}</p>` +
      (l.followUpOf ? `<p>Follow-up of <a href="/leads/${encodeURIComponent(l.followUpOf)}">an earlier lead</a>.</p>` : '') +
      // The customer's contacts first (call, then record it), then the outcome, then what the email has.
      v.sections.map((s) => sectionHtml(s) + (s.kind === 'actions' ? outcome : '')).join('') +
      (v.transcriptMissing ? `<section class="card"><h2>Transcript</h2><p>The conversation is no longer kept.</p></section>` : '') +
      `<section class="card"><h2>Deliveries</h2>${deliveries}</section>` +
      `<section class="card"><h2>History</h2>${history}</section>` +
      `<p class="muted">Thread ${esc(l.threadId)}</p>`,
  });
}
