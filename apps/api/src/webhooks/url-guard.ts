// No SSRF from a webhook (docs/webhooks.md "Private addresses"): an endpoint whose host resolves to
// a loopback, private, link-local or otherwise non-public address is refused unless an admin
// allows private endpoints. Checked when a webhook is saved, and again at each delivery on the
// address actually connected to (a name that resolved to a public address when it was saved may
// resolve to 127.0.0.1 later: DNS rebinding).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96], // NAT64 (embeds an IPv4 address)
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** Whether `address` (an IP literal) is loopback, private, link-local or otherwise not public. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const lower = address.toLowerCase();
    // IPv4-mapped (::ffff:127.0.0.1): judge the IPv4 address inside.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4');
    return blocked.check(lower, 'ipv6');
  }
  return true; // not an address at all: never trusted
}

export class BlockedAddressError extends Error {
  readonly code = 'WEBHOOK_PRIVATE_ADDRESS';
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(
      `${host} resolves to ${address}, a loopback, private or link-local address; an admin must allow private endpoints`,
    );
  }
}

/** URL.hostname keeps the brackets of an IPv6 literal. */
export const bareHost = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1');

/** Every address `host` resolves to (itself when it is an IP literal). */
export function resolveAll(host: string): Promise<LookupAddress[]> {
  const h = bareHost(host);
  const family = isIP(h);
  if (family) return Promise.resolve([{ address: h, family }]);
  return new Promise((resolve, reject) =>
    dnsLookup(h, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
}

/** Throws BlockedAddressError naming the first non-public address `host` resolves to. */
export async function assertPublicHost(host: string): Promise<void> {
  for (const a of await resolveAll(host))
    if (isPrivateAddress(a.address)) throw new BlockedAddressError(bareHost(host), a.address);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http.request that refuses non-public addresses: the check is made on the very
 * addresses the socket connects to, so a name cannot change between the check and the connection.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const bad = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
      if (bad) return callback(new BlockedAddressError(hostname, bad.address) as NodeJS.ErrnoException, []);
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
