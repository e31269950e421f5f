import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { type Caller, subjectOf } from '../iam/principals.js';

/**
 * Who made a request, for the request log and the per-client sign-in limits: the client's address
 * and, once credentials have been checked, the principal. Kept beside the request, never beyond it.
 */
interface RequestIdentity {
  readonly client: string;
  principal: string | undefined;
}

const identities = new WeakMap<IncomingMessage, RequestIdentity>();

/** `::ffff:10.0.0.1` is how a dual-stack socket reports an IPv4 peer: the same address as `10.0.0.1`. */
function plainAddress(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4
    ? address.slice(7)
    : address;
}

/** Whether a `trustedProxies` entry is an address or a CIDR range (`10.0.0.0/8`, `fd00::/8`). */
export function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** The proxies whose `X-Forwarded-For` is believed: nobody's unless configured. */
export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  constructor(entries: readonly string[]) {
    this.empty = entries.length === 0;
    for (const entry of entries) {
      const [address = '', prefix] = entry.split('/');
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(address, type);
      else this.list.addSubnet(address, Number(prefix), type);
    }
  }

  trusts(address: string): boolean {
    if (this.empty || isIP(address) === 0) return false;
    return this.list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client behind any trusted proxies: the socket's peer, or when that is a trusted proxy, the
   * nearest address in `X-Forwarded-For` (read from the right) that is not one. Entries a client
   * wrote itself sit to the left of what trusted proxies appended, so they are never believed.
   */
  clientOf(req: IncomingMessage): string {
    let client = plainAddress(req.socket?.remoteAddress ?? 'unknown');
    if (!this.trusts(client)) return client;
    const forwarded = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
      .split(',')
      .map((hop) => plainAddress(hop.trim()))
      .filter((hop) => hop !== '');
    for (const hop of hops.reverse()) {
      if (isIP(hop) === 0) break;
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}

/** Records where a request comes from, as it arrives. */
export function identifyClient(req: IncomingMessage, proxies: TrustedProxies): void {
  identities.set(req, { client: proxies.clientOf(req), principal: undefined });
}

/** The client's address: what the request log shows and failed sign-ins are counted against. */
export function clientAddress(req: IncomingMessage): string {
  return identities.get(req)?.client ?? plainAddress(req.socket?.remoteAddress ?? 'unknown');
}

/** Records who a request's credentials name, once they have been checked. */
export function notePrincipal(req: IncomingMessage, caller: Caller): void {
  const identity = identities.get(req);
  if (identity) identity.principal = subjectOf(caller) || undefined;
}

/** The IAM member the request acted as (`user:…`, `serviceAccount:…`), or `anonymous`. */
export function principalOf(req: IncomingMessage): string {
  return identities.get(req)?.principal ?? 'anonymous';
}
