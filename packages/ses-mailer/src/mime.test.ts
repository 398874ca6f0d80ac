import { SESClient } from '@aws-sdk/client-ses';
import { buildMime, EmailSendError, InvalidAddressError, MAX_HEADER_LINE, sendEmail } from './index';

const base = { from: 'leads@craigs.autos', to: ['owner@craigs.autos'], subject: 'New lead', text: 't', html: '<p>h</p>' };

describe('header lines stay within the standard', () => {
  it('folds long recipient lists one address per line, and every header line is at most 998 characters', () => {
    const to = Array.from({ length: 60 }, (_, n) => `person${n}@craigs.autos`);
    const mime = buildMime({ ...base, to, subject: 'Ünïcode '.repeat(200) });
    const head = mime.split('\r\n\r\n')[0]!;
    for (const line of head.split('\r\n')) expect(line.length).toBeLessThanOrEqual(MAX_HEADER_LINE);
    expect(head).toContain('person59@craigs.autos');
  });

  it('an address too long to be an address is refused, never written into a header', () => {
    expect(() => buildMime({ ...base, replyTo: [`${'a'.repeat(1500)}@example.com`] })).toThrow(InvalidAddressError);
    expect(() => buildMime({ ...base, replyTo: ['x@example.com\r\nBcc: y@evil.example'] })).toThrow(InvalidAddressError);
  });
});

describe('sendEmail', () => {
  it('a message that cannot be built is a failed send (EmailSendError), not a crash, and SES is never called', async () => {
    const ses = new SESClient({
      region: 'us-west-2',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
      maxAttempts: 1,
    });
    await expect(sendEmail(ses, { ...base, replyTo: ['...@example.com'] })).rejects.toEqual(
      expect.objectContaining({ name: 'EmailSendError', sesError: 'InvalidAddressError' }),
    );
    await expect(sendEmail(ses, { ...base, replyTo: ['...@example.com'] })).rejects.toBeInstanceOf(EmailSendError);
  });
});
