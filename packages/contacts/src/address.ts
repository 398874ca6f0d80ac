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

/** Every decimal digit, in any script: libphonenumber reads full-width and Arabic-Indic digits too. */
const DIGIT = /\p{Nd}/gu;
/** The fewest digits a valid phone number of any region has, written without its country code. */
const FEWEST_PHONE_DIGITS = 4;

/**
 * Whether a customer's text could hold a contact that `extractContacts` would find: an `@` (every
 * email candidate has one) or at least 4 digits (the shortest valid number of any region). For code
 * that must not load libphonenumber: false means the extractor finds nothing in the text; true
 * proves nothing.
 */
export function mayHoldContact(text: string): boolean {
  if (text.includes('@')) return true;
  let digits = 0;
  for (DIGIT.lastIndex = 0; DIGIT.exec(text);) if (++digits >= FEWEST_PHONE_DIGITS) return true;
  return false;
}
