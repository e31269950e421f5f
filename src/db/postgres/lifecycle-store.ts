import {
  type BlobLink,
  collectorLease,
  type EmptyImage,
  type LifecycleStore,
  type MaintenanceRun,
  type RunChanges,
  type StoredBlob,
} from '../lifecycle.js';
import {
  type BlobRow,
  emptyImage,
  expirable,
  holdsLease,
  type RunRow,
  toBlob,
  toRun,
  unheld,
} from '../rows/lifecycle.js';
import { type PostgresDatabase, sql } from './database.js';

// Every write that decides what may be deleted is one serializable statement or transaction: a push
// committed in between is seen, and one racing it makes PostgreSQL abort one of the two (retried).
const statements = {
  acquireLease: sql(
    `INSERT INTO maintenance_leases (name, holder, expires_at) VALUES (@name, @holder, @until)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
     WHERE maintenance_leases.holder = excluded.holder OR maintenance_leases.expires_at <= @at`,
  ),
  releaseLease: sql('DELETE FROM maintenance_leases WHERE name = @name AND holder = @holder'),
  // Taken over by this collector, so a push meeting them waits for it rather than taking them back.
  adoptInterrupted: sql(
    `UPDATE blobs AS t SET deleting = @holder FROM (
       SELECT b.digest FROM blobs b WHERE b.deleting IS NOT NULL AND b.deleting <> @holder
       AND NOT EXISTS (SELECT 1 FROM maintenance_leases l WHERE l.name = '${collectorLease}'
         AND l.holder = b.deleting AND l.expires_at > @at)
       LIMIT @limit) AS found
     WHERE t.digest = found.digest RETURNING t.digest, t.size`,
  ),
  expirableLinks: sql(
    `SELECT l.image_id AS "imageId", i.name AS image, l.digest FROM image_blobs l JOIN images i ON i.id = l.image_id
     WHERE (l.image_id, l.digest) > (@imageId, @digest) AND ${expirable}
     ORDER BY l.image_id, l.digest LIMIT @limit`,
  ),
  expireLink: sql(
    `DELETE FROM image_blobs AS l WHERE l.image_id = @imageId AND l.digest = @digest AND ${expirable}`,
  ),
  emptyImages: sql(`SELECT i.id, i.name FROM images i WHERE ${emptyImage} ORDER BY i.id`),
  deleteEmptyImage: sql(`DELETE FROM images AS i WHERE i.id = @id AND ${emptyImage}`),
  orphanScans: sql(
    `SELECT s.digest FROM scans s WHERE NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = s.digest)
     ORDER BY s.digest`,
  ),
  deleteOrphanScan: sql(
    `DELETE FROM scans AS s WHERE s.digest = @digest AND s.status <> 'scanning'
     AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = s.digest)`,
  ),
  unreferenced: sql(
    `SELECT b.digest, b.size FROM blobs b WHERE b.digest > @after AND b.deleting IS NULL AND ${unheld}
     ORDER BY b.digest LIMIT @limit`,
  ),
  // A dry run: links that collection would expire first are counted as gone.
  unreferencedAfterExpiry: sql(
    `SELECT b.digest, b.size FROM blobs b WHERE b.digest > @after AND b.deleting IS NULL
     AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest)
     AND NOT EXISTS (SELECT 1 FROM image_blobs l WHERE l.digest = b.digest AND NOT (${expirable}))
     ORDER BY b.digest LIMIT @limit`,
  ),
  mark: sql(
    `UPDATE blobs AS b SET deleting = @holder WHERE b.digest = @digest AND b.deleting IS NULL
     AND ${unheld} AND ${holdsLease}`,
  ),
  claimUnknown: sql(
    `INSERT INTO blobs (digest, size, deleting) SELECT @digest, @size::bigint, @holder WHERE ${holdsLease}
     ON CONFLICT (digest) DO NOTHING`,
  ),
  forget: sql('DELETE FROM blobs WHERE digest = ANY(@digests::text[]) AND deleting = @holder'),
  known: sql('SELECT digest FROM blobs WHERE digest = ANY(@digests::text[])'),
  stored: sql(
    'SELECT digest, size FROM blobs WHERE digest > @after AND deleting IS NULL ORDER BY digest LIMIT @limit',
  ),
  createRun: sql(
    `INSERT INTO maintenance_runs (id, kind, options, status, progress, report, error, requested_at, started_at, finished_at)
     VALUES (@id, @kind, @options, @status, @progress, @report, @error, @requestedAt, @startedAt, @finishedAt)`,
  ),
  updateRun: sql(
    `UPDATE maintenance_runs SET status = coalesce(@status, status), progress = coalesce(@progress::jsonb, progress),
       report = coalesce(@report::jsonb, report), error = coalesce(@error, error),
       finished_at = coalesce(@finishedAt::bigint, finished_at)
     WHERE id = @id`,
  ),
  findRun: sql('SELECT * FROM maintenance_runs WHERE id = @id'),
};

const json = (value: Record<string, unknown> | undefined) =>
  value === undefined ? null : JSON.stringify(value);

export class PostgresLifecycleStore implements LifecycleStore {
  constructor(private readonly db: PostgresDatabase) {}

  async acquireLease(name: string, holder: string, at: Date, until: Date): Promise<boolean> {
    const changes = await this.db.run(statements.acquireLease, {
      name,
      holder,
      at: at.getTime(),
      until: until.getTime(),
    });
    return changes > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.db.run(statements.releaseLease, { name, holder });
  }

  async interruptedDeletions(holder: string, at: Date, limit: number): Promise<StoredBlob[]> {
    const rows = await this.db.rows<BlobRow>(statements.adoptInterrupted, {
      holder,
      at: at.getTime(),
      limit,
    });
    return rows.map(toBlob);
  }

  async expirableLinks(before: Date, after: BlobLink | undefined, limit: number): Promise<BlobLink[]> {
    return this.db.rows<BlobLink & Record<string, unknown>>(statements.expirableLinks, {
      before: before.getTime(),
      imageId: after?.imageId ?? -1,
      digest: after?.digest ?? '',
      limit,
    });
  }

  async expireLinks(links: readonly BlobLink[], before: Date): Promise<BlobLink[]> {
    return this.db.transaction(async (tx) => {
      const expired: BlobLink[] = [];
      for (const link of links) {
        const params = { imageId: link.imageId, digest: link.digest, before: before.getTime() };
        if ((await tx.run(statements.expireLink, params)) > 0) expired.push(link);
      }
      return expired;
    });
  }

  async emptyImages(before: Date): Promise<EmptyImage[]> {
    return this.db.rows<EmptyImage & Record<string, unknown>>(statements.emptyImages, {
      before: before.getTime(),
    });
  }

  async deleteEmptyImages(images: readonly EmptyImage[], before: Date): Promise<EmptyImage[]> {
    return this.db.transaction(async (tx) => {
      const deleted: EmptyImage[] = [];
      for (const image of images) {
        if ((await tx.run(statements.deleteEmptyImage, { id: image.id, before: before.getTime() })) > 0)
          deleted.push(image);
      }
      return deleted;
    });
  }

  async orphanScans(): Promise<string[]> {
    return (await this.db.rows<{ digest: string }>(statements.orphanScans)).map((row) => row.digest);
  }

  async deleteOrphanScans(digests: readonly string[]): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const deleted: string[] = [];
      for (const digest of digests) {
        if ((await tx.run(statements.deleteOrphanScan, { digest })) > 0) deleted.push(digest);
      }
      return deleted;
    });
  }

  async unreferencedBlobs(after: string, limit: number, linksExpiringBefore?: Date): Promise<StoredBlob[]> {
    const rows =
      linksExpiringBefore === undefined
        ? await this.db.rows<BlobRow>(statements.unreferenced, { after, limit })
        : await this.db.rows<BlobRow>(statements.unreferencedAfterExpiry, {
            after,
            limit,
            before: linksExpiringBefore.getTime(),
          });
    return rows.map(toBlob);
  }

  async markDeleting(digests: readonly string[], holder: string, at: Date): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const marked: string[] = [];
      for (const digest of digests) {
        if ((await tx.run(statements.mark, { digest, holder, at: at.getTime() })) > 0) marked.push(digest);
      }
      return marked;
    });
  }

  async claimUnknown(blobs: readonly StoredBlob[], holder: string, at: Date): Promise<string[]> {
    return this.db.transaction(async (tx) => {
      const claimed: string[] = [];
      for (const blob of blobs) {
        const params = { digest: blob.digest, size: blob.size ?? null, holder, at: at.getTime() };
        if ((await tx.run(statements.claimUnknown, params)) > 0) claimed.push(blob.digest);
      }
      return claimed;
    });
  }

  async forgetDeleted(digests: readonly string[], holder: string): Promise<void> {
    await this.db.run(statements.forget, { digests: [...digests], holder });
  }

  async knownBlobs(digests: readonly string[]): Promise<Set<string>> {
    const rows = await this.db.rows<{ digest: string }>(statements.known, { digests: [...digests] });
    return new Set(rows.map((row) => row.digest));
  }

  async storedBlobs(after: string, limit: number): Promise<StoredBlob[]> {
    return (await this.db.rows<BlobRow>(statements.stored, { after, limit })).map(toBlob);
  }

  async createRun(run: MaintenanceRun): Promise<void> {
    await this.db.run(statements.createRun, {
      id: run.id,
      kind: run.kind,
      options: JSON.stringify(run.options),
      status: run.status,
      progress: json(run.progress),
      report: json(run.report),
      error: run.error ?? null,
      requestedAt: run.requestedAt.getTime(),
      startedAt: run.startedAt?.getTime() ?? null,
      finishedAt: run.finishedAt?.getTime() ?? null,
    });
  }

  async updateRun(id: string, changes: RunChanges): Promise<void> {
    await this.db.run(statements.updateRun, {
      id,
      status: changes.status ?? null,
      progress: json(changes.progress),
      report: json(changes.report),
      error: changes.error ?? null,
      finishedAt: changes.finishedAt?.getTime() ?? null,
    });
  }

  async findRun(id: string): Promise<MaintenanceRun | undefined> {
    const row = await this.db.row<RunRow>(statements.findRun, { id });
    return row && toRun(row);
  }
}
