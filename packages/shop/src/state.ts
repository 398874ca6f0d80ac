import { DateTime } from 'luxon';
import { minutesOf, WEEKDAYS, type Period, type ShopProfile } from './profile';

/** What the assistant is told about the shop right now (ChatKit workflow state variables). */
export interface ShopState {
  shop_timezone: string;
  /** `Sunday`..`Saturday`, in the shop's time zone. */
  shop_local_weekday: string;
  /** `HH:mm`, 24-hour clock. */
  shop_local_time_24h: string;
  shop_is_open_now: boolean;
  /** Weekday of the next opening, or `''` when none is found in the search window. */
  shop_next_open_day: string;
  /** 12-hour clock (`8:00 AM`), or `''` when none is found in the search window. */
  shop_next_open_time: string;
}

/** How far ahead the next opening is looked for (the contract says at least 14 days). */
export const SEARCH_DAYS = 15;

/** The periods in force on one local date: a closure wins, then special hours, then the week. */
export function periodsOn(day: DateTime, profile: ShopProfile): Period[] {
  const iso = day.toISODate()!;
  if (profile.closures.some((c) => c.date === iso)) return [];
  const special = profile.specialHours.find((s) => s.date === iso);
  if (special) return special.hours;
  return profile.hours[WEEKDAYS[day.weekday - 1]!];
}

/** A wall-clock minute of a local date as an instant; minute 1440 (24:00) is the next midnight. */
function at(day: DateTime, minutes: number): DateTime {
  // Built from calendar fields, so a DST change cannot shift the wall-clock time; a time inside a
  // spring-forward gap moves forward, as luxon defines.
  const d = minutes === 1440 ? day.plus({ days: 1 }) : day;
  const m = minutes % 1440;
  return DateTime.fromObject({ year: d.year, month: d.month, day: d.day, hour: Math.floor(m / 60), minute: m % 60 }, { zone: day.zone });
}

export function computeShopState(now: Date, profile: ShopProfile): ShopState {
  const local = DateTime.fromJSDate(now, { zone: profile.timezone });
  if (!local.isValid) throw new Error(`cannot compute the shop state: ${local.invalidExplanation ?? 'invalid time'}`);
  const today = local.startOf('day');
  const nowMs = local.toMillis();
  let open = false;
  let next: DateTime | undefined;
  for (let d = 0; d <= SEARCH_DAYS && !next; d++) {
    const day = today.plus({ days: d });
    for (const [start, end] of periodsOn(day, profile)) {
      const s = at(day, minutesOf(start));
      const e = at(day, minutesOf(end));
      if (d === 0 && s.toMillis() <= nowMs && nowMs < e.toMillis()) open = true;
      if (s.toMillis() > nowMs) {
        next = s;
        break;
      }
    }
  }
  return {
    shop_timezone: profile.timezone,
    shop_local_weekday: local.setLocale('en-US').toFormat('cccc'),
    shop_local_time_24h: local.toFormat('HH:mm'),
    shop_is_open_now: open,
    shop_next_open_day: next ? next.setLocale('en-US').toFormat('cccc') : '',
    shop_next_open_time: next ? next.setLocale('en-US').toFormat('h:mm a') : '',
  };
}

/** An opening of the shop, as instants. */
export interface OpenPeriod {
  start: Date;
  end: Date;
}

/**
 * The shop's openings from `now` for `days` local days (today included), in order: a period under
 * way starts at `now`. Closures and special hours apply as for the shop state.
 */
export function openPeriods(now: Date, profile: ShopProfile, days: number): OpenPeriod[] {
  const local = DateTime.fromJSDate(now, { zone: profile.timezone });
  if (!local.isValid) throw new Error(`cannot compute the openings: ${local.invalidExplanation ?? 'invalid time'}`);
  const today = local.startOf('day');
  const out: OpenPeriod[] = [];
  for (let d = 0; d < days; d++) {
    const day = today.plus({ days: d });
    for (const [start, end] of periodsOn(day, profile)) {
      const s = at(day, minutesOf(start)).toMillis();
      const e = at(day, minutesOf(end)).toMillis();
      if (e <= now.getTime()) continue;
      out.push({ start: new Date(Math.max(s, now.getTime())), end: new Date(e) });
    }
  }
  return out;
}
