import { createHash } from 'node:crypto';

/**
 * The network a request came from, as the per-network share counts it: an IPv4 address's /24, an
 * IPv6 address's /64 (one subscriber's usual allocation), hashed so that no address is stored.
 * Anything unparsable counts as one network of its own ('unknown').
 */
export function networkOf(sourceIp: string | undefined): string {
  const ip = (sourceIp ?? '').trim().toLowerCase();
  let prefix = 'unknown';
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4 && v4.slice(1).every((o) => Number(o) <= 255)) prefix = `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  else if (ip.includes(':')) {
    const hextets = expandV6(ip);
    if (hextets) prefix = `${hextets.slice(0, 4).join(':')}::/64`;
  }
  return createHash('sha256').update(prefix).digest('base64url').slice(0, 16);
}

function expandV6(ip: string): string[] | null {
  if (!/^[0-9a-f:]+$/.test(ip) || (ip.match(/::/g) ?? []).length > 1) return null;
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const all = [...left, ...Array(Math.max(0, fill)).fill('0'), ...right];
  if (all.length !== 8 || all.some((h) => !/^[0-9a-f]{1,4}$/.test(h))) return null;
  return all.map((h) => h.replace(/^0+(?=.)/, ''));
}
