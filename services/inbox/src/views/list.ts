import { formatPhone } from '@lead-intake/contacts';
import { STATUS_LABELS, STATUSES, type InboxLead, type ListQuery } from '@lead-intake/inbox-store';
import { esc } from '@lead-intake/lead-message';
import { age, csrfField, layout } from './layout';

export interface ListView {
  view: 'lead' | 'filtered';
  leads: InboxLead[];
  /** Channels delivered per thread (email, text, webhook). */
  channels: Map<string, string[]>;
  query: ListQuery & { fromDate?: string; toDate?: string };
  next: string | null;
  now: number;
  session: { email: string; csrf: string };
}

const who = (l: InboxLead) => l.name || (l.phones[0] ? formatPhone(l.phones[0]) : l.emails[0]) || 'Website visitor';

function row(l: InboxLead, v: ListView): string {
  const chips = [
    l.urgent ? `<span class="chip urgent">Urgent</span>` : '',
    l.followUpOf ? `<span class="chip">Follow-up</span>` : '',
    l.request ? `<span class="chip ask">${esc(l.request)}</span>` : '',
    v.view === 'filtered' && l.leadKind ? `<span class="chip">${esc(l.leadKind.replace('_', ' '))}</span>` : '',
  ].join('');
  const channels = v.channels.get(l.threadId) ?? [];
  const rescue =
    v.view === 'filtered'
      ? l.rescuedAt
        ? `<p class="muted">Marked a customer; its lead is on its way.</p>`
        : `<form method="post" action="/filtered/${encodeURIComponent(l.threadId)}/customer">${csrfField(v.session.csrf)}` +
          `<button type="submit">This is a customer</button></form>`
      : '';
  return (
    `<li class="lead"><a class="row" href="/leads/${encodeURIComponent(l.threadId)}">` +
    `<span class="name">${esc(who(l))}</span>` +
    `<span class="status s-${l.status}">${esc(STATUS_LABELS[l.status])}</span>` +
    `<span class="need">${esc(l.need ?? 'No summary')}</span>` +
    `<span class="meta">${l.phones[0] ? `${esc(formatPhone(l.phones[0]))} · ` : ''}${l.vehicle ? `${esc(l.vehicle)} · ` : ''}` +
    `<time datetime="${new Date(l.at * 1000).toISOString()}">${age(l.at, v.now)}</time>` +
    `${channels.length ? ` · ${esc(channels.join(', '))}` : ''}</span>` +
    (chips ? `<span class="chips">${chips}</span>` : '') +
    `</a>${rescue}</li>`
  );
}

function filters(v: ListView): string {
  const q = v.query;
  const opt = (value: string, label: string, cur: string | undefined) =>
    `<option value="${value}"${cur === value ? ' selected' : ''}>${esc(label)}</option>`;
  return (
    `<form class="filters" method="get" action="${v.view === 'lead' ? '/' : '/filtered'}" role="search">` +
    `<div><label for="q">Search name, phone or email</label>` +
    `<input id="q" name="q" type="search" value="${esc(q.search ?? '')}" maxlength="100"></div>` +
    (v.view === 'lead'
      ? `<div><label for="status">Status</label><select id="status" name="status">${opt('', 'Any', q.status ?? '')}` +
        STATUSES.map((s) => opt(s, STATUS_LABELS[s], q.status)).join('') +
        `</select></div>` +
        `<div><label for="urgent">Urgency</label><select id="urgent" name="urgent">` +
        opt('', 'Any', q.urgent === undefined ? '' : undefined) +
        opt('1', 'Urgent only', q.urgent === true ? '1' : undefined) +
        opt('0', 'Not urgent', q.urgent === false ? '0' : undefined) +
        `</select></div>`
      : '') +
    `<div><label for="from">From</label><input id="from" name="from" type="date" value="${esc(q.fromDate ?? '')}"></div>` +
    `<div><label for="to">To</label><input id="to" name="to" type="date" value="${esc(q.toDate ?? '')}"></div>` +
    `<div class="go"><button type="submit">Show</button></div></form>`
  );
}

export function listPage(v: ListView): string {
  const title = v.view === 'lead' ? 'Leads' : 'Filtered';
  const intro =
    v.view === 'lead'
      ? ''
      : `<p class="muted">Conversations the triage did not alert on (spam, tests, vendors, job seekers). ` +
        `If one is a customer after all, “This is a customer” sends its lead now, once.</p>`;
  const items = v.leads.length ? `<ol class="leads">${v.leads.map((l) => row(l, v)).join('')}</ol>` : `<p class="empty">Nothing here.</p>`;
  const more = v.next
    ? `<p><a class="button" href="?${new URLSearchParams({ ...currentParams(v), cursor: v.next }).toString()}">Older</a></p>`
    : '';
  const csv = v.view === 'lead' ? `<a class="button secondary" href="/export.csv">Export CSV</a>` : '';
  return layout({
    title,
    current: v.view === 'lead' ? 'leads' : 'filtered',
    session: v.session,
    body: `<div class="head"><h1>${title}</h1>${csv}</div>${intro}${filters(v)}${items}${more}`,
  });
}

function currentParams(v: ListView): Record<string, string> {
  const q = v.query;
  const out: Record<string, string> = {};
  if (q.search) out.q = q.search;
  if (q.status) out.status = q.status;
  if (q.urgent !== undefined) out.urgent = q.urgent ? '1' : '0';
  if (q.fromDate) out.from = q.fromDate;
  if (q.toDate) out.to = q.toDate;
  return out;
}
