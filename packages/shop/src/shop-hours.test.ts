import { DateTime } from 'luxon';
import middy from '@middy/core';
import { computeShopState, loadShopProfile, shopState, validateShopProfile, ShopProfileError, type ShopProfile } from './index';

const LA = 'America/Los_Angeles';
/** A local wall-clock time in Los Angeles as an instant. */
const la = (iso: string) => DateTime.fromISO(iso, { zone: LA }).toJSDate();
const utc = (iso: string) => new Date(iso);

const closedWeek = { monday: [], tuesday: [], wednesday: [], thursday: [], friday: [], saturday: [], sunday: [] };
const profile = (over: Partial<ShopProfile> = {}): ShopProfile =>
  validateShopProfile({ ...loadShopProfile(), ...over, hours: { ...loadShopProfile().hours, ...(over.hours ?? {}) } });

describe('the shipped profile', () => {
  it("is Craig's Autos, Mon-Fri 08:00-17:00 in Los Angeles", () => {
    const p = loadShopProfile();
    expect(p).toMatchObject({ name: "Craig's Autos", timezone: LA, phone: '+14083793820', assistantName: 'Roxana' });
    expect(p.hours.monday).toEqual([['08:00', '17:00']]);
    expect(p.hours.saturday).toEqual([]);
    expect(p.hours.sunday).toEqual([]);
  });
});

describe('computeShopState', () => {
  const p = loadShopProfile();

  it('returns exactly the six fields', () => {
    expect(computeShopState(la('2026-11-25T10:00'), p)).toEqual({
      shop_timezone: LA,
      shop_local_weekday: 'Wednesday',
      shop_local_time_24h: '10:00',
      shop_is_open_now: true,
      shop_next_open_day: 'Thursday',
      shop_next_open_time: '8:00 AM',
    });
  });

  it('includes a period start and excludes its end', () => {
    expect(computeShopState(la('2026-11-25T07:59'), p)).toMatchObject({
      shop_is_open_now: false,
      shop_next_open_day: 'Wednesday',
      shop_next_open_time: '8:00 AM',
    });
    expect(computeShopState(la('2026-11-25T08:00'), p)).toMatchObject({ shop_is_open_now: true, shop_next_open_day: 'Thursday' });
    expect(computeShopState(la('2026-11-25T16:59:59'), p)).toMatchObject({ shop_is_open_now: true });
    expect(computeShopState(la('2026-11-25T17:00'), p)).toMatchObject({
      shop_is_open_now: false,
      shop_next_open_day: 'Thursday',
      shop_next_open_time: '8:00 AM',
    });
  });

  it('skips the closed weekend', () => {
    expect(computeShopState(la('2026-11-27T17:30'), p)).toMatchObject({
      shop_local_weekday: 'Friday',
      shop_is_open_now: false,
      shop_next_open_day: 'Monday',
      shop_next_open_time: '8:00 AM',
    });
    expect(computeShopState(la('2026-11-29T12:00'), p)).toMatchObject({
      shop_local_weekday: 'Sunday',
      shop_is_open_now: false,
      shop_next_open_day: 'Monday',
    });
  });

  it('is right at midnight', () => {
    expect(computeShopState(la('2026-11-24T00:00'), p)).toEqual({
      shop_timezone: LA,
      shop_local_weekday: 'Tuesday',
      shop_local_time_24h: '00:00',
      shop_is_open_now: false,
      shop_next_open_day: 'Tuesday',
      shop_next_open_time: '8:00 AM',
    });
    expect(computeShopState(la('2026-11-23T23:59'), p)).toMatchObject({
      shop_local_weekday: 'Monday',
      shop_local_time_24h: '23:59',
      shop_next_open_day: 'Tuesday',
    });
  });

  it('uses the time zone, not UTC: 03:00Z on a Thursday is Wednesday evening in Los Angeles', () => {
    expect(computeShopState(utc('2026-11-26T03:00:00Z'), p)).toMatchObject({
      shop_local_weekday: 'Wednesday',
      shop_local_time_24h: '19:00',
      shop_next_open_day: 'Thursday',
    });
  });

  it('follows the offset across the fall-back change (2026-11-01)', () => {
    // 15:00Z is 08:00 PDT on Friday 30 October, but 07:00 PST on Monday 2 November.
    expect(computeShopState(utc('2026-10-30T15:00:00Z'), p)).toMatchObject({ shop_local_time_24h: '08:00', shop_is_open_now: true });
    expect(computeShopState(utc('2026-11-02T15:00:00Z'), p)).toMatchObject({
      shop_local_time_24h: '07:00',
      shop_is_open_now: false,
      shop_next_open_time: '8:00 AM',
    });
    expect(computeShopState(utc('2026-11-02T16:00:00Z'), p)).toMatchObject({ shop_local_time_24h: '08:00', shop_is_open_now: true });
    // Saturday evening before the change: the next opening is Monday at 8:00 AM PST.
    expect(computeShopState(la('2026-10-31T20:00'), p)).toMatchObject({ shop_next_open_day: 'Monday', shop_next_open_time: '8:00 AM' });
  });

  it('follows the offset across the spring-forward change (2026-03-08)', () => {
    const night = profile({
      hours: {
        ...closedWeek,
        sunday: [
          ['03:00', '05:00'],
          ['20:00', '24:00'],
        ],
      },
    });
    // 09:30Z is 01:30 PST; 03:00 PDT (10:00Z) is only 30 minutes later.
    expect(computeShopState(utc('2026-03-08T09:30:00Z'), night)).toMatchObject({
      shop_local_time_24h: '01:30',
      shop_is_open_now: false,
      shop_next_open_day: 'Sunday',
      shop_next_open_time: '3:00 AM',
    });
    expect(computeShopState(utc('2026-03-08T10:00:00Z'), night)).toMatchObject({ shop_local_time_24h: '03:00', shop_is_open_now: true });
    expect(computeShopState(utc('2026-03-08T09:59:00Z'), night)).toMatchObject({ shop_local_time_24h: '01:59', shop_is_open_now: false });
    // A period ending at 24:00 on the day of the change.
    expect(computeShopState(la('2026-03-08T23:59'), night)).toMatchObject({
      shop_is_open_now: true,
      shop_next_open_day: 'Sunday',
      shop_next_open_time: '3:00 AM',
    });
    expect(computeShopState(la('2026-03-09T00:00'), night)).toMatchObject({ shop_local_weekday: 'Monday', shop_is_open_now: false });
  });

  it('handles periods ending at 24:00 and a day starting at 00:00', () => {
    const late = profile({ hours: { ...closedWeek, friday: [['18:00', '24:00']], saturday: [['00:00', '02:00']] } });
    expect(computeShopState(la('2026-11-27T23:59'), late)).toMatchObject({
      shop_is_open_now: true,
      shop_next_open_day: 'Saturday',
      shop_next_open_time: '12:00 AM',
    });
    expect(computeShopState(la('2026-11-28T00:00'), late)).toMatchObject({
      shop_local_weekday: 'Saturday',
      shop_is_open_now: true,
      shop_next_open_day: 'Friday',
      shop_next_open_time: '6:00 PM',
    });
    expect(computeShopState(la('2026-11-28T02:00'), late)).toMatchObject({ shop_is_open_now: false });
  });

  it('honours closures', () => {
    const thanksgiving = profile({ closures: [{ date: '2026-11-26', label: 'Thanksgiving' }] });
    expect(computeShopState(la('2026-11-25T17:30'), thanksgiving)).toMatchObject({
      shop_next_open_day: 'Friday',
      shop_next_open_time: '8:00 AM',
    });
    expect(computeShopState(la('2026-11-26T10:00'), thanksgiving)).toMatchObject({
      shop_local_weekday: 'Thursday',
      shop_is_open_now: false,
      shop_next_open_day: 'Friday',
    });
  });

  it('honours special hours, which replace the weekly hours of that date', () => {
    const short = profile({ specialHours: [{ date: '2026-11-27', hours: [['10:00', '14:00']] }] });
    expect(computeShopState(la('2026-11-27T09:00'), short)).toMatchObject({
      shop_is_open_now: false,
      shop_next_open_day: 'Friday',
      shop_next_open_time: '10:00 AM',
    });
    expect(computeShopState(la('2026-11-27T13:59'), short)).toMatchObject({ shop_is_open_now: true, shop_next_open_day: 'Monday' });
    expect(computeShopState(la('2026-11-27T14:00'), short)).toMatchObject({ shop_is_open_now: false, shop_next_open_day: 'Monday' });
    const saturday = profile({ specialHours: [{ date: '2026-11-28', hours: [['09:00', '12:00']] }] });
    expect(computeShopState(la('2026-11-27T18:00'), saturday)).toMatchObject({
      shop_next_open_day: 'Saturday',
      shop_next_open_time: '9:00 AM',
    });
  });

  it('lets a closure win over special hours on the same date', () => {
    const both = profile({
      closures: [{ date: '2026-11-27', label: 'Closed' }],
      specialHours: [{ date: '2026-11-27', hours: [['10:00', '14:00']] }],
    });
    expect(computeShopState(la('2026-11-27T11:00'), both)).toMatchObject({ shop_is_open_now: false, shop_next_open_day: 'Monday' });
  });

  it('handles split shifts: the next opening is the period after the current one', () => {
    const split = profile({
      hours: {
        ...closedWeek,
        monday: [
          ['08:00', '12:00'],
          ['13:00', '17:00'],
        ],
      },
    });
    expect(computeShopState(la('2026-11-23T10:00'), split)).toMatchObject({
      shop_is_open_now: true,
      shop_next_open_day: 'Monday',
      shop_next_open_time: '1:00 PM',
    });
    expect(computeShopState(la('2026-11-23T12:30'), split)).toMatchObject({ shop_is_open_now: false, shop_next_open_time: '1:00 PM' });
    expect(computeShopState(la('2026-11-23T17:00'), split)).toMatchObject({
      shop_is_open_now: false,
      shop_next_open_day: 'Monday',
      shop_next_open_time: '8:00 AM',
    });
  });

  it('finds an opening 14 days ahead, and gives empty next-open fields when there is none', () => {
    const dates = Array.from({ length: 14 }, (_, i) => DateTime.fromISO('2026-11-25').plus({ days: i }).toISODate()!);
    const fortnight = profile({ closures: dates.map((date) => ({ date, label: 'Holiday' })) });
    expect(computeShopState(la('2026-11-25T09:00'), fortnight)).toMatchObject({
      shop_is_open_now: false,
      shop_next_open_day: 'Wednesday',
      shop_next_open_time: '8:00 AM',
    });
    const never = profile({ hours: closedWeek });
    expect(computeShopState(la('2026-11-25T09:00'), never)).toEqual({
      shop_timezone: LA,
      shop_local_weekday: 'Wednesday',
      shop_local_time_24h: '09:00',
      shop_is_open_now: false,
      shop_next_open_day: '',
      shop_next_open_time: '',
    });
  });
});

describe('validateShopProfile', () => {
  const base = () => JSON.parse(JSON.stringify(loadShopProfile()));
  const fails = (mutate: (p: any) => void, field: string) => {
    const p = base();
    mutate(p);
    let err: unknown;
    try {
      validateShopProfile(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShopProfileError);
    expect((err as ShopProfileError).field).toBe(field);
    expect((err as Error).message).toContain(field);
  };

  it('takes a canonical zone, or an alias the runtime knows, and refuses a name that is neither', () => {
    for (const timezone of ['America/Los_Angeles', 'Europe/Berlin', 'US/Pacific', 'UTC']) {
      expect(validateShopProfile({ ...base(), timezone }).timezone).toBe(timezone);
    }
    fails((p) => (p.timezone = 'America/Springfield'), 'timezone');
    fails((p) => (p.timezone = 'america/los_angeles '), 'timezone');
  });

  it('takes a real calendar date for a closure, a leap day in a leap year included', () => {
    const closures = [{ date: '2028-02-29', label: 'Leap day' }];
    expect(validateShopProfile({ ...base(), closures }).closures).toEqual(closures);
  });

  it('names the bad field', () => {
    fails((p) => delete p.name, 'name');
    fails((p) => (p.timezone = 'Pacific/Nowhere'), 'timezone');
    fails((p) => (p.phone = '(408) 379-3820'), 'phone');
    fails((p) => (p.assistantName = ''), 'assistantName');
    fails((p) => delete p.hours.tuesday, 'hours.tuesday');
    fails((p) => (p.hours.funday = []), 'hours.funday');
    fails((p) => (p.hours.monday = [['25:00', '26:00']]), 'hours.monday[0][0]');
    fails((p) => (p.hours.monday = [['08:00', '24:30']]), 'hours.monday[0][1]');
    fails((p) => (p.hours.monday = [['17:00', '08:00']]), 'hours.monday[0]');
    fails(
      (p) =>
        (p.hours.monday = [
          ['08:00', '12:00'],
          ['11:00', '17:00'],
        ]),
      'hours.monday',
    );
    fails((p) => (p.hours.monday = '08:00-17:00'), 'hours.monday');
    fails((p) => (p.closures = [{ date: '2026-02-30', label: 'x' }]), 'closures[0].date');
    fails((p) => (p.closures = [{ date: '2026-02-29', label: 'x' }]), 'closures[0].date');
    fails((p) => (p.closures = [{ date: '2026-13-01', label: 'x' }]), 'closures[0].date');
    fails((p) => (p.closures = [{ date: '2026-12-25' }]), 'closures[0].label');
    fails(
      (p) =>
        (p.specialHours = [
          { date: '2026-12-24', hours: [['09:00', '12:00']] },
          { date: '2026-12-24', hours: [] },
        ]),
      'specialHours[1].date',
    );
    fails((p) => (p.specialHours = [{ date: '2026-12-24', hours: [['9:00', '12:00']] }]), 'specialHours[0].hours[0][0]');
  });

  it('accepts 24:00 as an end and sorts periods', () => {
    const p = base();
    p.hours.friday = [
      ['18:00', '24:00'],
      ['08:00', '12:00'],
    ];
    expect(validateShopProfile(p).hours.friday).toEqual([
      ['08:00', '12:00'],
      ['18:00', '24:00'],
    ]);
  });
});

describe('shopState middleware', () => {
  it('computes the state once per request into the context, from an injectable clock', async () => {
    let calls = 0;
    const handler = middy()
      .use(shopState({ now: () => (calls++, la('2026-11-25T10:00')) }))
      .handler(async (_e: unknown, ctx: any) => ctx.shopState);
    const state = await handler({}, {} as any);
    expect(state).toMatchObject({ shop_local_weekday: 'Wednesday', shop_is_open_now: true });
    expect(calls).toBe(1);
  });
});
