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
import type { SqliteDatabase } from './database.js';

export class SqliteLifecycleStore implements LifecycleStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      acquireLease: db.prepare(
        `INSERT INTO maintenance_leases (name, holder, expires_at) VALUES (@name, @holder, @until)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
         WHERE maintenance_leases.holder = excluded.holder OR maintenance_leases.expires_at <= @at`,
      ),
      releaseLease: db.prepare('DELETE FROM maintenance_leases WHERE name = ? AND holder = ?'),
      interrupted: db.prepare(
        `SELECT b.digest, b.size FROM blobs b WHERE b.deleting IS NOT NULL AND b.deleting <> @holder
         AND NOT EXISTS (SELECT 1 FROM maintenance_leases l WHERE l.name = '${collectorLease}'
           AND l.holder = b.deleting AND l.expires_at > @at)
         LIMIT @limit`,
      ),
      adoptInterrupted: db.prepare(
        'UPDATE blobs SET deleting = @holder WHERE digest = @digest AND deleting IS NOT NULL',
      ),
      expirableLinks: db.prepare(
        `SELECT l.image_id AS imageId, i.name AS image, l.digest FROM image_blobs l JOIN images i ON i.id = l.image_id
         WHERE (l.image_id, l.digest) > (@imageId, @digest) AND ${expirable}
         ORDER BY l.image_id, l.digest LIMIT @limit`,
      ),
      expireLink: db.prepare(
        `DELETE FROM image_blobs AS l WHERE l.image_id = @imageId AND l.digest = @digest AND ${expirable}`,
      ),
      emptyImages: db.prepare(`SELECT i.id, i.name FROM images i WHERE ${emptyImage} ORDER BY i.id`),
      deleteEmptyImage: db.prepare(`DELETE FROM images AS i WHERE i.id = @id AND ${emptyImage}`),
      orphanScans: db
        .prepare(
          `SELECT s.digest FROM scans s WHERE NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = s.digest)
           ORDER BY s.digest`,
        )
        .pluck(),
      deleteOrphanScan: db.prepare(
        `DELETE FROM scans AS s WHERE s.digest = ? AND s.status <> 'scanning'
         AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = s.digest)`,
      ),
      unreferenced: db.prepare(
        `SELECT b.digest, b.size FROM blobs b WHERE b.digest > @after AND b.deleting IS NULL AND ${unheld}
         ORDER BY b.digest LIMIT @limit`,
      ),
      // A dry run: links that collection would expire first are counted as gone.
      unreferencedAfterExpiry: db.prepare(
        `SELECT b.digest, b.size FROM blobs b WHERE b.digest > @after AND b.deleting IS NULL
         AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest)
         AND NOT EXISTS (SELECT 1 FROM image_blobs l WHERE l.digest = b.digest AND NOT (${expirable}))
         ORDER BY b.digest LIMIT @limit`,
      ),
      mark: db.prepare(
        `UPDATE blobs AS b SET deleting = @holder WHERE b.digest = @digest AND b.deleting IS NULL
         AND ${unheld} AND ${holdsLease}`,
      ),
      claimUnknown: db.prepare(
        `INSERT INTO blobs (digest, size, deleting) SELECT @digest, @size, @holder WHERE ${holdsLease}
         ON CONFLICT (digest) DO NOTHING`,
      ),
      forget: db.prepare('DELETE FROM blobs WHERE digest = ? AND deleting = ?'),
      isKnown: db.prepare('SELECT 1 FROM blobs WHERE digest = ?').pluck(),
      stored: db.prepare(
        'SELECT digest, size FROM blobs WHERE digest > ? AND deleting IS NULL ORDER BY digest LIMIT ?',
      ),
      createRun: db.prepare(
        `INSERT INTO maintenance_runs (id, kind, options, status, progress, report, error, requested_at, started_at, finished_at)
         VALUES (@id, @kind, @options, @status, @progress, @report, @error, @requestedAt, @startedAt, @finishedAt)`,
      ),
      findRun: db.prepare('SELECT * FROM maintenance_runs WHERE id = ?'),
    };
  }

  async acquireLease(name: string, holder: string, at: Date, until: Date): Promise<boolean> {
    const changes = this.statements.acquireLease.run({
      name,
      holder,
      at: at.getTime(),
      until: until.getTime(),
    }).changes;
    return changes > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.statements.releaseLease.run(name, holder);
  }

  async interruptedDeletions(holder: string, at: Date, limit: number): Promise<StoredBlob[]> {
    return this.db.transaction(() => {
      const rows = this.statements.interrupted.all({ holder, at: at.getTime(), limit }) as BlobRow[];
      // Taken over by this collector, so a push meeting them waits for it rather than taking them back.
      for (const row of rows) this.statements.adoptInterrupted.run({ holder, digest: row.digest });
      return rows.map(toBlob);
    })();
  }

  async expirableLinks(before: Date, after: BlobLink | undefined, limit: number): Promise<BlobLink[]> {
    return this.statements.expirableLinks.all({
      before: before.getTime(),
      imageId: after?.imageId ?? -1,
      digest: after?.digest ?? '',
      limit,
    }) as BlobLink[];
  }

  async expireLinks(links: readonly BlobLink[], before: Date): Promise<BlobLink[]> {
    return this.db.transaction(() =>
      links.filter(
        (link) =>
          this.statements.expireLink.run({
            imageId: link.imageId,
            digest: link.digest,
            before: before.getTime(),
          }).changes > 0,
      ),
    )();
  }

  async emptyImages(before: Date): Promise<EmptyImage[]> {
    return this.statements.emptyImages.all({ before: before.getTime() }) as EmptyImage[];
  }

  async deleteEmptyImages(images: readonly EmptyImage[], before: Date): Promise<EmptyImage[]> {
    return this.db.transaction(() =>
      images.filter(
        (image) =>
          this.statements.deleteEmptyImage.run({ id: image.id, before: before.getTime() }).changes > 0,
      ),
    )();
  }

  async orphanScans(): Promise<string[]> {
    return this.statements.orphanScans.all() as string[];
  }

  async deleteOrphanScans(digests: readonly string[]): Promise<string[]> {
    return this.db.transaction(() =>
      digests.filter((digest) => this.statements.deleteOrphanScan.run(digest).changes > 0),
    )();
  }

  async unreferencedBlobs(after: string, limit: number, linksExpiringBefore?: Date): Promise<StoredBlob[]> {
    const rows =
      linksExpiringBefore === undefined
        ? this.statements.unreferenced.all({ after, limit })
        : this.statements.unreferencedAfterExpiry.all({
            after,
            limit,
            before: linksExpiringBefore.getTime(),
          });
    return (rows as BlobRow[]).map(toBlob);
  }

  async markDeleting(digests: readonly string[], holder: string, at: Date): Promise<string[]> {
    return this.db.transaction(() =>
      digests.filter((digest) => this.statements.mark.run({ digest, holder, at: at.getTime() }).changes > 0),
    )();
  }

  async claimUnknown(blobs: readonly StoredBlob[], holder: string, at: Date): Promise<string[]> {
    return this.db.transaction(() =>
      blobs
        .filter(
          (blob) =>
            this.statements.claimUnknown.run({
              digest: blob.digest,
              size: blob.size ?? null,
              holder,
              at: at.getTime(),
            }).changes > 0,
        )
        .map((blob) => blob.digest),
    )();
  }

  async forgetDeleted(digests: readonly string[], holder: string): Promise<void> {
    this.db.transaction(() => {
      for (const digest of digests) this.statements.forget.run(digest, holder);
    })();
  }

  async knownBlobs(digests: readonly string[]): Promise<Set<string>> {
    return new Set(digests.filter((digest) => this.statements.isKnown.get(digest) !== undefined));
  }

  async storedBlobs(after: string, limit: number): Promise<StoredBlob[]> {
    return (this.statements.stored.all(after, limit) as BlobRow[]).map(toBlob);
  }

  async createRun(run: MaintenanceRun): Promise<void> {
    this.statements.createRun.run({
      id: run.id,
      kind: run.kind,
      options: JSON.stringify(run.options),
      status: run.status,
      progress: run.progress ? JSON.stringify(run.progress) : null,
      report: run.report ? JSON.stringify(run.report) : null,
      error: run.error ?? null,
      requestedAt: run.requestedAt.getTime(),
      startedAt: run.startedAt?.getTime() ?? null,
      finishedAt: run.finishedAt?.getTime() ?? null,
    });
  }

  async updateRun(id: string, changes: RunChanges): Promise<void> {
    const columns: Record<string, unknown> = {};
    if (changes.status !== undefined) columns.status = changes.status;
    if (changes.progress !== undefined) columns.progress = JSON.stringify(changes.progress);
    if (changes.report !== undefined) columns.report = JSON.stringify(changes.report);
    if (changes.error !== undefined) columns.error = changes.error;
    if (changes.finishedAt !== undefined) columns.finished_at = changes.finishedAt.getTime();
    const names = Object.keys(columns);
    if (names.length === 0) return;
    this.db
      .prepare(
        `UPDATE maintenance_runs SET ${names.map((name) => `${name} = @${name}`).join(', ')} WHERE id = @id`,
      )
      .run({ ...columns, id });
  }

  async findRun(id: string): Promise<MaintenanceRun | undefined> {
    const row = this.statements.findRun.get(id) as RunRow | undefined;
    return row && toRun(row);
  }
}
