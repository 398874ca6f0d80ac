import { ConfigError } from '@lead-intake/errors';
import shopConfig from '../shop.config.json';
// The light module (the rules only): the profile never parses free text, so no libphonenumber here.
import { E164 } from '@lead-intake/contacts/rules';

/** The shop profile: `packages/shop/shop.config.json` is its single source of truth. */

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
/** An opening period `[start, end)`, local wall-clock `HH:mm`; `end` may be `24:00`. */
export type Period = [string, string];

export interface ShopProfile {
  /**
   * The shop's id: lower-case letters, digits and `-` (`craigs-autos`). Part of the keys of what is
   * stored per shop (the owner's lead inbox), so one table can hold many shops. Never change it
   * once leads are recorded. Default: the name, lower-cased, other characters as `-`.
   */
  id: string;
  name: string;
  timezone: string;
  phone: string;
  assistantName: string;
  hours: Record<Weekday, Period[]>;
  closures: Array<{ date: string; label: string }>;
  specialHours: Array<{ date: string; hours: Period[] }>;
  /**
   * The drop-off times the assistant may offer (local `HH:mm`, ascending), on days the shop is
   * open at that time: a request the shop confirms, not a booking. Default 08:00, 10:00, 13:00, 15:00.
   */
  dropOffTimes: string[];
}

export const DEFAULT_DROP_OFF_TIMES = ['08:00', '10:00', '13:00', '15:00'];

export class ShopProfileError extends ConfigError {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(`shop profile: ${field}`, `shop profile: ${field} ${detail}`);
  }
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export const minutesOf = (hhmm: string): number => (hhmm === '24:00' ? 1440 : Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3)));

function text(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new ShopProfileError(field, 'must be a non-empty string');
  return v;
}

function date(v: unknown, field: string): string {
  // A calendar date: it reads back the same (2026-02-30 does not). No date library: the profile
  // loads on a cold start, before the chat's first byte, and luxon is for the shop state after it.
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || !sameDay(v)) {
    throw new ShopProfileError(field, `must be a date as YYYY-MM-DD (got ${JSON.stringify(v)})`);
  }
  return v;
}

const sameDay = (v: string): boolean => {
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
};

function periods(v: unknown, field: string): Period[] {
  if (!Array.isArray(v)) throw new ShopProfileError(field, 'must be a list of ["HH:mm", "HH:mm"] periods ([] means closed)');
  const out = v.map((p, i) => {
    const f = `${field}[${i}]`;
    if (!Array.isArray(p) || p.length !== 2) throw new ShopProfileError(f, 'must be a pair ["HH:mm", "HH:mm"]');
    const [start, end] = p;
    if (typeof start !== 'string' || !HHMM.test(start))
      throw new ShopProfileError(`${f}[0]`, `must be a time HH:mm from 00:00 to 23:59 (got ${JSON.stringify(start)})`);
    if (typeof end !== 'string' || !(HHMM.test(end) || end === '24:00'))
      throw new ShopProfileError(`${f}[1]`, `must be a time HH:mm from 00:01 to 24:00 (got ${JSON.stringify(end)})`);
    if (minutesOf(end) <= minutesOf(start)) {
      throw new ShopProfileError(
        f,
        `ends (${end}) before it starts (${start}); split a period that runs past midnight into two days, ending the first at "24:00"`,
      );
    }
    return [start, end] as Period;
  });
  const sorted = [...out].sort((a, b) => minutesOf(a[0]) - minutesOf(b[0]));
  for (let i = 1; i < sorted.length; i++) {
    if (minutesOf(sorted[i]![0]) < minutesOf(sorted[i - 1]![1]))
      throw new ShopProfileError(field, `has overlapping periods (${sorted[i - 1]!.join('-')} and ${sorted[i]!.join('-')})`);
  }
  return sorted;
}

/**
 * An IANA zone name. The canonical names are looked up in the runtime's list (about 1.5 ms): the first
 * Intl date format an instance makes loads ICU's date data (about 19 ms on a cold start), and a
 * profile validated that way put it in front of the chat's first DynamoDB request. Aliases (such as
 * US/Pacific) are not in the list: a date format in that zone checks those (the runtime's own check).
 */
function knownZone(name: string): boolean {
  if (Intl.supportedValuesOf('timeZone').includes(name)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Validates a parsed profile; the error names the first bad field. */
export function validateShopProfile(raw: unknown): ShopProfile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ShopProfileError('(root)', 'must be a JSON object');
  const r = raw as Record<string, unknown>;
  const timezone = text(r.timezone, 'timezone');
  if (!knownZone(timezone))
    throw new ShopProfileError('timezone', `must be an IANA time zone such as America/Los_Angeles (got ${JSON.stringify(timezone)})`);
  const phone = text(r.phone, 'phone');
  if (!E164.test(phone)) throw new ShopProfileError('phone', `must be in E.164 form such as +14083793820 (got ${JSON.stringify(phone)})`);
  const hoursRaw = r.hours;
  if (typeof hoursRaw !== 'object' || hoursRaw === null || Array.isArray(hoursRaw))
    throw new ShopProfileError('hours', 'must be an object with keys monday..sunday');
  for (const key of Object.keys(hoursRaw)) {
    if (!WEEKDAYS.includes(key as Weekday)) throw new ShopProfileError(`hours.${key}`, 'is not a weekday (use monday..sunday, lower case)');
  }
  const hours = {} as Record<Weekday, Period[]>;
  for (const day of WEEKDAYS) {
    if (!(day in hoursRaw)) throw new ShopProfileError(`hours.${day}`, 'is missing (use [] for a closed day)');
    hours[day] = periods((hoursRaw as Record<string, unknown>)[day], `hours.${day}`);
  }
  const list = (v: unknown, field: string): unknown[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new ShopProfileError(field, 'must be a list');
    return v;
  };
  const closures = list(r.closures, 'closures').map((c, i) => {
    if (typeof c !== 'object' || c === null) throw new ShopProfileError(`closures[${i}]`, 'must be {"date": "YYYY-MM-DD", "label": "..."}');
    const o = c as Record<string, unknown>;
    return { date: date(o.date, `closures[${i}].date`), label: text(o.label, `closures[${i}].label`) };
  });
  const seen = new Set<string>();
  const specialHours = list(r.specialHours, 'specialHours').map((s, i) => {
    if (typeof s !== 'object' || s === null)
      throw new ShopProfileError(`specialHours[${i}]`, 'must be {"date": "YYYY-MM-DD", "hours": [["HH:mm", "HH:mm"]]}');
    const o = s as Record<string, unknown>;
    const d = date(o.date, `specialHours[${i}].date`);
    if (seen.has(d)) throw new ShopProfileError(`specialHours[${i}].date`, `repeats ${d}; give one entry per date`);
    seen.add(d);
    return { date: d, hours: periods(o.hours, `specialHours[${i}].hours`) };
  });
  const dropOffTimes = r.dropOffTimes === undefined ? DEFAULT_DROP_OFF_TIMES : list(r.dropOffTimes, 'dropOffTimes');
  dropOffTimes.forEach((t, i) => {
    if (typeof t !== 'string' || !HHMM.test(t)) throw new ShopProfileError(`dropOffTimes[${i}]`, 'must be a local time HH:mm');
    if (i > 0 && minutesOf(t) <= minutesOf(dropOffTimes[i - 1] as string))
      throw new ShopProfileError(`dropOffTimes[${i}]`, 'must come after the time before it (ascending, no repeats)');
  });
  const name = text(r.name, 'name');
  const id = r.id === undefined ? slug(name) : r.id;
  if (typeof id !== 'string' || !SHOP_ID.test(id))
    throw new ShopProfileError('id', 'must be 1-40 of a-z, 0-9 and -, starting with a letter or digit (e.g. "craigs-autos")');
  return {
    id,
    name,
    timezone,
    phone,
    assistantName: text(r.assistantName, 'assistantName'),
    hours,
    closures,
    specialHours,
    dropOffTimes: dropOffTimes as string[],
  };
}

export const SHOP_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/['’]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40) || 'shop';

let cached: ShopProfile | undefined;

/**
 * The shop's profile, validated once: the configured one (packages/shop/shop.config.json, bundled into
 * each function) unless another raw profile is given (validated each time).
 */
export function loadShopProfile(raw?: unknown): ShopProfile {
  if (raw !== undefined) return validateShopProfile(raw);
  cached ??= validateShopProfile(shopConfig);
  return cached;
}
