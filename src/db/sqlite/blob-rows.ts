import { collectorLease } from '../lifecycle.js';
import type { SqliteDatabase } from './database.js';

/**
 * The `blobs` row of a stored file, where a push and the garbage collector meet. Called inside the
 * transaction that links the blob or stores the manifest, so the check and the write are one step.
 */
export class BlobRows {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      state: db.prepare(
        `SELECT b.deleting, EXISTS (SELECT 1 FROM maintenance_leases l WHERE l.name = '${collectorLease}'
           AND l.holder = b.deleting AND l.expires_at > @at) AS collectorAlive
         FROM blobs b WHERE b.digest = @digest`,
      ),
      upsert: db.prepare(
        `INSERT INTO blobs (digest, size) VALUES (@digest, @size)
         ON CONFLICT (digest) DO UPDATE SET size = coalesce(blobs.size, excluded.size), deleting = NULL`,
      ),
    };
  }

  /**
   * Claims the blob for a push: false while a live collector is deleting its file (the caller waits
   * and puts the bytes back). A mark left by a collector whose lease expired is taken back (that
   * collector is gone and will not unlink); the caller makes sure the file is there afterwards.
   */
  claim(digest: string, size: number, at: Date): boolean {
    const state = this.statements.state.get({ digest, at: at.getTime() }) as
      | { deleting: string | null; collectorAlive: number }
      | undefined;
    if (state?.deleting && state.collectorAlive) return false;
    this.statements.upsert.run({ digest, size });
    return true;
  }
}
