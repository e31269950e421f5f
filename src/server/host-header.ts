import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../errors/registry-error.js';

/**
 * A Host header as RFC 9110 allows it here: a name or IPv4 address (letters, digits, `.`, `-`, `_`)
 * or a bracketed IPv6 literal, and an optional port. Anything else (quotes, commas, slashes, spaces)
 * could smuggle text into what is built from it: the token realm, the OAuth issuer, redirects.
 */
const hostShape = /^(?:[A-Za-z0-9._-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::(?<port>\d{1,5}))?$/;

export function isValidHost(host: string): boolean {
  const match = hostShape.exec(host);
  return match !== null && Number(match.groups?.port ?? 0) <= 65535;
}

/** Refuses a request whose Host header is malformed, with a 400 that says so. */
export function assertValidHost(req: IncomingMessage): void {
  const host = req.headers.host;
  if (host !== undefined && !isValidHost(host)) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `invalid Host header "${host.slice(0, 100)}": expected a host name or address and an optional port`,
    );
  }
}

/** An HTTP quoted-string (RFC 9110 §5.6.4): `"` and `\` escaped, so a value can never end the quotes early. */
export function quotedString(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}
