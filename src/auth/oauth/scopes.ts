import { RegistryError } from '../../errors/registry-error.js';

/** One scope: whatever the signed-in account may do, on the registry and the management API. */
export const defaultScope = 'mistrive';
export const supportedScopes: readonly string[] = [defaultScope];

/** The scope a request asks for (RFC 6749 §3.3): the default when absent, INVALID_SCOPE when unknown. */
export function requestedScope(scope: string | null | undefined): string {
  const wanted = [...new Set((scope ?? '').split(' ').filter(Boolean))];
  if (wanted.length === 0) return defaultScope;
  const unknown = wanted.filter((name) => !supportedScopes.includes(name));
  if (unknown.length > 0) {
    throw new RegistryError(
      'INVALID_SCOPE',
      `unknown scope "${unknown.join(' ').slice(0, 100)}": use ${supportedScopes.join(' ')}`,
    );
  }
  return wanted.sort().join(' ');
}

/** True when every scope of `requested` is part of `granted`. */
export function scopeWithin(requested: string, granted: string): boolean {
  const grantedScopes = granted.split(' ');
  return requested.split(' ').every((name) => grantedScopes.includes(name));
}
