import { chmodSync, closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { migrations } from './migrations.js';

export type SqliteDatabase = Database.Database;

/**
 * Opens (creating if needed) the metadata database in WAL mode and brings its schema up to date.
 * The file holds password and token hashes, so it is readable by its owner only, whatever the
 * directory's mode or the umask; SQLite gives its -wal and -shm files the database file's mode.
 */
export function openSqlite(path: string): SqliteDatabase {
  restrictToOwner(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // WAL with NORMAL is durable against process crashes; only a power cut may lose the last commit.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: SqliteDatabase): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `the metadata database is at schema version ${current}, newer than this mistrive (${migrations.length}): upgrade mistrive`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version] ?? '');
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/** Creates the database file 0600 if missing, and takes an existing one (and its WAL files) to 0600. */
function restrictToOwner(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
