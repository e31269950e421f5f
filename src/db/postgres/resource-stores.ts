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
import { type PostgresDatabase, sql } from './database.js';

interface OrganizationRow {
  id: string;
  display_name: string;
  created_at: number;
}

const findOrganization = sql('SELECT id, display_name, created_at FROM organizations WHERE id = @id');

export class PostgresOrganizationStore implements OrganizationStore {
  constructor(private readonly db: PostgresDatabase) {}

  async find(id: string): Promise<OrganizationRecord | undefined> {
    const row = await this.db.row<OrganizationRow>(findOrganization, { id });
    return row && { id: row.id, displayName: row.display_name, createdAt: new Date(row.created_at) };
  }
}

const projects = {
  insert: sql(
    `INSERT INTO projects (id, organization_id, display_name, description, created_at, updated_at)
     VALUES (@id, @organization, @displayName, @description, @createdAt, @updatedAt) ON CONFLICT (id) DO NOTHING`,
  ),
  find: sql('SELECT * FROM projects WHERE id = @id'),
  list: sql('SELECT * FROM projects WHERE id > @after ORDER BY id LIMIT @limit'),
  update: sql(
    `UPDATE projects SET display_name = coalesce(@displayName, display_name),
     description = coalesce(@description, description),
     storage_quota = CASE WHEN @setQuota::boolean THEN @quota::bigint ELSE storage_quota END, updated_at = @at
     WHERE id = @id`,
  ),
  removeBindingsOnProject: sql(
    `DELETE FROM iam_bindings WHERE (resource_kind = 'project' AND resource_id = @id)
     OR (resource_kind = 'repository' AND starts_with(resource_id, @id || '/'))`,
  ),
  removeBindingsOfAccounts: sql(
    `DELETE FROM iam_bindings WHERE member IN
     (SELECT 'serviceAccount:' || email FROM service_accounts WHERE project_id = @id)`,
  ),
  delete: sql('DELETE FROM projects WHERE id = @id'),
};

export class PostgresProjectStore implements ProjectStore {
  constructor(private readonly db: PostgresDatabase) {}

  async create(project: ProjectRecord): Promise<boolean> {
    const { id, organization, displayName, description, createdAt, updatedAt } = project;
    const changes = await this.db.run(projects.insert, {
      id,
      organization,
      displayName,
      description,
      createdAt: createdAt.getTime(),
      updatedAt: updatedAt.getTime(),
    });
    return changes > 0;
  }

  async find(id: string): Promise<ProjectRecord | undefined> {
    const row = await this.db.row<ProjectRow>(projects.find, { id });
    return row && toProject(row);
  }

  async list(after: string | undefined, limit: number): Promise<Page<ProjectRecord>> {
    const rows = await this.db.rows<ProjectRow>(projects.list, { after: after ?? '', limit: limit + 1 });
    return page(rows.map(toProject), limit);
  }

  async update(id: string, changes: ProjectChanges, at: Date): Promise<ProjectRecord | undefined> {
    const { displayName, description, storageQuota } = changes;
    await this.db.run(projects.update, {
      displayName: displayName ?? null,
      description: description ?? null,
      setQuota: storageQuota !== undefined,
      quota: storageQuota ?? null,
      at: at.getTime(),
      id,
    });
    return this.find(id);
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.run(projects.removeBindingsOnProject, { id });
      await tx.run(projects.removeBindingsOfAccounts, { id });
      return (await tx.run(projects.delete, { id })) > 0;
    });
  }
}

const repositories = {
  insert: sql(
    `INSERT INTO repositories
     (project_id, id, display_name, description, scanning, immutable_tags, cleanup_policies,
      cleanup_dry_run, created_at, updated_at)
     SELECT @project, @id, @displayName, @description, @scanning, @immutableTags, @cleanupPolicies::jsonb,
       @cleanupDryRun, @createdAt, @updatedAt WHERE EXISTS (SELECT 1 FROM projects WHERE id = @project)
     ON CONFLICT (project_id, id) DO NOTHING`,
  ),
  insertRemote: sql(
    `INSERT INTO remote_repositories (project_id, repository_id, url, username, sealed_password, prefix, ttl_ms)
     VALUES (@project, @id, @url, @username, @sealedPassword, @prefix, @ttlMs)`,
  ),
  updateRemote: sql(
    `UPDATE remote_repositories SET url = coalesce(@url, url),
     username = CASE WHEN @setUsername THEN @username ELSE username END,
     sealed_password = CASE WHEN @setPassword THEN @password ELSE sealed_password END,
     prefix = coalesce(@prefix, prefix), ttl_ms = coalesce(@ttlMs::bigint, ttl_ms)
     WHERE project_id = @project AND repository_id = @id`,
  ),
  find: sql(`${repositorySelect} WHERE r.project_id = @project AND r.id = @id`),
  list: sql(`${repositorySelect} WHERE r.project_id = @project AND r.id > @after ORDER BY r.id LIMIT @limit`),
  update: sql(
    `UPDATE repositories SET display_name = coalesce(@displayName, display_name),
     description = coalesce(@description, description),
     scanning = coalesce(@scanning::boolean, scanning), immutable_tags = coalesce(@immutableTags::boolean, immutable_tags),
     cleanup_policies = coalesce(@cleanupPolicies::jsonb, cleanup_policies),
     cleanup_dry_run = coalesce(@cleanupDryRun::boolean, cleanup_dry_run), updated_at = @at
     WHERE project_id = @project AND id = @id`,
  ),
  removeBindings: sql(
    "DELETE FROM iam_bindings WHERE resource_kind = 'repository' AND resource_id = @project || '/' || @id",
  ),
  delete: sql('DELETE FROM repositories WHERE project_id = @project AND id = @id'),
};

export class PostgresRepositoryStore implements RepositoryStore {
  constructor(private readonly db: PostgresDatabase) {}

  async create(repository: RepositoryRecord): Promise<boolean> {
    const { remote } = repository;
    return this.db.transaction(async (tx) => {
      const changes = await tx.run(repositories.insert, {
        project: repository.project,
        id: repository.id,
        displayName: repository.displayName,
        description: repository.description,
        scanning: repository.scanning,
        immutableTags: repository.immutableTags,
        cleanupPolicies: JSON.stringify(repository.cleanupPolicies),
        cleanupDryRun: repository.cleanupDryRun,
        createdAt: repository.createdAt.getTime(),
        updatedAt: repository.updatedAt.getTime(),
      });
      if (changes === 0) return false;
      if (remote) {
        await tx.run(repositories.insertRemote, {
          project: repository.project,
          id: repository.id,
          url: remote.url,
          username: remote.username ?? null,
          sealedPassword: remote.sealedPassword ?? null,
          prefix: remote.prefix,
          ttlMs: remote.ttlMs,
        });
      }
      return true;
    });
  }

  async find(project: string, id: string): Promise<RepositoryRecord | undefined> {
    const row = await this.db.row<RepositoryRow>(repositories.find, { project, id });
    return row && toRepository(row);
  }

  async list(project: string, after: string | undefined, limit: number): Promise<Page<RepositoryRecord>> {
    const rows = await this.db.rows<RepositoryRow>(repositories.list, {
      project,
      after: after ?? '',
      limit: limit + 1,
    });
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
    await this.db.transaction(async (tx) => {
      await tx.run(repositories.update, {
        displayName: displayName ?? null,
        description: description ?? null,
        scanning: scanning ?? null,
        immutableTags: immutableTags ?? null,
        cleanupPolicies: cleanupPolicies === undefined ? null : JSON.stringify(cleanupPolicies),
        cleanupDryRun: cleanupDryRun ?? null,
        at: at.getTime(),
        project,
        id,
      });
      if (remote) {
        await tx.run(repositories.updateRemote, {
          project,
          id,
          url: remote.url ?? null,
          setUsername: remote.username !== undefined,
          username: remote.username ?? null,
          setPassword: remote.sealedPassword !== undefined,
          password: remote.sealedPassword ?? null,
          prefix: remote.prefix ?? null,
          ttlMs: remote.ttlMs ?? null,
        });
      }
    });
    return this.find(project, id);
  }

  async delete(project: string, id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.run(repositories.removeBindings, { project, id });
      return (await tx.run(repositories.delete, { project, id })) > 0;
    });
  }
}
