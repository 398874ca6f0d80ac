import type { InboxLead } from './record';

/** What the owner sees in Numbers, over the leads of a period (filtered conversations are not leads). */
export interface InboxNumbers {
  leads: number;
  weeks: number;
  leadsPerWeek: number;
  /** Median seconds from the alert to the first `Contacted`, over the leads contacted; null: none yet. */
  medianSecondsToContact: number | null;
  contacted: number;
  /** Shares of the leads, 0..1 (0 without leads). */
  bookedShare: number;
  afterHoursShare: number;
  urgentShare: number;
  /** The booked jobs' values, summed (those given). */
  bookedValue: number;
}

/** The numbers of `leads` over `days` days (the period the list was read for). */
export function inboxNumbers(leads: InboxLead[], days: number): InboxNumbers {
  const real = leads.filter((l) => l.kind === 'lead');
  const n = real.length;
  const share = (f: (l: InboxLead) => boolean) => (n ? real.filter(f).length / n : 0);
  const waits = real
    .filter((l) => l.firstContactedAt !== null)
    .map((l) => Math.max(0, l.firstContactedAt! - l.at))
    .sort((a, b) => a - b);
  const mid = waits.length >> 1;
  const median = !waits.length ? null : waits.length % 2 ? waits[mid]! : (waits[mid - 1]! + waits[mid]!) / 2;
  const weeks = Math.max(1, days / 7);
  return {
    leads: n,
    weeks,
    leadsPerWeek: n / weeks,
    medianSecondsToContact: median,
    contacted: waits.length,
    bookedShare: share((l) => l.status === 'booked'),
    afterHoursShare: share((l) => l.afterHours),
    urgentShare: share((l) => l.urgent),
    bookedValue: real.reduce((sum, l) => sum + (l.status === 'booked' && l.bookedValue ? l.bookedValue : 0), 0),
  };
}
