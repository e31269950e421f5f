import { collectorLease } from '../lifecycle.js';
import { type Queryable, sql } from './database.js';

const statements = {
  state: sql(
    `SELECT b.deleting, EXISTS (SELECT 1 FROM maintenance_leases l WHERE l.name = '${collectorLease}'
       AND l.holder = b.deleting AND l.expires_at > @at) AS "collectorAlive"
     FROM blobs b WHERE b.digest = @digest`,
    'blobs.state',
  ),
  upsert: sql(
    `INSERT INTO blobs (digest, size) VALUES (@digest, @size)
     ON CONFLICT (digest) DO UPDATE SET size = coalesce(blobs.size, excluded.size), deleting = NULL`,
    'blobs.upsert',
  ),
};

/**
 * Claims a stored file's `blobs` row for a push, inside the transaction that links the blob or
 * stores the manifest: false while a live collector is deleting the file (the caller waits and puts
 * the bytes back). A mark left by a collector whose lease expired is taken back.
 */
export async function claimBlob(tx: Queryable, digest: string, size: number, at: Date): Promise<boolean> {
  const state = await tx.row<{ deleting: string | null; collectorAlive: boolean }>(statements.state, {
    digest,
    at: at.getTime(),
  });
  if (state?.deleting && state.collectorAlive) return false;
  await tx.run(statements.upsert, { digest, size });
  return true;
}
