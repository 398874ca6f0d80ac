import { mintClientToken, TokenError, verifyClientToken } from './index';

const secret = 'x'.repeat(40);

it('round-trips the user and expiry, and rejects tampering, other secrets and expiry', () => {
  const { token, expiresAt } = mintClientToken(secret, 'user-1', 600, 1_800_000_000_000);
  expect(expiresAt).toBe(1_800_000_600);
  expect(verifyClientToken(secret, token, 1_800_000_001_000)).toMatchObject({ sub: 'user-1', exp: 1_800_000_600 });
  const [p, body, sig] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ sub: 'user-2', iat: 1, exp: 9_999_999_999 })).toString('base64url');
  expect(() => verifyClientToken(secret, `${p}.${forged}.${sig}`, 1_800_000_001_000)).toThrow(new TokenError('bad_signature'));
  expect(() => verifyClientToken('y'.repeat(40), token, 1_800_000_001_000)).toThrow(new TokenError('bad_signature'));
  expect(() => verifyClientToken(secret, token, 1_800_000_600_000)).toThrow(new TokenError('expired'));
  expect(() => verifyClientToken(secret, 'garbage', 0)).toThrow(new TokenError('malformed'));
  expect(() => verifyClientToken(secret, `${p}.${body}`, 0)).toThrow(new TokenError('malformed'));
});
