/**
 * What counts as one source of requests, for every per-address limit (sign-in lockout, the
 * registration limit, the password hash queue's share): an IPv4 address, or an IPv6 address's
 * /64 prefix. One subscriber or host is usually handed a whole /64, so counting each IPv6
 * address apart would give whoever holds one 2^64 fresh allowances. The audit log keeps the
 * full address.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The key of `ip`'s source: `203.0.113.7`, `2001:db8:1:2::/64`, or `unknown`. */
export function sourceOf(ip: string | null | undefined): string {
  if (!ip) return 'unknown';
  const address = ip.split('%')[0] ?? ip; // an IPv6 zone (fe80::1%eth0) is no part of it
  if (isIPv4(address) || !isIPv6(address)) return address;
  const groups = ipv6Groups(address);
  // An IPv4 address mapped into IPv6 (::ffff:203.0.113.7) is that IPv4 address.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail read). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part ? part.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}
