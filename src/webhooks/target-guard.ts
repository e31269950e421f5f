import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where webhooks may send: the SSRF guard. A registry that posts to URLs its users choose must not
 * become their way into the machine or the network it runs in, so addresses on the machine itself,
 * on private networks and the cloud metadata endpoints are refused unless the administrator allows
 * them. The check is made on the address actually connected to (a name may resolve elsewhere at
 * delivery than at registration), as well as when a webhook is registered.
 */

export interface TargetPolicy {
  /** Allows loopback, private, link-local and unspecified addresses (a registry on a private network). */
  readonly allowPrivateTargets: boolean;
  /** Addresses or CIDR ranges allowed whatever their kind, the metadata endpoints included. */
  readonly allowedTargets: readonly string[];
}

/** A resolved address and its family, as `dns.lookup` gives them. */
export interface ResolvedAddress {
  readonly address: string;
  readonly family: number;
}

/** Every address a host name resolves to. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

type Kind = 'metadata' | 'unspecified' | 'loopback' | 'link-local' | 'private' | 'multicast or reserved';

/** Ranges by kind, most specific first: the metadata addresses sit inside link-local and private ranges. */
const ranges: readonly (readonly [Kind, string])[] = [
  ['metadata', '169.254.169.254/32'],
  ['metadata', 'fd00:ec2::254/128'],
  ['unspecified', '0.0.0.0/8'],
  ['unspecified', '::/128'],
  ['loopback', '127.0.0.0/8'],
  ['loopback', '::1/128'],
  ['link-local', '169.254.0.0/16'],
  ['link-local', 'fe80::/10'],
  ['private', '10.0.0.0/8'],
  ['private', '172.16.0.0/12'],
  ['private', '192.168.0.0/16'],
  ['private', '100.64.0.0/10'],
  ['private', 'fc00::/7'],
  ['multicast or reserved', '224.0.0.0/3'],
  ['multicast or reserved', 'ff00::/8'],
];

function addRange(list: BlockList, range: string): void {
  const [address = '', prefix] = range.split('/');
  const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (prefix === undefined) list.addAddress(address, type);
  else list.addSubnet(address, Number(prefix), type);
}

const kindLists = ranges.map(([kind, range]) => {
  const list = new BlockList();
  addRange(list, range);
  return [kind, list] as const;
});

/** `::ffff:127.0.0.1` reaches 127.0.0.1: it is judged as the IPv4 address it carries. */
function plain(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4)
    return { address: lower.slice(7), type: 'ipv4' };
  return { address: lower, type: isIP(lower) === 6 ? 'ipv6' : 'ipv4' };
}

export class TargetGuard {
  private readonly allowed = new BlockList();

  constructor(
    private readonly policy: TargetPolicy,
    readonly resolve: HostResolver = systemResolver,
  ) {
    for (const entry of policy.allowedTargets) addRange(this.allowed, entry);
  }

  /** Why a connection to the address is refused, or undefined when it is allowed. */
  refusal(address: string): string | undefined {
    const { address: ip, type } = plain(address);
    if (isIP(ip) === 0) return `${address} is not an IP address`;
    if (this.allowed.check(ip, type)) return undefined;
    const kind = kindLists.find(([, list]) => list.check(ip, type))?.[0];
    if (kind === undefined) return undefined;
    if (this.policy.allowPrivateTargets && kind !== 'metadata' && kind !== 'multicast or reserved') {
      return undefined;
    }
    const how =
      kind === 'metadata'
        ? 'list it in webhooks.allowedTargets to allow it'
        : 'set webhooks.allowPrivateTargets or list it in webhooks.allowedTargets to allow it';
    return `${address} is a ${kind} address, which webhooks may not reach (${how})`;
  }

  /**
   * The addresses a host resolves to, refused as a whole when any one is: a name that resolves to
   * both a public and a private address must not get through on a second try. Throws
   * `TargetRefused`, or `TargetUnresolved` when the name does not resolve.
   */
  async addressesOf(hostname: string): Promise<ResolvedAddress[]> {
    const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    const family = isIP(bare);
    let addresses: ResolvedAddress[];
    if (family !== 0) addresses = [{ address: bare, family }];
    else {
      try {
        addresses = await this.resolve(bare);
      } catch (error) {
        const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        throw new TargetUnresolved(`cannot resolve ${bare}: ${why}`);
      }
      if (addresses.length === 0) throw new TargetUnresolved(`${bare} resolves to no address`);
    }
    for (const { address } of addresses) {
      const why = this.refusal(address);
      if (why !== undefined) throw new TargetRefused(family === 0 ? `${bare} resolves to ${why}` : why);
    }
    return addresses;
  }
}

/** A target the guard refused: permanent, so the delivery is not retried. */
export class TargetRefused extends Error {
  override name = 'TargetRefused';
}

/** A name that did not resolve: maybe for a moment, so a delivery is retried (a registration is refused). */
export class TargetUnresolved extends Error {
  override name = 'TargetUnresolved';
}
