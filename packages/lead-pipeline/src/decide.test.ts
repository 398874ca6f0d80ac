import type { LeadSummary } from '@lead-intake/lead-summary';
import { decide, type SummaryResult } from './lead';

/** The rule, on its own: which trigger, contacts and summary make an alert. */
const contacts = { phones: ['+14155550100'], emails: [] };
const none = { phones: [], emails: [] };
const summary = (over: Partial<LeadSummary>): SummaryResult => ({
  ok: true,
  summary: { handoff_ready: false, urgency: 'normal', lead_kind: 'customer', ...over } as LeadSummary,
});
const failed: SummaryResult = { ok: false, failure: { kind: 'timeout' } as any };

it('no contact: no alert, whatever the trigger or summary', () => {
  for (const t of ['auto', 'idle', 'pagehide', 'close', 'manual'] as const)
    expect(decide(t, none, summary({ urgency: 'urgent' }))).toBe('no_contact');
});

it('not a customer (spam, test, vendor, job seeker): no alert, even on a strong trigger or when urgent', () => {
  for (const kind of ['spam', 'test', 'vendor', 'job_seeker'] as const)
    for (const t of ['auto', 'pagehide', 'manual'] as const)
      expect(decide(t, contacts, summary({ lead_kind: kind, urgency: 'urgent', handoff_ready: true }))).toBe('not_customer');
});

it('auto: a handoff-ready or an urgent lead goes out; otherwise not yet', () => {
  expect(decide('auto', contacts, summary({}))).toBe('not_ready');
  expect(decide('auto', contacts, summary({ handoff_ready: true }))).toBe('send');
  expect(decide('auto', contacts, summary({ urgency: 'urgent' }))).toBe('send');
  expect(decide('auto', contacts, failed)).toBe('not_ready');
});

it('every other trigger sends once a contact exists, the summary unavailable too', () => {
  for (const t of ['idle', 'pagehide', 'close', 'manual'] as const) {
    expect(decide(t, contacts, summary({}))).toBe('send');
    expect(decide(t, contacts, failed)).toBe('send');
    expect(decide(t, contacts, null)).toBe('send');
  }
});
