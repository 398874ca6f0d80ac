/**
 * SMS length, as carriers count it. A message in the GSM 03.38 alphabet is packed as 7-bit
 * septets (160 in one segment, 153 per segment once split, the extension characters costing two);
 * one character outside it makes the whole message UCS-2 (70 code units, 67 per segment, an
 * emoji two units). Split points never cut an escape sequence or a surrogate pair.
 */

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '\f^{}\\[~]|€';
const basic = new Set(GSM_BASIC);
const extended = new Set(GSM_EXTENDED);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsLength {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

const isGsm = (text: string) => [...text].every((c) => basic.has(c) || extended.has(c));

/** How many segments `text` takes, in the encoding a phone network would use for it. */
export function smsLength(text: string): SmsLength {
  const gsm = isGsm(text);
  const cost = (c: string) => (gsm ? (extended.has(c) ? 2 : 1) : c.length);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  const chars = [...text];
  const units = chars.reduce((n, c) => n + cost(c), 0);
  if (units <= single) return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, segments: units === 0 ? 0 : 1 };
  let segments = 1;
  let used = 0;
  for (const c of chars) {
    const n = cost(c);
    if (used + n > part) {
      segments++;
      used = 0;
    }
    used += n;
  }
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, segments };
}

/** The most segments an owner alert may take (a longer text costs more and reads worse). */
export const MAX_SMS_SEGMENTS = 2;

/**
 * Shortens `parts[i]` (the free-text parts, in the order they may be cut) until `build` gives a
 * text of at most `max` segments. Cuts at code points, marks a cut with "...".
 */
export function fitSegments(parts: string[], build: (parts: string[]) => string, max = MAX_SMS_SEGMENTS): string {
  const cur = [...parts];
  for (let i = 0; i < cur.length; i++) {
    if (smsLength(build(cur)).segments <= max) break;
    const chars = [...parts[i]!];
    // The longest prefix that fits (binary search over its length); '' when none does.
    let lo = 0;
    let hi = chars.length;
    const cut = (n: number) => (n >= chars.length ? parts[i]! : n === 0 ? '' : `${chars.slice(0, n).join('').trimEnd()}...`);
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      cur[i] = cut(mid);
      if (smsLength(build(cur)).segments <= max) lo = mid;
      else hi = mid - 1;
    }
    cur[i] = cut(lo);
  }
  const text = build(cur);
  if (smsLength(text).segments > max) throw new Error('sms: the fixed parts alone are longer than the segment budget');
  return text;
}
