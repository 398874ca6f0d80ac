import { validateShopProfile } from '@lead-intake/shop';
import { bestTimeChoices, visitSlots } from './choices';

/** Craig's hours (Mon-Fri 8-17, closed weekends), Los Angeles; December: UTC-8. */
const profile = (over: Record<string, unknown> = {}) =>
  validateShopProfile({
    name: "Craig's Autos",
    timezone: 'America/Los_Angeles',
    phone: '+14083793820',
    assistantName: 'Roxana',
    hours: {
      monday: [['08:00', '17:00']],
      tuesday: [['08:00', '17:00']],
      wednesday: [['08:00', '17:00']],
      thursday: [['08:00', '17:00']],
      friday: [['08:00', '17:00']],
      saturday: [],
      sunday: [],
    },
    ...over,
  });
/** A local time in the shop's zone (December: -08:00). */
const at = (local: string) => new Date(`${local}-08:00`);

describe('best times to call back', () => {
  it('offers today while the shop is open long enough, then the mornings and afternoons of its next open days', () => {
    expect(bestTimeChoices(at('2026-12-02T10:00:00'), profile())).toEqual([
      { value: '2026-12-02:today', label: 'Today before 5 pm' },
      { value: '2026-12-03:morning', label: 'Tomorrow morning' },
      { value: '2026-12-03:afternoon', label: 'Tomorrow afternoon' },
      { value: '2026-12-04:morning', label: 'Friday morning' },
    ]);
  });

  it('skips today with under half an hour left, the weekend and closures', () => {
    const fridayLate = at('2026-12-04T16:45:00');
    expect(bestTimeChoices(fridayLate, profile()).map((c) => c.label)).toEqual([
      'Monday morning',
      'Monday afternoon',
      'Tuesday morning',
      'Tuesday afternoon',
    ]);
    const closedMonday = profile({ closures: [{ date: '2026-12-07', label: 'Holiday' }] });
    expect(bestTimeChoices(fridayLate, closedMonday).map((c) => c.value)[0]).toBe('2026-12-08:morning');
    // Special hours: an afternoon-only Tuesday offers no Tuesday morning.
    const lateTuesday = profile({
      closures: [{ date: '2026-12-07', label: 'Holiday' }],
      specialHours: [{ date: '2026-12-08', hours: [['13:00', '17:00']] }],
    });
    expect(
      bestTimeChoices(fridayLate, lateTuesday)
        .map((c) => c.label)
        .slice(0, 2),
    ).toEqual(['Tuesday afternoon', 'Wednesday morning']);
  });
});

describe('drop-off times', () => {
  it('lists the shop’s drop-off times on open days, an hour from now at the earliest, six at most, with the shop’s offset', () => {
    const slots = visitSlots(at('2026-12-02T14:30:00'), profile());
    expect(slots.map((s) => s.value)).toEqual([
      '2026-12-03T08:00:00-08:00',
      '2026-12-03T10:00:00-08:00',
      '2026-12-03T13:00:00-08:00',
      '2026-12-03T15:00:00-08:00',
      '2026-12-04T08:00:00-08:00',
      '2026-12-04T10:00:00-08:00',
    ]);
    expect(slots[0]!.label).toBe('Tomorrow, Dec 3, 8 am');
  });

  it('only at times the shop is open, from the profile’s own drop-off times', () => {
    const p = profile({ dropOffTimes: ['07:30', '09:15', '16:30', '17:00'] });
    const slots = visitSlots(at('2026-12-04T12:00:00'), p);
    // 07:30 is before opening and 17:00 is closing time: never offered.
    expect(slots.map((s) => s.value.slice(11, 16))).toEqual(['16:30', '09:15', '16:30', '09:15', '16:30', '09:15']);
    expect(slots[1]!.value.startsWith('2026-12-07')).toBe(true); // Monday, after the weekend
    expect(() => profile({ dropOffTimes: ['10:00', '09:00'] })).toThrow(/dropOffTimes\[1\]/);
  });

  it('keeps the wall-clock time across a change of daylight saving time', () => {
    // 2027-03-14: clocks spring forward in Los Angeles; Monday the 15th is in -07:00.
    const slots = visitSlots(new Date('2027-03-12T23:00:00-08:00'), profile());
    expect(slots[0]!.value).toBe('2027-03-15T08:00:00-07:00');
  });
});
