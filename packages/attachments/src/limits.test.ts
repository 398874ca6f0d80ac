import { checkNewAttachment } from './index';

const limits = { maxBytes: 10 * 1024 * 1024, maxPerMessage: 4, types: ['image/jpeg', 'application/pdf'] };
const file = (name: string) => ({ name, size: 1000, mime_type: 'image/jpeg' });

describe('the name of an upload', () => {
  it('refuses direction overrides (a name rendering as another phone number), C1 controls, separators and lone surrogates', () => {
    // U+202E (right-to-left override): shown to the owner as "Call (900) 555-0199".
    for (const name of ['\u202e9910-555 )009( llaC.jpg', 'a\u0085b.jpg', 'a\u2028b.jpg', 'a\ud800.jpg', 'a\u2066b.jpg', 'a/b.jpg', ''])
      expect(() => checkNewAttachment(file(name), limits)).toThrow(/file name of 1 to 255 characters/);
  });
  it('takes names in any script and with emoji', () => {
    for (const name of ['brakes.jpg', 'Đorđe 🚗.jpg', 'فاتورة.jpg']) expect(() => checkNewAttachment(file(name), limits)).not.toThrow();
  });
});
