import type { StorageUsage } from '../usage.js';

/**
 * Storage usage as queries both SQL dialects read alike, shared by the SQLite and PostgreSQL stores.
 *
 * What a scope holds: the blobs linked into its images and its manifests, one row per image and
 * digest. `scope` filters the images (`i`); sizes recorded before sizes were kept count as 0 until
 * the start-up backfill fills them.
 */
function held(scope: string): string {
  return `SELECT i.project_id AS project_id, i.repository_id AS repository_id, b.digest AS digest,
            coalesce(b.size, 0) AS size FROM image_blobs b JOIN images i ON i.id = b.image_id WHERE ${scope}
          UNION ALL
          SELECT i.project_id, i.repository_id, m.digest, m.size FROM manifests m
            JOIN images i ON i.id = m.image_id WHERE ${scope}`;
}

/** Logical and unique bytes of the images `scope` selects; `outside` is true for an image not in it. */
export function usageQuery(scope: string, outside: string): string {
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

export const repositoryUsage = usageQuery(
  'i.project_id = @project AND i.repository_id = @repository',
  'NOT (i.project_id = @project AND i.repository_id = @repository)',
);

export const projectUsage = usageQuery('i.project_id = @project', 'i.project_id <> @project');

/** Every repository's logical bytes, the distinct digests' bytes, and how many digests. */
export const instanceUsage = `WITH r AS (SELECT project_id, repository_id, digest, max(size) AS size
                FROM (${held('1 = 1')}) h GROUP BY project_id, repository_id, digest),
          d AS (SELECT digest, max(size) AS size FROM r GROUP BY digest)
     SELECT (SELECT coalesce(sum(size), 0) FROM r) AS logical,
            (SELECT coalesce(sum(size), 0) FROM d) AS stored,
            (SELECT count(*) FROM d) AS digests`;

/** Each project's logical bytes, counted from scratch into `project_usage`. */
export const rebuildProjectUsage = `INSERT INTO project_usage (project_id, logical_bytes)
     SELECT project_id, sum(size) FROM (SELECT project_id, digest, max(size) AS size FROM (${held('1 = 1')}) h
                                        GROUP BY project_id, digest) p GROUP BY project_id`;

export interface UsageRow {
  logical: number;
  unique_bytes: number;
}

export const toUsage = (row: UsageRow | undefined): StorageUsage => ({
  logicalBytes: row?.logical ?? 0,
  uniqueBytes: row?.unique_bytes ?? 0,
});
