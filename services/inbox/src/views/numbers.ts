import type { InboxNumbers } from '@lead-intake/inbox-store';
import { layout } from './layout';

const pct = (x: number) => `${Math.round(x * 100)}%`;
function duration(s: number | null): string {
  if (s === null) return '—';
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} days`;
}

/** How fast leads are called back and how many become jobs, over the period. */
export function numbersPage(n: InboxNumbers, days: number, session: { email: string; csrf: string }): string {
  const stat = (id: string, label: string, value: string) =>
    `<div class="stat"><dt id="${id}">${label}</dt><dd aria-labelledby="${id}" data-stat="${id}">${value}</dd></div>`;
  return layout({
    title: 'Numbers',
    current: 'numbers',
    session,
    body:
      `<h1>Numbers</h1><p class="muted">The last ${days} days: ${n.leads} lead${n.leads === 1 ? '' : 's'}.</p>` +
      `<dl class="stats">` +
      stat('per-week', 'Leads per week', n.leadsPerWeek.toFixed(1)) +
      stat('to-contact', 'Median time to callback', duration(n.medianSecondsToContact)) +
      stat('booked', 'Booked', pct(n.bookedShare)) +
      stat('after-hours', 'After hours', pct(n.afterHoursShare)) +
      stat('urgent', 'Urgent', pct(n.urgentShare)) +
      `</dl>` +
      `<p class="muted">Time to callback: from the alert to the first “Contacted” (${n.contacted} of ${n.leads} leads contacted).</p>` +
      `<p><a class="button secondary" href="/export.csv">Export the leads as CSV</a></p>`,
  });
}
