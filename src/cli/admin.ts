import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { adminLogin, setAdminPassword } from '../auth/bootstrap-admin.js';
import { generatePassword } from '../auth/passwords.js';
import { SqliteMetadataStore } from '../db/sqlite/sqlite-metadata-store.js';
import { systemClock } from '../lib/clock.js';
import { runningDaemon } from '../server/daemon-lock.js';
import { CliError } from './errors.js';

export interface PasswordReset {
  readonly login: string;
  readonly dataDir: string;
  /** Present when the password was generated: shown once, as at the first start. */
  readonly password?: string;
}

/**
 * `mistrive admin reset-password`: gives the administrator a new password, working on the data
 * directory itself, so it needs the daemon stopped rather than a sign-in nobody can do any more.
 */
export async function resetAdminPassword(
  dataDir: string,
  chosen: string | undefined,
): Promise<PasswordReset> {
  const daemon = await runningDaemon(dataDir);
  if (daemon !== undefined) {
    throw new CliError('FAILED_PRECONDITION', `a registry daemon (process ${daemon}) is serving ${dataDir}`, {
      hint: 'stop it first (SIGINT or SIGTERM), then run this again; or restart it with MISTRIVE_ADMIN_PASSWORD set, which it applies at start',
    });
  }
  const database = join(dataDir, 'metadata.db');
  if (!existsSync(database)) {
    throw new CliError('NOT_FOUND', `${dataDir} holds no registry data (no metadata.db)`, {
      hint: 'check --data-dir; the first `mistrive serve` to start creates the administrator and prints its password',
    });
  }
  if (chosen !== undefined && (chosen.length < 8 || chosen.length > 1024)) {
    throw new CliError('INVALID_ARGUMENT', 'the password must be 8 to 1024 characters long');
  }
  const password = chosen ?? generatePassword();
  const metadata = SqliteMetadataStore.open(database);
  try {
    await setAdminPassword(metadata.users, password, systemClock);
  } finally {
    await metadata.close();
  }
  return { login: adminLogin, dataDir, ...(chosen === undefined ? { password } : {}) };
}
