/**
 * The server's own requests to URLs that a tenant's admin configured (an identity provider's
 * discovery, token, JWKS, userinfo and profile endpoints; SAML metadata): only to public
 * addresses, so that configuring a provider cannot make Latchkey reach the network it runs in
 * (server-side request forgery: the metadata service, a database, the metrics port). The host
 * is resolved first and every address it has must be public, or:
 * - in one of `FEDERATION_PRIVATE_NETWORKS` (CIDRs the operator lists: an on-premises IdP);
 * - on loopback, when `FEDERATION_ALLOW_HTTP_ISSUERS` is true (local stand-ins; never in
 *   production);
 * - on PUBLIC_URL's own origin (a `latchkey` provider: another tenant of this server).
 * Redirects are not followed here (openid-client asks for none; the metadata fetch checks each
 * hop through this again). The address is checked when resolved, and fetch resolves again: a
 * name whose DNS answer changes in between (rebinding) is not covered.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Special-purpose ranges (RFC 6890 and its successors): never a public provider. */
const reserved = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  reserved.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  reserved.addSubnet(net, prefix, 'ipv6');
}
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

export class OutboundRefused extends Error {
  override readonly name = 'OutboundRefused';
}

export interface OutboundPolicy {
  allowLoopback: boolean;
  /** The operator's private networks that providers may be on. */
  privateNetworks: BlockList;
  /** PUBLIC_URL's origin: always allowed. */
  ownOrigin: string;
}

/** `cidrs`: "10.0.0.0/8", "fd00::/8"…; throws with the one that is not a CIDR. */
export function privateNetworksOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net = '', bits = ''] = cidr.trim().split('/');
    const family = isIP(net);
    const prefix = Number(bits);
    if (!family || !/^[0-9]{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
      throw new Error(`"${cidr}" is not a network in CIDR notation (like 10.0.0.0/8)`);
    }
    list.addSubnet(net, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** Whether the server may connect to `address` (an IP) under `policy`. */
export function addressAllowed(address: string, policy: OutboundPolicy): boolean {
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is that IPv4 address.
  const mapped = /^::ffff:([0-9.]+)$/i.exec(address)?.[1];
  const ip = mapped && isIP(mapped) === 4 ? mapped : address;
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (policy.privateNetworks.check(ip, family)) return true;
  if (policy.allowLoopback && loopback.check(ip, family)) return true;
  return !reserved.check(ip, family);
}

/** Throws OutboundRefused unless every address of `url`'s host may be reached under `policy`. */
export async function assertReachable(url: URL, policy: OutboundPolicy): Promise<void> {
  if (url.origin === policy.ownOrigin) return;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new OutboundRefused(`${url.hostname} does not resolve`);
    }
  }
  const refused = addresses.find((a) => !addressAllowed(a, policy));
  if (addresses.length === 0 || refused !== undefined) {
    throw new OutboundRefused(
      `${url.hostname} is not a public address${refused && refused !== host ? ` (${refused})` : ''}: set FEDERATION_PRIVATE_NETWORKS to allow a private network`,
    );
  }
}

/** A fetch that asks assertReachable first (what openid-client's customFetch and the metadata fetch take). */
export type OutboundFetch = (url: string, init?: RequestInit) => Promise<Response>;

/** The policy of this server's configuration. */
export function outboundPolicyOf(config: {
  publicUrl: string;
  federation: { allowHttpIssuers: boolean; privateNetworks: string[] };
}): OutboundPolicy {
  return {
    allowLoopback: config.federation.allowHttpIssuers,
    privateNetworks: privateNetworksOf(config.federation.privateNetworks),
    ownOrigin: new URL(config.publicUrl).origin,
  };
}

/** openid-client's customFetch, through `fetchFn`. */
export const asCustomFetch =
  (fetchFn: OutboundFetch) =>
  (url: string, options: unknown): Promise<Response> =>
    fetchFn(url, options as RequestInit);

export function outboundFetch(policy: OutboundPolicy): OutboundFetch {
  return async (url, init) => {
    await assertReachable(new URL(url), policy);
    return fetch(url, init);
  };
}
