import type { NetworkInterfaceInfo } from 'node:os';

/** Names every self-signed certificate holds, so that the machine itself reaches the registry as `https://localhost:PORT`. */
export const loopbackNames: readonly string[] = ['localhost', '127.0.0.1', '::1'];

/**
 * The names a self-signed server certificate is for when none are given: this machine's host name,
 * loopback, the address it is bound to, and for a wildcard bind (`0.0.0.0`, `::`) every address of
 * the machine (link-local IPv6 left out: it needs an interface name to be reached).
 */
export function defaultTlsNames(
  host: string,
  hostname: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>,
): string[] {
  const names = [hostname, ...loopbackNames];
  if (host === '0.0.0.0' || host === '::') {
    const families = host === '::' ? ['IPv4', 'IPv6'] : ['IPv4'];
    for (const entry of Object.values(interfaces).flatMap((entries) => entries ?? [])) {
      if (families.includes(entry.family) && !entry.address.toLowerCase().startsWith('fe80:')) {
        names.push(entry.address);
      }
    }
  } else names.push(host);
  return names;
}
