import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKED_TYPES, checkNewAttachment, limitsFromEnv, matchesType } from './index';

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

describe('what a file is', () => {
  const bytes = (...xs: Array<number | string>) =>
    new Uint8Array(xs.flatMap((x) => (typeof x === 'string' ? [...x].map((c) => c.charCodeAt(0)) : [x])));
  it('reads the first bytes of each accepted type, and nothing else passes as one', () => {
    const samples: Record<string, Uint8Array> = {
      'image/jpeg': bytes(0xff, 0xd8, 0xff, 0xe1, 'Exif'),
      'image/png': bytes(0x89, 'PNG', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13),
      'image/gif': bytes('GIF89a', 1, 0),
      'image/webp': bytes('RIFF', 0x24, 0, 0, 0, 'WEBPVP8 '),
      'application/pdf': bytes('%PDF-1.7'),
    };
    expect(Object.keys(samples).sort()).toEqual([...CHECKED_TYPES].sort());
    for (const [type, head] of Object.entries(samples))
      for (const other of CHECKED_TYPES) expect([type, other, matchesType(other, head)]).toEqual([type, other, type === other]);
    for (const type of CHECKED_TYPES) {
      expect(matchesType(type, bytes('<html><script>'))).toBe(false);
      expect(matchesType(type, new Uint8Array())).toBe(false);
    }
    expect(matchesType('IMAGE/JPEG', samples['image/jpeg']!)).toBe(true);
    expect(matchesType('image/heic', bytes(0, 0, 0, 0x18, 'ftypheic'))).toBe(false); // not a type the chat takes
  });
  it('a stage may accept only types whose content is checked: the shipped stages do, HEIC is refused with how to send JPEG', () => {
    const config = JSON.parse(readFileSync(join(__dirname, '../../../stages.config.json'), 'utf8'));
    const types = new Set<string>();
    for (const stage of Object.values<any>(config))
      if (stage?.attachments?.types) stage.attachments.types.forEach((t: string) => types.add(t));
    expect(types.size).toBeGreaterThan(0);
    for (const t of types) expect(CHECKED_TYPES).toContain(t);
    expect(() => limitsFromEnv({ CHAT_ATTACHMENT_TYPES: 'image/jpeg,image/heic' })).toThrow(/may list only .* \(not image\/heic\)/);
    expect(() => checkNewAttachment({ name: 'IMG_1.HEIC', size: 10, mime_type: 'image/heic' }, limits)).toThrow(/HEIC photos/);
  });
});
