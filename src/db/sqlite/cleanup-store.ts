import type { IndexEntry, PolicySubject } from '../../cleanup/evaluate.js';
import type { CleanupItem, CleanupRun, CleanupStore } from '../cleanup.js';
import type { SqliteDatabase } from './database.js';

interface SubjectRow {
  image_id: number;
  name: string;
  digest: string;
  created_at: number;
  tags: string;
}

interface RunRow {
  project_id: string;
  repository_id: string;
  dry_run: number;
  started_at: number;
  finished_at: number;
  freed_bytes: number;
  items: string;
}

export class SqliteCleanupStore implements CleanupStore {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      withPolicies: db.prepare(
        `SELECT project_id AS project, id AS repository FROM repositories WHERE cleanup_policies <> '[]'
         ORDER BY project_id, id`,
      ),
      subjects: db.prepare(
        `SELECT m.image_id, i.name, m.digest, m.created_at,
           (SELECT json_group_array(name) FROM
             (SELECT name FROM tags t WHERE t.image_id = m.image_id AND t.digest = m.digest ORDER BY name)) AS tags
         FROM images i JOIN manifests m ON m.image_id = i.id
         WHERE i.project_id = ? AND i.repository_id = ? ORDER BY i.name, m.digest`,
      ),
      // The references of an image's manifests that are themselves manifests of it: index entries.
      indexEntries: db.prepare(
        `SELECT r.image_id AS imageId, r.manifest_digest AS "index", r.digest AS child
         FROM images i JOIN manifest_references r ON r.image_id = i.id
         JOIN manifests m ON m.image_id = r.image_id AND m.digest = r.digest
         WHERE i.project_id = ? AND i.repository_id = ?`,
      ),
      record: db.prepare(
        `INSERT INTO cleanup_runs (project_id, repository_id, dry_run, started_at, finished_at, freed_bytes, items)
         SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM repositories WHERE project_id = ? AND id = ?)
         ON CONFLICT (project_id, repository_id) DO UPDATE SET dry_run = excluded.dry_run,
           started_at = excluded.started_at, finished_at = excluded.finished_at,
           freed_bytes = excluded.freed_bytes, items = excluded.items`,
      ),
      lastRun: db.prepare('SELECT * FROM cleanup_runs WHERE project_id = ? AND repository_id = ?'),
    };
  }

  async repositoriesWithPolicies(): Promise<{ project: string; repository: string }[]> {
    return this.statements.withPolicies.all() as { project: string; repository: string }[];
  }

  async contents(
    project: string,
    repository: string,
  ): Promise<{ subjects: PolicySubject[]; indexEntries: IndexEntry[] }> {
    const prefix = `${project}/${repository}/`;
    const subjects = (this.statements.subjects.all(project, repository) as SubjectRow[]).map((row) => ({
      imageId: row.image_id,
      image: row.name.slice(prefix.length),
      digest: row.digest,
      tags: JSON.parse(row.tags) as string[],
      createdAt: new Date(row.created_at),
    }));
    return { subjects, indexEntries: this.statements.indexEntries.all(project, repository) as IndexEntry[] };
  }

  async recordRun(run: CleanupRun): Promise<void> {
    this.statements.record.run(
      run.project,
      run.repository,
      run.dryRun ? 1 : 0,
      run.startedAt.getTime(),
      run.finishedAt.getTime(),
      run.freedBytes,
      JSON.stringify(run.items),
      run.project,
      run.repository,
    );
  }

  async lastRun(project: string, repository: string): Promise<CleanupRun | undefined> {
    const row = this.statements.lastRun.get(project, repository) as RunRow | undefined;
    return (
      row && {
        project: row.project_id,
        repository: row.repository_id,
        dryRun: row.dry_run === 1,
        startedAt: new Date(row.started_at),
        finishedAt: new Date(row.finished_at),
        freedBytes: row.freed_bytes,
        items: JSON.parse(row.items) as CleanupItem[],
      }
    );
  }
}
