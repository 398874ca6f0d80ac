import phoneRule from './phone-rule.json';
/**
 * What counts as an email address (and a phone number) here, in one place: the contact extractor keeps only addresses
 * that can be sent to, and the mailer checks every header address with the same rule. Dot-atom
 * syntax (RFC 5322) within RFC 5321's lengths: a 1-64 character local part of atoms joined by single
 * dots, a domain of 1-63 character labels ending in a 2-24 letter top-level label, 254 in all.
 */
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const ADDRESS = new RegExp(`^${ATOM}(?:\\.${ATOM})*@(?:${LABEL}\\.)+[A-Za-z]{2,24}$`);

export function isSendableAddress(a: string): boolean {
  const at = a.lastIndexOf('@');
  return a.length <= 254 && at > 0 && at <= 64 && ADDRESS.test(a);
}

/** A phone number in E.164 form (`+` and 7 to 15 digits), as contacts and the shop profile keep them (./phone-rule.json: the one rule). */
export const E164 = new RegExp(phoneRule.e164);
export const isE164 = (p: string) => E164.test(p);

/** Candidates in free text (checked with isSendableAddress before they count). */
export const EMAIL_CANDIDATE = new RegExp(`[A-Za-z0-9.!#$%&'*+/=?^_\`{|}~-]+@${LABEL}(?:\\.${LABEL})*\\.[A-Za-z]{2,24}`, 'g');

/** Characters that do not show but split words: zero-width spaces and joiners, word joiner, BOM, soft hyphen. */
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u2060-\u2064\uFEFF]/g;
export const withoutInvisible = (s: string) => s.replace(INVISIBLE, '');
