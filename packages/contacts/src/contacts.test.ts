import { getCountries, getExampleNumber } from 'libphonenumber-js';
import examples from 'libphonenumber-js/examples.mobile.json';
import metadata from 'libphonenumber-js/metadata.min.json';
import { extractContacts, formatPhone, isSendableAddress, mayHoldContact, type ContactSourceLine } from './index';

// A quote is what the customer replied to: the extractor must not read it.
const customer = (text: string, quote: string | null = null): ContactSourceLine & { quote: string | null } => ({
  role: 'customer',
  text,
  quote,
});
const assistant = (text: string): ContactSourceLine => ({ role: 'assistant', text });
const SHOP = '+14083793820';

describe('extractContacts', () => {
  it('finds emails (lower-cased, de-duplicated) and phones in E.164, in order of appearance', () => {
    const c = extractContacts(
      [
        customer('Reach me at Ana.Lopez@Example.com or (650) 253-0000.'),
        customer('Or ana.lopez@example.com, 650.253.0000, and my work line +1 415 555 2671'),
      ],
      { shopPhone: SHOP },
    );
    expect(c.emails).toEqual(['ana.lopez@example.com']);
    expect(c.phones).toEqual(['+16502530000', '+14155552671']);
  });

  it("excludes the shop's own number however it is written", () => {
    const spellings = [
      '(408) 379-3820',
      '408-379-3820',
      '408.379.3820',
      '4083793820',
      '+1 408 379 3820',
      '+14083793820',
      '1-408-379-3820',
      '+1 (408) 379-3820',
    ];
    const c = extractContacts(
      spellings.map((s) => customer(`Is this your number ${s}?`)),
      { shopPhone: SHOP },
    );
    expect(c.phones).toEqual([]);
  });

  it('parses international numbers, and national ones with the shop country as default', () => {
    const c = extractContacts([customer('Mi número es +52 55 1234 5678, o en UK +44 20 7946 0958. Local: 510 555 0199 or 510-883-1234')], {
      shopPhone: SHOP,
    });
    expect(c.phones).toEqual(['+525512345678', '+442079460958', '+15105550199', '+15108831234']);
  });

  it('reads only customer lines, never the assistant or quoted text', () => {
    const c = extractContacts(
      [
        assistant('Call us at 650-253-0000 or write to shop@craigs.autos'),
        customer('Thanks!', 'write to shop@craigs.autos or 650-253-0001'),
      ],
      { shopPhone: SHOP },
    );
    expect(c).toEqual({ emails: [], phones: [] });
  });

  it('ignores digit runs inside email addresses and things that are not numbers', () => {
    const c = extractContacts([customer('my email is user4155552671@mail.com and my car is a 2012 model with 120000 miles')], {
      shopPhone: SHOP,
    });
    expect(c).toEqual({ emails: ['user4155552671@mail.com'], phones: [] });
  });
});

describe('addresses that cannot be sent to (issue: one odd address lost a lead)', () => {
  it.each([
    ['dots before the @', 'my email is ...@example.com and phone (415) 723-4603'],
    ['a lone dot', 'email .@gmail.com, phone (415) 723-4603'],
    ['a local part over 64 characters', `write to ${'a'.repeat(1500)}@example.com or call (415) 723-4603`],
    ['two dots in a row', 'mail jo..hn@example.com, or (415) 723-4603'],
  ])('%s is not a contact; the phone still is', (_label, text) => {
    const c = extractContacts([customer(text)], { shopPhone: SHOP });
    expect(c.emails).toEqual([]);
    expect(c.phones).toEqual(['+14157234603']);
  });

  it('invisible characters do not split an address', () => {
    for (const ch of ['\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF', '\u00AD']) {
      expect(extractContacts([customer(`write to jo${ch}hn@exa${ch}mple.com`)], { shopPhone: SHOP }).emails).toEqual(['john@example.com']);
    }
  });

  it('isSendableAddress is the one rule, shared with the mailer', () => {
    expect(['a@b.co', "o'brien+cars@mail.example.org", `${'x'.repeat(64)}@example.com`].every(isSendableAddress)).toBe(true);
    expect(
      [
        '@b.co',
        '.a@b.co',
        'a.@b.co',
        'a..b@c.co',
        `${'x'.repeat(65)}@example.com`,
        'a@b',
        'a@-b.co',
        'a b@c.co',
        'a@b.co\r\nBcc: x@y.z',
      ].some(isSendableAddress),
    ).toBe(false);
  });
});

describe('formatPhone', () => {
  it('shows North American numbers as (408) 555-0142 and others as E.164', () => {
    expect(formatPhone('+14085550142')).toBe('(408) 555-0142');
    expect(formatPhone('+442079460958')).toBe('+442079460958');
  });
});

describe('mayHoldContact (the check that needs no libphonenumber)', () => {
  it('is true for every text the extractor finds a contact in: every region, written as its customers write it', () => {
    const missed: string[] = [];
    for (const region of getCountries()) {
      const example = getExampleNumber(region, examples);
      if (!example) continue;
      for (const written of [example.formatNational(), example.formatInternational(), example.number]) {
        const text = `call me on ${written} please`;
        const found = extractContacts([customer(text)], { shopPhone: SHOP, defaultCountry: region });
        if (found.phones.length && !mayHoldContact(text)) missed.push(`${region} ${written}`);
      }
    }
    expect(missed).toEqual([]);
    // Full-width and Arabic-Indic digits are digits to libphonenumber, and so here.
    const wide = 'ｍｙ　ｎｕｍｂｅｒ　（６５０）　２５３－００００';
    expect(extractContacts([customer(wide)], { shopPhone: SHOP }).phones).toEqual(['+16502530000']);
    expect(mayHoldContact(wide)).toBe(true);
    expect(mayHoldContact('٦٥٠٢٥٣٠٠٠٠')).toBe(true);
    expect(mayHoldContact('ana.lopez@example.com')).toBe(true);
  });

  it("rests on the metadata: no region's valid numbers are shorter than 4 digits", () => {
    // [country code, international prefix, national number pattern, possible lengths, ...] per region.
    const shortest = Math.min(...Object.values(metadata.countries).flatMap((r) => [r[3] ?? []].flat(2) as number[]));
    expect(shortest).toBe(4);
    // A 4-digit number (Niue's fixed lines) is found, and so is the text that holds it.
    const niue = extractContacts([customer('my number is 4002')], { shopPhone: SHOP, defaultCountry: 'NU' });
    expect(niue.phones).toEqual(['+6834002']);
    expect(mayHoldContact('my number is 4002')).toBe(true);
  });

  it('is false for text with neither an @ nor 4 digits', () => {
    for (const text of ['Are you open on Saturday?', 'Brakes squeak on my 4x4', 'a 2 or 3 day job?', '', 'at 9 or 10?']) {
      expect(mayHoldContact(text)).toBe(false);
      expect(extractContacts([customer(text)], { shopPhone: SHOP })).toEqual({ emails: [], phones: [] });
    }
    expect(mayHoldContact('my 2015 Civic')).toBe(true); // a year is 4 digits: looked at, finds nothing
  });
});
