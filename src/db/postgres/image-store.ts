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
import { type PostgresDatabase, type Statement, sql } from './database.js';

const imageColumns = `i.id, i.name, i.created_at, greatest(i.created_at,
  coalesce((SELECT max(created_at) FROM manifests WHERE image_id = i.id), 0),
  coalesce((SELECT max(updated_at) FROM tags WHERE image_id = i.id), 0)) AS updated_at`;

const taggedManifestColumns = `${manifestColumns}, ARRAY(SELECT t.name FROM tags t
    WHERE t.image_id = m.image_id AND t.digest = m.digest ORDER BY t.name) AS tags`;

/** One statement per order and tag filter, each walking the push-time index from a keyset position. */
function pushTimeStatements(): Map<string, Statement> {
  const statements = new Map<string, Statement>();
  for (const newestFirst of [true, false]) {
    const direction = newestFirst ? 'DESC' : 'ASC';
    const beyond = newestFirst ? '<' : '>';
    for (const tags of Object.keys(tagFilters) as (keyof typeof tagFilters)[]) {
      statements.set(
        `${newestFirst}/${tags}`,
        sql(
          `SELECT ${taggedManifestColumns} FROM manifests m WHERE m.image_id = @imageId
           AND (m.created_at, m.digest) ${beyond} (@time, @digest) ${tagFilters[tags]}
           ORDER BY m.created_at ${direction}, m.digest ${direction} LIMIT @limit`,
        ),
      );
    }
  }
  return statements;
}

const statements = {
  // Names of one repository share the prefix `PROJECT/REPOSITORY/`; `0` sorts right after `/`.
  list: sql(
    `SELECT ${imageColumns} FROM images i WHERE i.name > @lower AND i.name < @upper
     AND i.project_id = @project AND i.repository_id = @repository ORDER BY i.name LIMIT @limit`,
  ),
  find: sql(`SELECT ${imageColumns} FROM images i WHERE i.name = @name`),
  manifests: sql(
    `SELECT ${taggedManifestColumns} FROM manifests m WHERE m.image_id = @imageId AND m.digest > @after
     ORDER BY m.digest LIMIT @limit`,
  ),
  byPushTime: pushTimeStatements(),
  stats: sql(
    `SELECT ${imageColumns},
       (SELECT count(*) FROM manifests WHERE image_id = i.id) AS digests,
       (SELECT count(*) FROM tags WHERE image_id = i.id) AS tags,
       (SELECT name FROM tags WHERE image_id = i.id ORDER BY updated_at DESC, name LIMIT 1) AS latest_tag,
       (SELECT digest FROM manifests WHERE image_id = i.id AND subject_digest IS NULL
          ORDER BY created_at DESC, digest DESC LIMIT 1) AS latest_digest
     FROM images i WHERE i.project_id = @project AND i.repository_id = @repository ORDER BY i.name`,
  ),
  allManifests: sql(
    `SELECT ${taggedManifestColumns} FROM manifests m WHERE m.image_id = @imageId ORDER BY m.digest`,
  ),
  tags: sql(
    `SELECT name, digest, updated_at FROM tags WHERE image_id = @imageId AND name > @after
     ORDER BY name LIMIT @limit`,
  ),
  findTag: sql('SELECT name, digest, updated_at FROM tags WHERE image_id = @imageId AND name = @tag'),
  tagsOf: sql('SELECT name FROM tags WHERE image_id = @imageId AND digest = @digest ORDER BY name'),
  tagDigest: sql('SELECT digest FROM tags WHERE image_id = @imageId AND name = @tag'),
  isManifest: sql('SELECT 1 AS found FROM manifests WHERE image_id = @imageId AND digest = @digest'),
  isReferenced: sql(
    'SELECT 1 AS found FROM manifest_references WHERE image_id = @imageId AND digest = @digest LIMIT 1',
  ),
  upsertTag: sql(
    `INSERT INTO tags (image_id, name, digest, updated_at) VALUES (@imageId, @tag, @digest, @at)
     ON CONFLICT (image_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
  ),
  isTagged: sql('SELECT 1 AS found FROM tags WHERE image_id = @imageId LIMIT 1'),
  deleteManifest: sql('DELETE FROM manifests WHERE image_id = @imageId AND digest = @digest'),
  deleteImage: sql('DELETE FROM images WHERE id = @imageId'),
};

export class PostgresImageStore implements ImageStore {
  constructor(private readonly db: PostgresDatabase) {}

  async list(
    project: string,
    repository: string,
    after: string | undefined,
    limit: number,
  ): Promise<Page<ImageSummary>> {
    const prefix = `${project}/${repository}/`;
    const rows = await this.db.rows<ImageRow>(statements.list, {
      lower: after !== undefined && after > prefix ? after : prefix,
      upper: `${project}/${repository}0`,
      project,
      repository,
      limit: limit + 1,
    });
    return page(rows.map(toImage), limit);
  }

  async find(name: string): Promise<ImageSummary | undefined> {
    const row = await this.db.row<ImageRow>(statements.find, { name });
    return row && toImage(row);
  }

  async manifests(imageId: number, after: string | undefined, limit: number): Promise<Page<TaggedManifest>> {
    const rows = await this.db.rows<TaggedManifestRow>(statements.manifests, {
      imageId,
      after: after ?? '',
      limit: limit + 1,
    });
    return page(rows.map(toTaggedManifest), limit);
  }

  async manifestsByPushTime(imageId: number, query: PushTimeQuery): Promise<Page<TaggedManifest>> {
    const statement = statements.byPushTime.get(`${query.newestFirst}/${query.tags}`);
    if (!statement) throw new Error(`no statement for ${query.newestFirst}/${query.tags}`);
    // Without a position, start beyond every row: after the largest time, or before the smallest.
    const [time, digest] = query.after
      ? [query.after.createdAt.getTime(), query.after.digest]
      : query.newestFirst
        ? [Number.MAX_SAFE_INTEGER, '']
        : [-1, ''];
    const rows = await this.db.rows<TaggedManifestRow>(statement, {
      imageId,
      time,
      digest,
      limit: query.limit + 1,
    });
    return page(rows.map(toTaggedManifest), query.limit);
  }

  async stats(project: string, repository: string): Promise<ImageStats[]> {
    const rows = await this.db.rows<StatsRow>(statements.stats, { project, repository });
    return rows.map(toStats);
  }

  async allManifests(imageId: number): Promise<TaggedManifest[]> {
    return (await this.db.rows<TaggedManifestRow>(statements.allManifests, { imageId })).map(
      toTaggedManifest,
    );
  }

  async tags(imageId: number, after: string | undefined, limit: number): Promise<Page<TagRecord>> {
    const rows = await this.db.rows<TagRow>(statements.tags, {
      imageId,
      after: after ?? '',
      limit: limit + 1,
    });
    return page(rows.map(toTag), limit);
  }

  async findTag(imageId: number, tag: string): Promise<TagRecord | undefined> {
    const row = await this.db.row<TagRow>(statements.findTag, { imageId, tag });
    return row && toTag(row);
  }

  async tagsOf(imageId: number, digest: string): Promise<string[]> {
    return (await this.db.rows<{ name: string }>(statements.tagsOf, { imageId, digest })).map((r) => r.name);
  }

  async setTag(
    imageId: number,
    tag: string,
    digest: string,
    at: Date,
    options: { keepExisting: boolean },
  ): Promise<TagOutcome> {
    return this.db.transaction(async (tx): Promise<TagOutcome> => {
      if ((await tx.row(statements.isManifest, { imageId, digest })) === undefined) return 'no-manifest';
      const current = (await tx.row<{ digest: string }>(statements.tagDigest, { imageId, tag }))?.digest;
      if (current === digest) return 'unchanged';
      if (current !== undefined && options.keepExisting) return 'kept';
      await tx.run(statements.upsertTag, { imageId, tag, digest, at: at.getTime() });
      return current === undefined ? 'created' : 'moved';
    });
  }

  async deleteManifest(
    imageId: number,
    digest: string,
    options: { keepTagged: boolean },
  ): Promise<DeleteOutcome> {
    return this.db.transaction(async (tx): Promise<DeleteOutcome> => {
      if ((await tx.row(statements.isManifest, { imageId, digest })) === undefined) return 'missing';
      if ((await tx.row(statements.isReferenced, { imageId, digest })) !== undefined) return 'referenced';
      if (options.keepTagged && (await tx.rows(statements.tagsOf, { imageId, digest })).length > 0)
        return 'tagged';
      await tx.run(statements.deleteManifest, { imageId, digest });
      return 'deleted';
    });
  }

  async delete(imageId: number, options: { keepTagged: boolean }): Promise<DeleteOutcome> {
    return this.db.transaction(async (tx): Promise<DeleteOutcome> => {
      if (options.keepTagged && (await tx.row(statements.isTagged, { imageId })) !== undefined)
        return 'tagged';
      return (await tx.run(statements.deleteImage, { imageId })) > 0 ? 'deleted' : 'missing';
    });
  }
}
