import { chmodSync, closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { migrations } from './migrations.js';

export type SqliteDatabase = Database.Database;

/**
 * A migration that found data it cannot carry over safely and refused, changing nothing; its
 * message names the data and what the operator does about it.
 */
export class MigrationRefused extends Error {}

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
  try {
    migrate(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: SqliteDatabase, path: string): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `the metadata database is at schema version ${current}, newer than this mistrive (${migrations.length}): upgrade mistrive`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    try {
      db.transaction(() => {
        db.exec(migrations[version] ?? '');
        db.pragma(`user_version = ${version + 1}`);
      })();
    } catch (error) {
      // A migration refuses with RAISE(ABORT, …) in a trigger; DATA_DIR/metadata.db stands for this file.
      if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_TRIGGER')
        throw new MigrationRefused(error.message.replaceAll('DATA_DIR/metadata.db', path));
      throw error;
    }
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
