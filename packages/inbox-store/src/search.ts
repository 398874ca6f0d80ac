/**
 * The inbox's search: by name, phone or email, a phone found however it is written. Each record
 * keeps one lower-case `search` string (the name, the emails, and each phone's digits with and
 * without the country code); a query is matched against it as a substring, so it is one
 * DynamoDB `contains` filter.
 */

/** The record's search string. */
export function searchText(r: { name: string | null; phones: string[]; emails: string[] }): string {
  const phones = r.phones.flatMap((p) => {
    const digits = p.replace(/\D/g, '');
    // +1 4085550142: "4085550142" as people write it in the US, and the whole number.
    return digits.startsWith('1') && digits.length === 11 ? [digits, digits.slice(1)] : [digits];
  });
  return [r.name ?? '', ...r.emails, ...phones].join(' ').toLowerCase().replace(/\s+/g, ' ').trim().slice(0, 1000);
}

const PHONE_LIKE = /^[\d\s().+-]+$/;

/**
 * What a query looks for in `search`: a phone written any way ("(408) 555-0142", "408.555.0142",
 * "+1 408 555 0142") as its digits (without a leading US country code, so it also matches a
 * number stored without one); anything else lower-cased. Null: nothing to look for.
 */
export function searchKey(q: string): string | null {
  const t = q.trim().toLowerCase().slice(0, 100);
  if (!t) return null;
  if (PHONE_LIKE.test(t)) {
    const digits = t.replace(/\D/g, '');
    if (digits.length >= 4) return digits.length === 11 && digits.startsWith('1') ? digits.slice(1) : digits;
  }
  return t.replace(/\s+/g, ' ');
}
