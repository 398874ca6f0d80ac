import { STATUS_LABELS, type InboxLead } from './record';

export const CSV_COLUMNS = [
  'sent_at',
  'thread_id',
  'status',
  'name',
  'phones',
  'emails',
  'vehicle',
  'need',
  'urgent',
  'after_hours',
  'request',
  'follow_up_of',
  'first_contacted_at',
  'minutes_to_contact',
  'booked_value',
  'lost_reason',
  'note',
] as const;

const iso = (s: number | null) => (s === null ? '' : new Date(s * 1000).toISOString());

/**
 * One CSV field (RFC 4180). Customer-written text that a spreadsheet would run as a formula
 * (`=`, `+`, `-`, `@`, tab, CR at its start) is prefixed with `'`: opening the export never runs it.
 */
export function csvField(v: string | number | boolean | null): string {
  let s = v === null ? '' : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The leads as CSV (no transcripts: what the list shows and the outcome), newest first, CRLF lines. */
export function leadsCsv(leads: InboxLead[]): string {
  const rows = leads.map((l) =>
    [
      iso(l.at),
      l.threadId,
      STATUS_LABELS[l.status],
      l.name,
      l.phones.join(' '),
      l.emails.join(' '),
      l.vehicle,
      l.need,
      l.urgent,
      l.afterHours,
      l.request,
      l.followUpOf,
      iso(l.firstContactedAt),
      l.firstContactedAt === null ? null : Math.round((l.firstContactedAt - l.at) / 60),
      l.bookedValue,
      l.lostReason,
      l.note,
    ]
      .map(csvField)
      .join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}
