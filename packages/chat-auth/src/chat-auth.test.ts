import { mintClientToken, mintDeviceCredential, newUserId, TokenError, verifyClientToken, verifyDeviceCredential } from './index';

const secret = 'x'.repeat(40);
const T0 = 1_800_000_000_000;

describe('client tokens', () => {
  it('round-trip the user, expiry and visit, and reject tampering, other secrets and expiry', () => {
    const { token, expiresAt } = mintClientToken(secret, 'user-1', 600, { now: T0, locale: 'es-MX', pageUrl: 'https://craigs.autos/x' });
    expect(expiresAt).toBe(1_800_000_600);
    expect(verifyClientToken(secret, token, { now: T0 + 1000 })).toMatchObject({
      sub: 'user-1',
      exp: 1_800_000_600,
      loc: 'es-MX',
      url: 'https://craigs.autos/x',
    });
    const [p, body, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'user-2', iat: 1, exp: 9_999_999_999 })).toString('base64url');
    expect(() => verifyClientToken(secret, `${p}.${forged}.${sig}`, { now: T0 + 1000 })).toThrow(new TokenError('bad_signature'));
    expect(() => verifyClientToken('y'.repeat(40), token, { now: T0 + 1000 })).toThrow(new TokenError('bad_signature'));
    expect(() => verifyClientToken(secret, token, { now: T0 + 600_000 })).toThrow(new TokenError('expired'));
    expect(() => verifyClientToken(secret, 'garbage', { now: 0 })).toThrow(new TokenError('malformed'));
    expect(() => verifyClientToken(secret, `${p}.${body}`, { now: 0 })).toThrow(new TokenError('malformed'));
  });

  it('an expired token passes within a grace period (the lead endpoint’s), and not after it', () => {
    const { token } = mintClientToken(secret, 'user-1', 600, { now: T0 });
    expect(verifyClientToken(secret, token, { now: T0 + 3_600_000, graceSeconds: 86_400 }).sub).toBe('user-1');
    expect(() => verifyClientToken(secret, token, { now: T0 + 600_000 + 86_400_000, graceSeconds: 86_400 })).toThrow(
      new TokenError('expired'),
    );
  });

  it('have one spelling: padded or standard-base64 parts are malformed even when they decode to the same bytes', () => {
    const { token } = mintClientToken(secret, 'user-1', 600, { now: T0 });
    const [p, body, sig] = token.split('.') as [string, string, string];
    const std = Buffer.from(sig, 'base64url').toString('base64'); // '+', '/' and '=' padding
    expect(std).not.toBe(sig);
    for (const bad of [
      `${p}.${body}.${std}`,
      `${p}.${body}.${sig}=`,
      `${p}.${body}=.${sig}`,
      `${p}.${body}.${sig.slice(0, -1)}${String.fromCharCode(sig.charCodeAt(sig.length - 1) ^ 1)}`,
    ]) {
      expect(() => verifyClientToken(secret, bad, { now: T0 })).toThrow(TokenError);
    }
    // A 32-byte signature is 43 characters whose last one carries 2 unused bits: flipping one
    // gives a different string for the same bytes, which is refused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = `${sig.slice(0, -1)}${alphabet[alphabet.indexOf(sig.at(-1)!) ^ 1]}`;
    expect(Buffer.from(twin, 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    expect(() => verifyClientToken(secret, `${p}.${body}.${twin}`, { now: T0 })).toThrow(new TokenError('malformed'));
  });
});

describe('device credentials', () => {
  it('prove the server-issued user they were minted for, and nothing else', () => {
    const user = newUserId();
    expect(user).toMatch(/^u_[A-Za-z0-9_-]{22}$/);
    const cred = mintDeviceCredential(secret, user);
    expect(verifyDeviceCredential(secret, cred)).toBe(user);
    const other = newUserId();
    const [p, , sig] = cred.split('.');
    expect(() => verifyDeviceCredential(secret, `${p}.${other}.${sig}`)).toThrow(new TokenError('bad_signature'));
    expect(() => verifyDeviceCredential('y'.repeat(40), cred)).toThrow(new TokenError('bad_signature'));
    expect(() => verifyDeviceCredential(secret, 'ckd1.alice.abc')).toThrow(new TokenError('malformed'));
    expect(() => mintDeviceCredential(secret, 'client-chosen')).toThrow();
  });

  it('are not client tokens, and client tokens are not device credentials', () => {
    const user = newUserId();
    const cred = mintDeviceCredential(secret, user);
    const { token } = mintClientToken(secret, user, 600);
    expect(() => verifyClientToken(secret, cred)).toThrow(TokenError);
    expect(() => verifyDeviceCredential(secret, token)).toThrow(TokenError);
    // Same signature under the other scheme's framing: refused (the device key is derived apart).
    const [, , credSig] = cred.split('.');
    expect(() => verifyDeviceCredential(secret, `ckd1.${user}.${token.split('.')[2]}`)).toThrow(new TokenError('bad_signature'));
    expect(credSig).not.toBe(token.split('.')[2]);
  });
});
