import type { ManifestRecord, Page } from '../metadata.js';
import type {
  DeleteOutcome,
  ImageStore,
  ImageSummary,
  OrganizationRecord,
  OrganizationStore,
  ProjectChanges,
  ProjectRecord,
  ProjectStore,
  RepositoryChanges,
  RepositoryRecord,
  RepositoryStore,
  TaggedManifest,
  TagOutcome,
  TagRecord,
} from '../resources.js';
import type { SqliteDatabase } from './database.js';

/** Fetches one more row than asked, to tell whether another page follows. */
function page<T>(rows: T[], limit: number): Page<T> {
  return { items: rows.slice(0, limit), more: rows.length > limit };
}

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

interface ProjectRow {
  id: string;
  organization_id: string;
  display_name: string;
  description: string;
  created_at: number;
  updated_at: number;
}

const toProject = (row: ProjectRow): ProjectRecord => ({
  id: row.id,
  organization: row.organization_id,
  displayName: row.display_name,
  description: row.description,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

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
         updated_at = ? WHERE id = ?`,
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
    const { displayName, description } = changes;
    this.statements.update.run(displayName ?? null, description ?? null, at.getTime(), id);
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

interface RepositoryRow {
  project_id: string;
  id: string;
  display_name: string;
  description: string;
  scanning: number;
  immutable_tags: number;
  created_at: number;
  updated_at: number;
}

const toRepository = (row: RepositoryRow): RepositoryRecord => ({
  project: row.project_id,
  id: row.id,
  displayName: row.display_name,
  description: row.description,
  scanning: row.scanning === 1,
  immutableTags: row.immutable_tags === 1,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

const flag = (value: boolean | undefined) => (value === undefined ? null : value ? 1 : 0);

export class SqliteRepositoryStore implements RepositoryStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      insert: db.prepare(
        `INSERT INTO repositories
         (project_id, id, display_name, description, scanning, immutable_tags, created_at, updated_at)
         SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM projects WHERE id = ?)
         ON CONFLICT (project_id, id) DO NOTHING`,
      ),
      find: db.prepare('SELECT * FROM repositories WHERE project_id = ? AND id = ?'),
      list: db.prepare('SELECT * FROM repositories WHERE project_id = ? AND id > ? ORDER BY id LIMIT ?'),
      update: db.prepare(
        `UPDATE repositories SET display_name = coalesce(?, display_name), description = coalesce(?, description),
         scanning = coalesce(?, scanning), immutable_tags = coalesce(?, immutable_tags), updated_at = ?
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
    const { changes } = this.statements.insert.run(
      project,
      id,
      displayName,
      description,
      scanning ? 1 : 0,
      immutableTags ? 1 : 0,
      createdAt.getTime(),
      updatedAt.getTime(),
      project,
    );
    return changes > 0;
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
    const { displayName, description, scanning, immutableTags } = changes;
    this.statements.update.run(
      displayName ?? null,
      description ?? null,
      flag(scanning),
      flag(immutableTags),
      at.getTime(),
      project,
      id,
    );
    return this.find(project, id);
  }

  async delete(project: string, id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.statements.removeBindings.run(project, id);
      return this.statements.delete.run(project, id).changes > 0;
    })();
  }
}

interface ImageRow {
  id: number;
  name: string;
  created_at: number;
  updated_at: number;
}

interface TaggedManifestRow {
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  annotations: string | null;
  subject_digest: string | null;
  created_at: number;
  tags: string;
}

interface TagRow {
  name: string;
  digest: string;
  updated_at: number;
}

const toTag = (row: TagRow): TagRecord => ({
  name: row.name,
  digest: row.digest,
  updatedAt: new Date(row.updated_at),
});

const toImage = (row: ImageRow): ImageSummary => ({
  id: row.id,
  name: row.name,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

const toTaggedManifest = (row: TaggedManifestRow): TaggedManifest => {
  const manifest: ManifestRecord = {
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    artifactType: row.artifact_type ?? undefined,
    annotations: row.annotations ? (JSON.parse(row.annotations) as Record<string, string>) : undefined,
    subjectDigest: row.subject_digest ?? undefined,
    createdAt: new Date(row.created_at),
  };
  return { ...manifest, tags: JSON.parse(row.tags) as string[] };
};

const imageColumns = `i.id, i.name, i.created_at, max(i.created_at,
  coalesce((SELECT max(created_at) FROM manifests WHERE image_id = i.id), 0),
  coalesce((SELECT max(updated_at) FROM tags WHERE image_id = i.id), 0)) AS updated_at`;

const taggedManifestColumns = `m.digest, m.media_type, m.size, m.artifact_type, m.annotations, m.subject_digest,
  m.created_at, (SELECT json_group_array(name) FROM
    (SELECT name FROM tags t WHERE t.image_id = m.image_id AND t.digest = m.digest ORDER BY name)) AS tags`;

export class SqliteImageStore implements ImageStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      // Names of one repository share the prefix `PROJECT/REPOSITORY/`; `0` sorts right after `/`.
      list: db.prepare(
        `SELECT ${imageColumns} FROM images i WHERE i.name > ? AND i.name < ?
         AND i.project_id = ? AND i.repository_id = ? ORDER BY i.name LIMIT ?`,
      ),
      find: db.prepare(`SELECT ${imageColumns} FROM images i WHERE i.name = ?`),
      manifests: db.prepare(
        `SELECT ${taggedManifestColumns} FROM manifests m WHERE m.image_id = ? AND m.digest > ?
         ORDER BY m.digest LIMIT ?`,
      ),
      allManifests: db.prepare(
        `SELECT ${taggedManifestColumns} FROM manifests m WHERE m.image_id = ? ORDER BY m.digest`,
      ),
      tags: db.prepare(
        'SELECT name, digest, updated_at FROM tags WHERE image_id = ? AND name > ? ORDER BY name LIMIT ?',
      ),
      findTag: db.prepare('SELECT name, digest, updated_at FROM tags WHERE image_id = ? AND name = ?'),
      tagsOf: db.prepare('SELECT name FROM tags WHERE image_id = ? AND digest = ? ORDER BY name').pluck(),
      tagDigest: db.prepare('SELECT digest FROM tags WHERE image_id = ? AND name = ?').pluck(),
      isManifest: db.prepare('SELECT 1 FROM manifests WHERE image_id = ? AND digest = ?').pluck(),
      upsertTag: db.prepare(
        `INSERT INTO tags (image_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (image_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
      ),
      isTagged: db.prepare('SELECT 1 FROM tags WHERE image_id = ? LIMIT 1').pluck(),
      deleteManifest: db.prepare('DELETE FROM manifests WHERE image_id = ? AND digest = ?'),
      deleteImage: db.prepare('DELETE FROM images WHERE id = ?'),
    };
  }

  async list(
    project: string,
    repository: string,
    after: string | undefined,
    limit: number,
  ): Promise<Page<ImageSummary>> {
    const prefix = `${project}/${repository}/`;
    const lower = after !== undefined && after > prefix ? after : prefix;
    const rows = this.statements.list.all(
      lower,
      `${project}/${repository}0`,
      project,
      repository,
      limit + 1,
    ) as ImageRow[];
    return page(rows.map(toImage), limit);
  }

  async find(name: string): Promise<ImageSummary | undefined> {
    const row = this.statements.find.get(name) as ImageRow | undefined;
    return row && toImage(row);
  }

  async manifests(imageId: number, after: string | undefined, limit: number): Promise<Page<TaggedManifest>> {
    const rows = this.statements.manifests.all(imageId, after ?? '', limit + 1) as TaggedManifestRow[];
    return page(rows.map(toTaggedManifest), limit);
  }

  async allManifests(imageId: number): Promise<TaggedManifest[]> {
    return (this.statements.allManifests.all(imageId) as TaggedManifestRow[]).map(toTaggedManifest);
  }

  async tags(imageId: number, after: string | undefined, limit: number): Promise<Page<TagRecord>> {
    const rows = this.statements.tags.all(imageId, after ?? '', limit + 1) as TagRow[];
    return page(rows.map(toTag), limit);
  }

  async findTag(imageId: number, tag: string): Promise<TagRecord | undefined> {
    const row = this.statements.findTag.get(imageId, tag) as TagRow | undefined;
    return row && toTag(row);
  }

  async tagsOf(imageId: number, digest: string): Promise<string[]> {
    return this.statements.tagsOf.all(imageId, digest) as string[];
  }

  async setTag(
    imageId: number,
    tag: string,
    digest: string,
    at: Date,
    options: { keepExisting: boolean },
  ): Promise<TagOutcome> {
    return this.db.transaction((): TagOutcome => {
      if (this.statements.isManifest.get(imageId, digest) === undefined) return 'no-manifest';
      const current = this.statements.tagDigest.get(imageId, tag) as string | undefined;
      if (current === digest) return 'unchanged';
      if (current !== undefined && options.keepExisting) return 'kept';
      this.statements.upsertTag.run(imageId, tag, digest, at.getTime());
      return current === undefined ? 'created' : 'moved';
    })();
  }

  async deleteManifest(
    imageId: number,
    digest: string,
    options: { keepTagged: boolean },
  ): Promise<DeleteOutcome> {
    return this.db.transaction((): DeleteOutcome => {
      if (this.statements.isManifest.get(imageId, digest) === undefined) return 'missing';
      if (options.keepTagged && this.statements.tagsOf.all(imageId, digest).length > 0) return 'tagged';
      this.statements.deleteManifest.run(imageId, digest);
      return 'deleted';
    })();
  }

  async delete(imageId: number, options: { keepTagged: boolean }): Promise<DeleteOutcome> {
    return this.db.transaction((): DeleteOutcome => {
      if (options.keepTagged && this.statements.isTagged.get(imageId) !== undefined) return 'tagged';
      return this.statements.deleteImage.run(imageId).changes > 0 ? 'deleted' : 'missing';
    })();
  }
}
