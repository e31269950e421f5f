import {
  instanceUsage,
  projectUsage,
  rebuildProjectUsage,
  repositoryUsage,
  toUsage,
  type UsageRow,
} from '../rows/usage.js';
import type { InstanceUsage, ManifestKey, QuotaExceeded, StorageUsage, UsageStore } from '../usage.js';
import { type Parameters, type PostgresDatabase, type Queryable, type Statement, sql } from './database.js';

const statements = {
  repository: sql(repositoryUsage),
  project: sql(projectUsage),
  instance: sql(instanceUsage),
  manifestSize: sql('SELECT size FROM manifests WHERE image_id = @imageId AND digest = @digest'),
  anyManifestSize: sql('SELECT size FROM manifests WHERE digest = @digest LIMIT 1'),
  blobSize: sql('SELECT max(size) AS size FROM image_blobs WHERE digest = @digest'),
  referencesOf: sql(
    'SELECT digest FROM manifest_references WHERE image_id = @imageId AND manifest_digest = @digest',
  ),
  manifestsNamed: sql(
    'SELECT image_id AS "imageId", digest FROM manifests WHERE digest = @digest LIMIT @limit',
  ),
  referencing: sql(
    'SELECT image_id AS "imageId", manifest_digest AS digest FROM manifest_references WHERE digest = @digest LIMIT @limit',
  ),
  blobsWithoutSize: sql('SELECT DISTINCT digest FROM image_blobs WHERE size IS NULL LIMIT @limit'),
  recordBlobSize: sql('UPDATE image_blobs SET size = @size WHERE digest = @digest AND size IS NULL'),
  clearCounters: sql('DELETE FROM project_usage'),
  rebuildCounters: sql(rebuildProjectUsage),
};

export class PostgresUsageStore implements UsageStore {
  constructor(private readonly db: PostgresDatabase) {}

  async repository(project: string, repository: string): Promise<StorageUsage> {
    return toUsage(await this.db.row<UsageRow>(statements.repository, { project, repository }));
  }

  async project(project: string): Promise<StorageUsage> {
    return toUsage(await this.db.row<UsageRow>(statements.project, { project }));
  }

  async instance(): Promise<InstanceUsage> {
    const row = await this.db.row<{ logical: number; stored: number; digests: number }>(statements.instance);
    return { logicalBytes: row?.logical ?? 0, storedBytes: row?.stored ?? 0, digests: row?.digests ?? 0 };
  }

  async freedBy(manifests: readonly ManifestKey[]): Promise<number> {
    // One snapshot for every read, as SQLite's single connection gives.
    return this.db.transaction(async (tx) => {
      const size = async (statement: Statement, params: Parameters) =>
        (await tx.row<{ size: number | null }>(statement, params))?.size ?? undefined;
      const removed = new Set(manifests.map((m) => `${m.imageId} ${m.digest}`));
      const sizes = new Map<string, number>();
      for (const { imageId, digest } of manifests) {
        sizes.set(digest, (await size(statements.manifestSize, { imageId, digest })) ?? 0);
        const references = await tx.rows<{ digest: string }>(statements.referencesOf, { imageId, digest });
        for (const { digest: reference } of references) {
          if (sizes.has(reference)) continue;
          sizes.set(
            reference,
            (await size(statements.anyManifestSize, { digest: reference })) ??
              (await size(statements.blobSize, { digest: reference })) ??
              0,
          );
        }
      }
      // One row past the removed set is enough to know that something else still needs a digest.
      const limit = removed.size + 1;
      const stillNeeded = (rows: ManifestKey[]) =>
        rows.some((row) => !removed.has(`${row.imageId} ${row.digest}`));
      let freed = 0;
      for (const [digest, bytes] of sizes) {
        if (stillNeeded(await tx.rows<ManifestKey>(statements.manifestsNamed, { digest, limit }))) continue;
        if (stillNeeded(await tx.rows<ManifestKey>(statements.referencing, { digest, limit }))) continue;
        freed += bytes;
      }
      return freed;
    });
  }

  async blobsWithoutSize(limit: number): Promise<string[]> {
    return (await this.db.rows<{ digest: string }>(statements.blobsWithoutSize, { limit })).map(
      (r) => r.digest,
    );
  }

  async recordBlobSize(digest: string, size: number): Promise<void> {
    await this.db.run(statements.recordBlobSize, { size, digest });
  }

  async rebuildCounters(): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(statements.clearCounters);
      await tx.run(statements.rebuildCounters);
    });
  }
}

const quotaStatements = {
  quota: sql(
    `SELECT p.id AS project, p.storage_quota AS quota FROM images i JOIN projects p ON p.id = i.project_id
     WHERE i.id = @imageId`,
    'quota.quota',
  ),
  held: sql(
    `SELECT EXISTS (SELECT 1 FROM image_blobs b JOIN images i ON i.id = b.image_id
                    WHERE b.digest = @digest AND i.project_id = @project)
         OR EXISTS (SELECT 1 FROM manifests m JOIN images i ON i.id = m.image_id
                    WHERE m.digest = @digest AND i.project_id = @project) AS held`,
    'quota.held',
  ),
  usage: sql('SELECT logical_bytes FROM project_usage WHERE project_id = @project', 'quota.usage'),
};

/**
 * The storage quota check, run inside the serializable transaction that links a blob or stores a
 * manifest, so two pushes cannot both squeeze under the quota. Costs one indexed lookup when the
 * project has no quota; with one, a digest the project already holds adds nothing, and a new one is
 * weighed against the project's logical bytes, which triggers keep in `project_usage`.
 */
export async function checkQuota(
  tx: Queryable,
  imageId: number,
  digest: string,
  size: number,
): Promise<QuotaExceeded | undefined> {
  const row = await tx.row<{ project: string; quota: number | null }>(quotaStatements.quota, { imageId });
  if (!row || row.quota === null) return undefined;
  const { project, quota } = row;
  if ((await tx.row<{ held: boolean }>(quotaStatements.held, { digest, project }))?.held) return undefined;
  const usage =
    (await tx.row<{ logical_bytes: number }>(quotaStatements.usage, { project }))?.logical_bytes ?? 0;
  return usage + size > quota ? { outcome: 'over-quota', project, quota, usage, adding: size } : undefined;
}
