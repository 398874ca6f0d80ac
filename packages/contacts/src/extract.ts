import { findPhoneNumbersInText, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { EMAIL_CANDIDATE, isE164, isSendableAddress, withoutInvisible } from './address';

/** A line of a conversation as the extractor reads it (the transcript's lines are these). */
export interface ContactSourceLine {
  role: string;
  text: string | null;
}

export interface Contacts {
  /** Lower-cased, de-duplicated, in order of appearance. */
  emails: string[];
  /** E.164, de-duplicated, in order of appearance; never the shop's own number. */
  phones: string[];
}

export interface ContactOptions {
  /** The shop's own number in E.164 (any spelling of it in the transcript is excluded). */
  shopPhone: string;
  /** Country for numbers written without one; defaults to the shop phone's country. */
  defaultCountry?: CountryCode;
}

export function countryOf(e164: string): CountryCode | undefined {
  return parsePhoneNumberFromString(e164)?.country;
}

/** Contacts the customer wrote: only customer lines, never quoted text or the assistant's words. */
export function extractContacts(lines: readonly ContactSourceLine[], opts: ContactOptions): Contacts {
  const defaultCountry = opts.defaultCountry ?? countryOf(opts.shopPhone) ?? 'US';
  const shop = parsePhoneNumberFromString(opts.shopPhone)?.number ?? opts.shopPhone;
  const emails: string[] = [];
  const phones: string[] = [];
  for (const line of lines) {
    if (line.role !== 'customer' || !line.text) continue;
    // Invisible characters would split an address (jo\u200Bhn@ -> hn@) or hide it.
    const text = withoutInvisible(line.text);
    for (const m of text.matchAll(EMAIL_CANDIDATE)) {
      const email = m[0].replace(/^[.]+|[.]+$/g, '').toLowerCase();
      // An address that cannot be sent to is not a contact (and must never make a send fail).
      if (isSendableAddress(email) && !emails.includes(email)) emails.push(email);
    }
    // Email addresses can hold digit runs that look like numbers; read phones from the rest.
    const rest = text.replace(EMAIL_CANDIDATE, ' ');
    for (const found of findPhoneNumbersInText(rest, { defaultCountry })) {
      const e164 = found.number.number;
      if (e164 === shop || !found.number.isValid()) continue;
      if (!phones.includes(e164)) phones.push(e164);
    }
  }
  return { emails, phones };
}

/**
 * A phone number typed into a form field, as E.164, or null when it is not a number that can be
 * called (the same rule as numbers found in the chat: valid for its country, the shop's country
 * when none is written). The shop's own number is not the customer's.
 */
export function phoneFromField(text: string, opts: ContactOptions): string | null {
  const defaultCountry = opts.defaultCountry ?? countryOf(opts.shopPhone) ?? 'US';
  const parsed = parsePhoneNumberFromString(withoutInvisible(text).trim().slice(0, 40), defaultCountry);
  if (!parsed || !parsed.isValid()) return null;
  const e164 = parsed.number;
  const shop = parsePhoneNumberFromString(opts.shopPhone)?.number ?? opts.shopPhone;
  return e164 === shop || !isE164(e164) ? null : e164;
}
