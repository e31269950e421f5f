import type { Page } from '../metadata.js';
import type {
  OrganizationRecord,
  OrganizationStore,
  ProjectChanges,
  ProjectRecord,
  ProjectStore,
  RepositoryChanges,
  RepositoryRecord,
  RepositoryStore,
} from '../resources.js';
import { page } from '../rows/manifests.js';
import {
  type ProjectRow,
  type RepositoryRow,
  repositorySelect,
  toProject,
  toRepository,
} from '../rows/resources.js';
import type { SqliteDatabase } from './database.js';

interface OrganizationRow {
  id: string;
  display_name: string;
  created_at: number;
}

export class SqliteOrganizationStore implements OrganizationStore {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      find: db.prepare('SELECT id, display_name, created_at FROM organizations WHERE id = ?'),
    };
  }

  async find(id: string): Promise<OrganizationRecord | undefined> {
    const row = this.statements.find.get(id) as OrganizationRow | undefined;
    return row && { id: row.id, displayName: row.display_name, createdAt: new Date(row.created_at) };
  }
}

export class SqliteProjectStore implements ProjectStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO projects (id, organization_id, display_name, description, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      ),
      find: db.prepare('SELECT * FROM projects WHERE id = ?'),
      list: db.prepare('SELECT * FROM projects WHERE id > ? ORDER BY id LIMIT ?'),
      update: db.prepare(
        `UPDATE projects SET display_name = coalesce(?, display_name), description = coalesce(?, description),
         storage_quota = CASE WHEN ? THEN ? ELSE storage_quota END, updated_at = ? WHERE id = ?`,
      ),
      removeBindingsOnProject: db.prepare(
        `DELETE FROM iam_bindings WHERE (resource_kind = 'project' AND resource_id = ?)
         OR (resource_kind = 'repository' AND substr(resource_id, 1, length(?) + 1) = ? || '/')`,
      ),
      removeBindingsOfAccounts: db.prepare(
        `DELETE FROM iam_bindings WHERE member IN
         (SELECT 'serviceAccount:' || email FROM service_accounts WHERE project_id = ?)`,
      ),
      delete: db.prepare('DELETE FROM projects WHERE id = ?'),
    };
  }

  async create(project: ProjectRecord): Promise<boolean> {
    const { id, organization, displayName, description, createdAt, updatedAt } = project;
    const { changes } = this.statements.insert.run(
      id,
      organization,
      displayName,
      description,
      createdAt.getTime(),
      updatedAt.getTime(),
    );
    return changes > 0;
  }

  async find(id: string): Promise<ProjectRecord | undefined> {
    const row = this.statements.find.get(id) as ProjectRow | undefined;
    return row && toProject(row);
  }

  async list(after: string | undefined, limit: number): Promise<Page<ProjectRecord>> {
    const rows = this.statements.list.all(after ?? '', limit + 1) as ProjectRow[];
    return page(rows.map(toProject), limit);
  }

  async update(id: string, changes: ProjectChanges, at: Date): Promise<ProjectRecord | undefined> {
    const { displayName, description, storageQuota } = changes;
    this.statements.update.run(
      displayName ?? null,
      description ?? null,
      storageQuota === undefined ? 0 : 1,
      storageQuota ?? null,
      at.getTime(),
      id,
    );
    return this.find(id);
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.statements.removeBindingsOnProject.run(id, id, id);
      this.statements.removeBindingsOfAccounts.run(id);
      return this.statements.delete.run(id).changes > 0;
    })();
  }
}

const flag = (value: boolean | undefined) => (value === undefined ? null : value ? 1 : 0);

export class SqliteRepositoryStore implements RepositoryStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO repositories
         (project_id, id, display_name, description, scanning, immutable_tags, cleanup_policies,
          cleanup_dry_run, created_at, updated_at)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM projects WHERE id = ?)
         ON CONFLICT (project_id, id) DO NOTHING`,
      ),
      insertRemote: db.prepare(
        `INSERT INTO remote_repositories (project_id, repository_id, url, username, sealed_password, prefix, ttl_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateRemote: db.prepare(
        `UPDATE remote_repositories SET url = coalesce(@url, url),
         username = CASE WHEN @setUsername THEN @username ELSE username END,
         sealed_password = CASE WHEN @setPassword THEN @password ELSE sealed_password END,
         prefix = coalesce(@prefix, prefix), ttl_ms = coalesce(@ttlMs, ttl_ms)
         WHERE project_id = @project AND repository_id = @id`,
      ),
      find: db.prepare(`${repositorySelect} WHERE r.project_id = ? AND r.id = ?`),
      list: db.prepare(`${repositorySelect} WHERE r.project_id = ? AND r.id > ? ORDER BY r.id LIMIT ?`),
      update: db.prepare(
        `UPDATE repositories SET display_name = coalesce(?, display_name), description = coalesce(?, description),
         scanning = coalesce(?, scanning), immutable_tags = coalesce(?, immutable_tags),
         cleanup_policies = coalesce(?, cleanup_policies), cleanup_dry_run = coalesce(?, cleanup_dry_run),
         updated_at = ?
         WHERE project_id = ? AND id = ?`,
      ),
      removeBindings: db.prepare(
        "DELETE FROM iam_bindings WHERE resource_kind = 'repository' AND resource_id = ? || '/' || ?",
      ),
      delete: db.prepare('DELETE FROM repositories WHERE project_id = ? AND id = ?'),
    };
  }

  async create(repository: RepositoryRecord): Promise<boolean> {
    const { project, id, displayName, description, scanning, immutableTags, createdAt, updatedAt } =
      repository;
    const { cleanupPolicies, cleanupDryRun, remote } = repository;
    return this.db.transaction(() => {
      const { changes } = this.statements.insert.run(
        project,
        id,
        displayName,
        description,
        scanning ? 1 : 0,
        immutableTags ? 1 : 0,
        JSON.stringify(cleanupPolicies),
        cleanupDryRun ? 1 : 0,
        createdAt.getTime(),
        updatedAt.getTime(),
        project,
      );
      if (changes === 0) return false;
      if (remote) {
        this.statements.insertRemote.run(
          project,
          id,
          remote.url,
          remote.username ?? null,
          remote.sealedPassword ?? null,
          remote.prefix,
          remote.ttlMs,
        );
      }
      return true;
    })();
  }

  async find(project: string, id: string): Promise<RepositoryRecord | undefined> {
    const row = this.statements.find.get(project, id) as RepositoryRow | undefined;
    return row && toRepository(row);
  }

  async list(project: string, after: string | undefined, limit: number): Promise<Page<RepositoryRecord>> {
    const rows = this.statements.list.all(project, after ?? '', limit + 1) as RepositoryRow[];
    return page(rows.map(toRepository), limit);
  }

  async update(
    project: string,
    id: string,
    changes: RepositoryChanges,
    at: Date,
  ): Promise<RepositoryRecord | undefined> {
    const { displayName, description, scanning, immutableTags, cleanupPolicies, cleanupDryRun, remote } =
      changes;
    this.db.transaction(() => {
      this.statements.update.run(
        displayName ?? null,
        description ?? null,
        flag(scanning),
        flag(immutableTags),
        cleanupPolicies === undefined ? null : JSON.stringify(cleanupPolicies),
        flag(cleanupDryRun),
        at.getTime(),
        project,
        id,
      );
      if (remote) {
        this.statements.updateRemote.run({
          project,
          id,
          url: remote.url ?? null,
          setUsername: remote.username === undefined ? 0 : 1,
          username: remote.username ?? null,
          setPassword: remote.sealedPassword === undefined ? 0 : 1,
          password: remote.sealedPassword ?? null,
          prefix: remote.prefix ?? null,
          ttlMs: remote.ttlMs ?? null,
        });
      }
    })();
    return this.find(project, id);
  }

  async delete(project: string, id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.statements.removeBindings.run(project, id);
      return this.statements.delete.run(project, id).changes > 0;
    })();
  }
}
