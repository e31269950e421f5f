import type { Statement } from 'better-sqlite3';
import type { Page } from '../metadata.js';
import type {
  DeleteOutcome,
  ImageStats,
  ImageStore,
  ImageSummary,
  PushTimeQuery,
  TaggedManifest,
  TagOutcome,
  TagRecord,
} from '../resources.js';
import {
  type ImageRow,
  type StatsRow,
  type TaggedManifestRow,
  type TagRow,
  tagFilters,
  toImage,
  toStats,
  toTag,
  toTaggedManifest,
} from '../rows/images.js';
import { manifestColumns, page } from '../rows/manifests.js';
import type { SqliteDatabase } from './database.js';

/** One statement per order and tag filter, each walking the push-time index from a keyset position. */
function pushTimeStatements(db: SqliteDatabase) {
  const statements = new Map<string, Statement<unknown[]>>();
  for (const newestFirst of [true, false]) {
    const direction = newestFirst ? 'DESC' : 'ASC';
    const beyond = newestFirst ? '<' : '>';
    for (const tags of Object.keys(tagFilters) as (keyof typeof tagFilters)[]) {
      statements.set(
        `${newestFirst}/${tags}`,
        db.prepare(
          `SELECT ${taggedManifestColumns} FROM manifests m WHERE m.image_id = ?
           AND (m.created_at, m.digest) ${beyond} (?, ?) ${tagFilters[tags]}
           ORDER BY m.created_at ${direction}, m.digest ${direction} LIMIT ?`,
        ),
      );
    }
  }
  return statements;
}

const imageColumns = `i.id, i.name, i.created_at, max(i.created_at,
  coalesce((SELECT max(created_at) FROM manifests WHERE image_id = i.id), 0),
  coalesce((SELECT max(updated_at) FROM tags WHERE image_id = i.id), 0)) AS updated_at`;

const taggedManifestColumns = `${manifestColumns}, (SELECT json_group_array(name) FROM
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
      byPushTime: pushTimeStatements(db),
      stats: db.prepare(
        `SELECT ${imageColumns},
           (SELECT count(*) FROM manifests WHERE image_id = i.id) AS digests,
           (SELECT count(*) FROM tags WHERE image_id = i.id) AS tags,
           (SELECT name FROM tags WHERE image_id = i.id ORDER BY updated_at DESC, name LIMIT 1) AS latest_tag,
           (SELECT digest FROM manifests WHERE image_id = i.id AND subject_digest IS NULL
              ORDER BY created_at DESC, digest DESC LIMIT 1)
             AS latest_digest
         FROM images i WHERE i.project_id = ? AND i.repository_id = ? ORDER BY i.name`,
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
      isReferenced: db
        .prepare('SELECT 1 FROM manifest_references WHERE image_id = ? AND digest = ? LIMIT 1')
        .pluck(),
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

  async manifestsByPushTime(imageId: number, query: PushTimeQuery): Promise<Page<TaggedManifest>> {
    const statement = this.statements.byPushTime.get(`${query.newestFirst}/${query.tags}`);
    if (!statement) throw new Error(`no statement for ${query.newestFirst}/${query.tags}`);
    // Without a position, start beyond every row: after the largest time, or before the smallest.
    const [time, digest] = query.after
      ? [query.after.createdAt.getTime(), query.after.digest]
      : query.newestFirst
        ? [Number.MAX_SAFE_INTEGER, '']
        : [-1, ''];
    const rows = statement.all(imageId, time, digest, query.limit + 1) as TaggedManifestRow[];
    return page(rows.map(toTaggedManifest), query.limit);
  }

  async stats(project: string, repository: string): Promise<ImageStats[]> {
    return (this.statements.stats.all(project, repository) as StatsRow[]).map(toStats);
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
      if (this.statements.isReferenced.get(imageId, digest) !== undefined) return 'referenced';
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
