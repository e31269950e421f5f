import {
  instanceUsage,
  projectUsage,
  rebuildProjectUsage,
  repositoryUsage,
  toUsage,
  type UsageRow,
} from '../rows/usage.js';
import type { InstanceUsage, ManifestKey, QuotaExceeded, StorageUsage, UsageStore } from '../usage.js';
import type { SqliteDatabase } from './database.js';

export class SqliteUsageStore implements UsageStore {
  private readonly statements;
  private readonly rebuild: () => void;

  constructor(db: SqliteDatabase) {
    this.statements = {
      repository: db.prepare(repositoryUsage),
      project: db.prepare(projectUsage),
      instance: db.prepare(instanceUsage),
      manifestSize: db.prepare('SELECT size FROM manifests WHERE image_id = ? AND digest = ?').pluck(),
      anyManifestSize: db.prepare('SELECT size FROM manifests WHERE digest = ? LIMIT 1').pluck(),
      blobSize: db.prepare('SELECT max(size) FROM image_blobs WHERE digest = ?').pluck(),
      referencesOf: db
        .prepare('SELECT digest FROM manifest_references WHERE image_id = ? AND manifest_digest = ?')
        .pluck(),
      manifestsNamed: db.prepare(
        'SELECT image_id AS imageId, digest FROM manifests WHERE digest = ? LIMIT ?',
      ),
      referencing: db.prepare(
        'SELECT image_id AS imageId, manifest_digest AS digest FROM manifest_references WHERE digest = ? LIMIT ?',
      ),
      blobsWithoutSize: db
        .prepare('SELECT DISTINCT digest FROM image_blobs WHERE size IS NULL LIMIT ?')
        .pluck(),
      recordBlobSize: db.prepare('UPDATE image_blobs SET size = ? WHERE digest = ? AND size IS NULL'),
      clearCounters: db.prepare('DELETE FROM project_usage'),
      rebuildCounters: db.prepare(rebuildProjectUsage),
    };
    this.rebuild = db.transaction(() => {
      this.statements.clearCounters.run();
      this.statements.rebuildCounters.run();
    });
  }

  async repository(project: string, repository: string): Promise<StorageUsage> {
    return toUsage(this.statements.repository.get({ project, repository }) as UsageRow);
  }

  async project(project: string): Promise<StorageUsage> {
    return toUsage(this.statements.project.get({ project }) as UsageRow);
  }

  async instance(): Promise<InstanceUsage> {
    const row = this.statements.instance.get() as { logical: number; stored: number; digests: number };
    return { logicalBytes: row.logical, storedBytes: row.stored, digests: row.digests };
  }

  async freedBy(manifests: readonly ManifestKey[]): Promise<number> {
    const removed = new Set(manifests.map((m) => `${m.imageId} ${m.digest}`));
    const sizes = new Map<string, number>();
    for (const { imageId, digest } of manifests) {
      sizes.set(digest, (this.statements.manifestSize.get(imageId, digest) as number | undefined) ?? 0);
      for (const reference of this.statements.referencesOf.all(imageId, digest) as string[]) {
        if (sizes.has(reference)) continue;
        const size =
          (this.statements.anyManifestSize.get(reference) as number | undefined) ??
          (this.statements.blobSize.get(reference) as number | null) ??
          0;
        sizes.set(reference, size);
      }
    }
    // One row past the removed set is enough to know that something else still needs a digest.
    const limit = removed.size + 1;
    const stillNeeded = (rows: ManifestKey[]) =>
      rows.some((row) => !removed.has(`${row.imageId} ${row.digest}`));
    let freed = 0;
    for (const [digest, size] of sizes) {
      if (stillNeeded(this.statements.manifestsNamed.all(digest, limit) as ManifestKey[])) continue;
      if (stillNeeded(this.statements.referencing.all(digest, limit) as ManifestKey[])) continue;
      freed += size;
    }
    return freed;
  }

  async blobsWithoutSize(limit: number): Promise<string[]> {
    return this.statements.blobsWithoutSize.all(limit) as string[];
  }

  async recordBlobSize(digest: string, size: number): Promise<void> {
    this.statements.recordBlobSize.run(size, digest);
  }

  async rebuildCounters(): Promise<void> {
    this.rebuild();
  }
}

/**
 * The storage quota check, run inside the transaction that links a blob or stores a manifest, so
 * two pushes cannot both squeeze under the quota. Costs one indexed lookup when the project has no
 * quota; with one, a digest the project already holds adds nothing, and a new one is weighed against
 * the project's logical bytes, which triggers keep in `project_usage` (see the migration).
 */
export class SqliteQuotaGuard {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      quota: db.prepare(
        `SELECT p.id AS project, p.storage_quota AS quota FROM images i JOIN projects p ON p.id = i.project_id
         WHERE i.id = ?`,
      ),
      heldBlob: db
        .prepare(
          `SELECT 1 FROM image_blobs b JOIN images i ON i.id = b.image_id
           WHERE b.digest = ? AND i.project_id = ? LIMIT 1`,
        )
        .pluck(),
      heldManifest: db
        .prepare(
          `SELECT 1 FROM manifests m JOIN images i ON i.id = m.image_id
           WHERE m.digest = ? AND i.project_id = ? LIMIT 1`,
        )
        .pluck(),
      usage: db.prepare('SELECT logical_bytes FROM project_usage WHERE project_id = ?').pluck(),
    };
  }

  /** Undefined when adding `digest` of `size` bytes to the image keeps its project within quota. */
  check(imageId: number, digest: string, size: number): QuotaExceeded | undefined {
    const row = this.statements.quota.get(imageId) as { project: string; quota: number | null } | undefined;
    if (!row || row.quota === null) return undefined;
    const { project, quota } = row;
    if (
      this.statements.heldBlob.get(digest, project) !== undefined ||
      this.statements.heldManifest.get(digest, project) !== undefined
    ) {
      return undefined;
    }
    const usage = (this.statements.usage.get(project) as number | undefined) ?? 0;
    return usage + size > quota ? { outcome: 'over-quota', project, quota, usage, adding: size } : undefined;
  }
}
