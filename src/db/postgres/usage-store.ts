import type { InstanceUsage, ManifestKey, QuotaExceeded, StorageUsage, UsageStore } from '../usage.js';
import { type Parameters, type PostgresDatabase, type Queryable, type Statement, sql } from './database.js';

/** What a scope holds: the blobs linked into its images and its manifests, one row per image and digest. */
function held(scope: string): string {
  return `SELECT i.project_id AS project_id, i.repository_id AS repository_id, b.digest AS digest,
            coalesce(b.size, 0) AS size FROM image_blobs b JOIN images i ON i.id = b.image_id WHERE ${scope}
          UNION ALL
          SELECT i.project_id, i.repository_id, m.digest, m.size FROM manifests m
            JOIN images i ON i.id = m.image_id WHERE ${scope}`;
}

/** Logical and unique bytes of the images `scope` selects; `outside` is true for an image not in it. */
function usageQuery(scope: string, outside: string): string {
  return `WITH d AS (SELECT digest, max(size) AS size FROM (${held(scope)}) h GROUP BY digest)
    SELECT coalesce(sum(d.size), 0) AS logical,
      coalesce(sum(CASE WHEN
        NOT EXISTS (SELECT 1 FROM image_blobs b JOIN images i ON i.id = b.image_id
                    WHERE b.digest = d.digest AND ${outside})
        AND NOT EXISTS (SELECT 1 FROM manifests m JOIN images i ON i.id = m.image_id
                    WHERE m.digest = d.digest AND ${outside})
      THEN d.size ELSE 0 END), 0) AS unique_bytes
    FROM d`;
}

interface UsageRow {
  logical: number;
  unique_bytes: number;
}

const toUsage = (row: UsageRow | undefined): StorageUsage => ({
  logicalBytes: row?.logical ?? 0,
  uniqueBytes: row?.unique_bytes ?? 0,
});

const statements = {
  repository: sql(
    usageQuery(
      'i.project_id = @project AND i.repository_id = @repository',
      'NOT (i.project_id = @project AND i.repository_id = @repository)',
    ),
  ),
  project: sql(usageQuery('i.project_id = @project', 'i.project_id <> @project')),
  instance: sql(
    `WITH r AS (SELECT project_id, repository_id, digest, max(size) AS size FROM (${held('true')}) h
                GROUP BY project_id, repository_id, digest),
          d AS (SELECT digest, max(size) AS size FROM r GROUP BY digest)
     SELECT (SELECT coalesce(sum(size), 0) FROM r) AS logical,
            (SELECT coalesce(sum(size), 0) FROM d) AS stored,
            (SELECT count(*) FROM d) AS digests`,
  ),
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
  rebuildCounters: sql(
    `INSERT INTO project_usage (project_id, logical_bytes)
     SELECT project_id, sum(size) FROM (SELECT project_id, digest, max(size) AS size FROM (${held('true')}) h
                                        GROUP BY project_id, digest) p GROUP BY project_id`,
  ),
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
