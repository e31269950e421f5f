import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../errors/registry-error.js';

export type PresentedCredentials =
  | { readonly scheme: 'none' }
  | { readonly scheme: 'basic'; readonly username: string; readonly password: string }
  | { readonly scheme: 'bearer'; readonly token: string };

/** Reads the Authorization header; a malformed one is UNAUTHORIZED, never a 500. */
export function presentedCredentials(req: IncomingMessage): PresentedCredentials {
  const header = req.headers.authorization;
  if (!header) return { scheme: 'none' };
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (space > 0 && scheme === 'bearer' && value) return { scheme: 'bearer', token: value };
  if (space > 0 && scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0)
      return { scheme: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  throw new RegistryError('UNAUTHORIZED', 'malformed Authorization header: use Basic or Bearer credentials');
}
