import type { AddressInfo } from 'node:net';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

export type Scheme = 'http' | 'https';

const url = (address: string, family: string, port: number, scheme: Scheme) =>
  `${scheme}://${family === 'IPv6' ? `[${address}]` : address}:${port}`;

/**
 * The URLs clients can reach a bound server at. A wildcard address (`0.0.0.0`, `::`) is no address
 * a client can use: it stands for loopback and every interface address of the machine (IPv4 for
 * `0.0.0.0`; both families for `::`), loopback first. Link-local IPv6 addresses are left out, since
 * they need an interface name to be reached.
 */
export function clientUrls(
  bound: AddressInfo,
  interfaces: Interfaces = networkInterfaces(),
  scheme: Scheme = 'http',
): string[] {
  const { address, family, port } = bound;
  if (address !== '0.0.0.0' && address !== '::') return [url(address, family, port, scheme)];
  const families = address === '::' ? ['IPv4', 'IPv6'] : ['IPv4'];
  const found = Object.values(interfaces)
    .flatMap((entries) => entries ?? [])
    .filter((entry) => families.includes(entry.family) && !entry.address.toLowerCase().startsWith('fe80:'))
    // Loopback first, IPv4 before IPv6: the first URL is the one to try on this machine.
    .sort((a, b) => Number(b.internal) - Number(a.internal) || a.family.localeCompare(b.family));
  const urls = found.map((entry) => url(entry.address, entry.family, port, scheme));
  return urls.length > 0
    ? [...new Set(urls)]
    : [url(family === 'IPv6' ? '::1' : '127.0.0.1', family, port, scheme)];
}
