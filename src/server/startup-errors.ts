import { PostgresUnavailable } from '../db/postgres/database.js';
import { MigrationRefused } from '../db/sqlite/database.js';
import { BlobStoreUnavailable } from '../storage/blob-store.js';
import { TlsSetupError } from './tls/tls-source.js';

/**
 * Failures that stop the daemon before it serves anything, told as one sentence with what to do.
 * The causes are the operator's to fix (a port in use, a data directory that cannot be one), so a
 * stack trace would only hide them. Undefined for anything else, which is a bug and keeps its stack.
 */
export function describeStartupError(
  error: unknown,
  where: { readonly host: string; readonly port: number; readonly dataDir: string },
): string | undefined {
  if (error instanceof MigrationRefused) return `cannot upgrade the metadata database: ${error.message}`;
  if (error instanceof TlsSetupError) return `cannot serve HTTPS: ${error.message}`;
  // Its message names the server with the password masked, and why.
  if (error instanceof PostgresUnavailable) {
    return `${error.message}; check metadata.postgres in the config file or MISTRIVE_POSTGRES_URL, and that the server is up`;
  }
  if (error instanceof BlobStoreUnavailable) return error.message;
  const failure = error as NodeJS.ErrnoException & { syscall?: string };
  const address = `${where.host}:${where.port}`;
  switch (failure?.syscall === 'listen' || failure?.syscall === 'getaddrinfo' ? failure.code : undefined) {
    case 'EADDRINUSE':
      return `cannot listen on ${address}: the port is already in use; stop what uses it or choose another with --port`;
    case 'EACCES':
      return `cannot listen on ${address}: not allowed to use this port; choose one above 1023 with --port`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${address}: ${where.host} is not an address of this machine; check --host`;
  }
  const path = failure?.path;
  if (typeof path === 'string' && path.startsWith(where.dataDir) && failure.code !== undefined) {
    const why = dataDirProblems[failure.code] ?? failure.code;
    return `cannot use ${where.dataDir} as the data directory: ${path} ${why}; choose a writable directory with --data-dir`;
  }
  return undefined;
}

const dataDirProblems: Readonly<Record<string, string>> = {
  EEXIST: 'is a file, not a directory',
  ENOTDIR: 'has a file where a directory should be',
  EACCES: 'is not writable by this user',
  EPERM: 'is not writable by this user',
  EROFS: 'is on a read-only filesystem',
  ENOSPC: 'is on a full disk',
};

/**
 * Where the administrator's password comes from, told beside every failed start: the password is
 * printed by the first start that succeeds, and one that is lost can be replaced.
 */
export function adminPasswordHelp(dataDir: string): string {
  return `The administrator's password is printed by the first start that succeeds. To replace a lost one, stop the daemon and run \`mistrive admin reset-password --data-dir ${dataDir}\`, or start it with MISTRIVE_ADMIN_PASSWORD set.`;
}
