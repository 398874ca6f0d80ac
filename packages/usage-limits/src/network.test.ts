import { networkOf } from './index';

describe('networkOf: the network the per-network share counts', () => {
  it('groups an IPv4 address by its /24 and an IPv6 address by its /64, whatever its spelling', () => {
    expect(networkOf('203.0.113.7')).toBe(networkOf('203.0.113.250'));
    expect(networkOf('203.0.113.7')).not.toBe(networkOf('203.0.114.7'));
    expect(networkOf('::ffff:203.0.113.9')).toBe(networkOf('203.0.113.1'));
    expect(networkOf('2001:db8:1:2:aaaa::1')).toBe(networkOf('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'));
    expect(networkOf('2001:db8:1:2::1')).not.toBe(networkOf('2001:db8:1:3::1'));
  });
  it('stores no address: a short hash; anything unparsable is one network of its own', () => {
    expect(networkOf('203.0.113.7')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(networkOf(undefined)).toBe(networkOf('not an address'));
    expect(networkOf('999.1.1.1')).toBe(networkOf(undefined));
  });
});
