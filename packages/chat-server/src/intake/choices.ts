import { DateTime } from 'luxon';
import { openPeriods, type ShopProfile } from '@lead-intake/shop';

/** A choice the customer may pick: `value` is what comes back in the action, `label` what they read. */
export interface Choice {
  value: string;
  label: string;
}

const MAX_BEST_TIMES = 4;
export const MAX_VISIT_SLOTS = 6;
/** A call "today" needs this much open time left; a drop-off needs this much notice. */
const MIN_CALL_WINDOW_MIN = 30;
const MIN_NOTICE_MIN = 60;

const dayName = (d: DateTime, today: DateTime) => {
  const days = Math.round(d.startOf('day').diff(today, 'days').days);
  return days === 0 ? 'Today' : days === 1 ? 'Tomorrow' : d.setLocale('en-US').toFormat('cccc');
};
const clock = (d: DateTime) =>
  d
    .setLocale('en-US')
    .toFormat(d.minute ? 'h:mm a' : 'h a')
    .toLowerCase();

/**
 * When the shop can call back, from its hours: today (while it is open long enough), then the
 * mornings and afternoons of its next open days. Only times the shop is open; at most four.
 */
export function bestTimeChoices(now: Date, profile: ShopProfile): Choice[] {
  const zone = profile.timezone;
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  const out: Choice[] = [];
  const add = (value: string, label: string) => {
    if (!out.some((c) => c.value === value) && out.length < MAX_BEST_TIMES) out.push({ value, label });
  };
  for (const p of openPeriods(now, profile, 8)) {
    const start = DateTime.fromJSDate(p.start, { zone });
    const end = DateTime.fromJSDate(p.end, { zone });
    const date = start.toISODate()!;
    if (start.hasSame(today, 'day')) {
      if (end.diff(start, 'minutes').minutes >= MIN_CALL_WINDOW_MIN) add(`${date}:today`, `Today before ${clock(end)}`);
      continue;
    }
    const noon = start.startOf('day').set({ hour: 12 });
    if (start < noon) add(`${date}:morning`, `${dayName(start, today)} morning`);
    if (end > noon) add(`${date}:afternoon`, `${dayName(start, today)} afternoon`);
  }
  return out;
}

/**
 * Drop-off times in the shop's coming open hours: each of the shop's `dropOffTimes` on a day it is
 * open then, an hour from now at the earliest; at most six. The value is the time, ISO with its offset.
 */
export function visitSlots(now: Date, profile: ShopProfile): Choice[] {
  const zone = profile.timezone;
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  const earliest = now.getTime() + MIN_NOTICE_MIN * 60_000;
  const periods = openPeriods(now, profile, 15);
  const out: Choice[] = [];
  for (let d = 0; d < 15 && out.length < MAX_VISIT_SLOTS; d++) {
    const day = today.plus({ days: d });
    for (const hhmm of profile.dropOffTimes) {
      const [h, m] = hhmm.split(':').map(Number) as [number, number];
      const t = DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: h, minute: m }, { zone });
      const ms = t.toMillis();
      if (ms < earliest || !periods.some((p) => p.start.getTime() <= ms && ms < p.end.getTime())) continue;
      out.push({
        value: t.toISO({ suppressMilliseconds: true })!,
        label: `${dayName(t, today)}, ${t.setLocale('en-US').toFormat('LLL d')}, ${clock(t)}`,
      });
      if (out.length >= MAX_VISIT_SLOTS) break;
    }
  }
  return out;
}
