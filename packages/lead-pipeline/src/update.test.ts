import type { LedgerRecord } from '@lead-intake/ledger';
import { leadState } from './update';

describe('whether a request is owed an update, from the lead’s own record', () => {
  const lead = (over: Partial<LedgerRecord>): LedgerRecord => ({ thread_id: 'cthr_a', status: 'sent', ...over });

  it('owed when the sent lead did not carry it; not when it did', () => {
    expect(leadState(lead({ requests: ['hcx_a'] }), 'hcx_b')).toBe('owed');
    expect(leadState(lead({}), 'hcx_b')).toBe('owed');
    expect(leadState(lead({ requests: ['hcx_a', 'hcx_b'] }), 'hcx_b')).toBe('in_lead');
  });

  it('waits while the lead is being sent or retried (it cannot say yet what it carries)', () => {
    expect(leadState(lead({ status: 'sending' }), 'hcx_b')).toBe('waiting');
    expect(leadState(lead({ status: 'error' }), 'hcx_b')).toBe('waiting');
  });

  it('nothing to update when no lead went out (not a customer, no record, given up)', () => {
    expect(leadState(lead({ status: 'idle' }), 'hcx_b')).toBe('no_lead');
    expect(leadState(lead({ status: 'failed' }), 'hcx_b')).toBe('no_lead');
    expect(leadState(undefined, 'hcx_b')).toBe('no_lead');
  });
});
