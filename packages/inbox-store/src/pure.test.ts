import { csvField, inboxNumbers, leadsCsv, searchKey, searchText, type InboxLead } from './index';

const lead = (over: Partial<InboxLead>): InboxLead => ({
  shopId: 'craigs-autos',
  threadId: 'cthr_a',
  kind: 'lead',
  at: 1_800_000_000,
  name: 'Ana Lopez',
  phones: ['+14085550142'],
  emails: ['ana@example.com'],
  vehicle: null,
  need: null,
  urgent: false,
  afterHours: false,
  followUpOf: null,
  request: null,
  leadKind: null,
  pageUrl: null,
  trigger: 'auto',
  summary: null,
  flags: null,
  expiresAt: 0,
  status: 'new',
  firstContactedAt: null,
  bookedValue: null,
  lostReason: null,
  note: null,
  rescuedAt: null,
  updatedAt: 0,
  ...over,
});

describe('search', () => {
  it('finds a phone however it is written, and names and emails by part, case-blind', () => {
    const text = searchText(lead({}));
    for (const q of ['(408) 555-0142', '408.555.0142', '+1 408 555 0142', '14085550142', '555-0142', 'ANA', 'lopez', 'ana@example'])
      expect(text).toContain(searchKey(q));
    expect(text).not.toContain(searchKey('408 555 0199'));
    expect(searchKey('   ')).toBeNull();
  });
});

describe('numbers', () => {
  it('counts leads only, the median time to the first Contacted, and the shares', () => {
    const n = inboxNumbers(
      [
        lead({ firstContactedAt: 1_800_000_600, status: 'booked', bookedValue: 450, urgent: true }),
        lead({ firstContactedAt: 1_800_000_060, status: 'contacted', afterHours: true }),
        lead({ firstContactedAt: 1_800_001_800, status: 'lost' }),
        lead({}),
        lead({ kind: 'filtered', firstContactedAt: 1_800_000_001 }),
      ],
      14,
    );
    expect(n).toMatchObject({ leads: 4, leadsPerWeek: 2, medianSecondsToContact: 600, contacted: 3, bookedValue: 450 });
    expect([n.bookedShare, n.afterHoursShare, n.urgentShare]).toEqual([0.25, 0.25, 0.25]);
    expect(inboxNumbers([], 7)).toMatchObject({ leads: 0, medianSecondsToContact: null, bookedShare: 0 });
  });
});

describe('CSV', () => {
  it('quotes what needs it and neutralizes what a spreadsheet would run', () => {
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('-2')).toBe("'-2");
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('a,"b"\nc')).toBe('"a,""b""\nc"');
    expect(csvField(-2)).toBe('-2');
    const csv = leadsCsv([lead({ note: 'line one\nline two', firstContactedAt: 1_800_000_600 })]);
    const [head, row] = csv.split('\r\n');
    expect(head!.split(',')).toContain('minutes_to_contact');
    expect(row).toContain(',10,');
    expect(csv).not.toContain('transcript');
  });
});
