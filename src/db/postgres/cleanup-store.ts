import type { IndexEntry, PolicySubject } from '../../cleanup/evaluate.js';
import type { CleanupItem, CleanupRun, CleanupStore } from '../cleanup.js';
import { type PostgresDatabase, sql } from './database.js';

interface SubjectRow {
  image_id: number;
  name: string;
  digest: string;
  created_at: number;
  tags: string[];
}

interface RunRow {
  project_id: string;
  repository_id: string;
  dry_run: boolean;
  started_at: number;
  finished_at: number;
  freed_bytes: number;
  items: CleanupItem[];
}

const statements = {
  withPolicies: sql(
    `SELECT project_id AS project, id AS repository FROM repositories WHERE cleanup_policies <> '[]'::jsonb
     ORDER BY project_id, id`,
  ),
  subjects: sql(
    `SELECT m.image_id, i.name, m.digest, m.created_at,
       ARRAY(SELECT t.name FROM tags t WHERE t.image_id = m.image_id AND t.digest = m.digest ORDER BY t.name) AS tags
     FROM images i JOIN manifests m ON m.image_id = i.id
     WHERE i.project_id = @project AND i.repository_id = @repository ORDER BY i.name, m.digest`,
  ),
  // The references of an image's manifests that are themselves manifests of it: index entries.
  indexEntries: sql(
    `SELECT r.image_id AS "imageId", r.manifest_digest AS "index", r.digest AS child
     FROM images i JOIN manifest_references r ON r.image_id = i.id
     JOIN manifests m ON m.image_id = r.image_id AND m.digest = r.digest
     WHERE i.project_id = @project AND i.repository_id = @repository`,
  ),
  record: sql(
    `INSERT INTO cleanup_runs (project_id, repository_id, dry_run, started_at, finished_at, freed_bytes, items)
     SELECT @project, @repository, @dryRun, @startedAt, @finishedAt, @freedBytes, @items::jsonb
     WHERE EXISTS (SELECT 1 FROM repositories WHERE project_id = @project AND id = @repository)
     ON CONFLICT (project_id, repository_id) DO UPDATE SET dry_run = excluded.dry_run,
       started_at = excluded.started_at, finished_at = excluded.finished_at,
       freed_bytes = excluded.freed_bytes, items = excluded.items`,
  ),
  lastRun: sql('SELECT * FROM cleanup_runs WHERE project_id = @project AND repository_id = @repository'),
};

export class PostgresCleanupStore implements CleanupStore {
  constructor(private readonly db: PostgresDatabase) {}

  async repositoriesWithPolicies(): Promise<{ project: string; repository: string }[]> {
    return this.db.rows<{ project: string; repository: string }>(statements.withPolicies);
  }

  async contents(
    project: string,
    repository: string,
  ): Promise<{ subjects: PolicySubject[]; indexEntries: IndexEntry[] }> {
    const prefix = `${project}/${repository}/`;
    // One snapshot for both reads, so the index entries match the manifests listed.
    return this.db.transaction(async (tx) => {
      const rows = await tx.rows<SubjectRow>(statements.subjects, { project, repository });
      const subjects = rows.map((row) => ({
        imageId: row.image_id,
        image: row.name.slice(prefix.length),
        digest: row.digest,
        tags: row.tags,
        createdAt: new Date(row.created_at),
      }));
      const indexEntries = await tx.rows<IndexEntry & Record<string, unknown>>(statements.indexEntries, {
        project,
        repository,
      });
      return { subjects, indexEntries };
    });
  }

  async recordRun(run: CleanupRun): Promise<void> {
    await this.db.run(statements.record, {
      project: run.project,
      repository: run.repository,
      dryRun: run.dryRun,
      startedAt: run.startedAt.getTime(),
      finishedAt: run.finishedAt.getTime(),
      freedBytes: run.freedBytes,
      items: JSON.stringify(run.items),
    });
  }

  async lastRun(project: string, repository: string): Promise<CleanupRun | undefined> {
    const row = await this.db.row<RunRow>(statements.lastRun, { project, repository });
    return (
      row && {
        project: row.project_id,
        repository: row.repository_id,
        dryRun: row.dry_run,
        startedAt: new Date(row.started_at),
        finishedAt: new Date(row.finished_at),
        freedBytes: row.freed_bytes,
        items: row.items,
      }
    );
  }
}
