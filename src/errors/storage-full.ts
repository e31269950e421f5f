import { RegistryError } from './registry-error.js';

/** Error codes that mean the registry's disk (or quota) is full: the filesystem's and SQLite's. */
const fullCodes = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

export function isStorageFull(error: unknown): boolean {
  return fullCodes.has((error as { code?: unknown } | undefined)?.code as string);
}

/**
 * 507 tells the client the fault is the registry's space, not its request. `resume` says what the
 * client can do once space is freed (an upload keeps the bytes it stored).
 */
export function storageFull(resume = 'retry once space has been freed', headers?: Record<string, string>) {
  return new RegistryError('UNKNOWN', `the registry's storage is full; ${resume}`, { status: 507, headers });
}

/**
 * The error a client is told about: a typed error as it is, a full disk as 507, and undefined for
 * anything else (a bug, answered as a 500 that reveals nothing). Every surface (registry, management
 * API, OAuth endpoints, pages) renders what this returns in its own shape.
 */
export function clientFacingError(error: unknown): RegistryError | undefined {
  if (error instanceof RegistryError) return error;
  if (isStorageFull(error)) return storageFull();
  return undefined;
}
