import type {
  CatalogStore,
  ContentStore,
  ImageRecord,
  LinkOutcome,
  ManifestRecord,
  MountOutcome,
  NewManifest,
  Page,
  PutManifestOptions,
  PutManifestOutcome,
  UploadSession,
  UploadStore,
} from '../metadata.js';
import { type ManifestRow, manifestColumns, page, toManifest } from '../rows/manifests.js';
import { claimBlob } from './blob-rows.js';
import { type PostgresDatabase, type Queryable, sql } from './database.js';
import { checkQuota } from './usage-store.js';

interface ImageRow {
  id: number;
  name: string;
  touched_at: number;
}

const toImageRecord = (row: ImageRow): ImageRecord => ({
  id: row.id,
  name: row.name,
  touchedAt: new Date(row.touched_at),
});

const catalog = {
  projectOrganization: sql(
    'SELECT organization_id FROM projects WHERE id = @project',
    'catalog.organization',
  ),
  repositoryScanning: sql(
    'SELECT scanning FROM repositories WHERE project_id = @project AND id = @repository',
    'catalog.repository',
  ),
  insertProject: sql(
    `INSERT INTO projects (id, organization_id, created_at, updated_at) VALUES (@project, 'default', @at, @at)
     ON CONFLICT DO NOTHING`,
  ),
  insertRepository: sql(
    `INSERT INTO repositories (project_id, id, created_at, updated_at) VALUES (@project, @repository, @at, @at)
     ON CONFLICT DO NOTHING`,
  ),
  findImage: sql('SELECT id, name, touched_at FROM images WHERE name = @name', 'catalog.findImage'),
  touchImage: sql(
    'UPDATE images SET touched_at = @at WHERE id = @id AND touched_at < @at',
    'catalog.touchImage',
  ),
  insertImage: sql(
    `INSERT INTO images (project_id, repository_id, name, created_at, touched_at)
     VALUES (@project, @repository, @name, @at, @at) ON CONFLICT (name) DO NOTHING`,
    'catalog.insertImage',
  ),
  // An image shows in the catalog once it holds a manifest, not when a push merely started.
  listImages: sql(
    `SELECT name FROM images i WHERE name > @after
     AND EXISTS (SELECT 1 FROM manifests m WHERE m.image_id = i.id) ORDER BY name LIMIT @limit`,
  ),
};

export class PostgresCatalogStore implements CatalogStore {
  constructor(private readonly db: PostgresDatabase) {}

  async projectOrganization(project: string): Promise<string | undefined> {
    return (await this.db.row<{ organization_id: string }>(catalog.projectOrganization, { project }))
      ?.organization_id;
  }

  async repositoryExists(project: string, repository: string): Promise<boolean> {
    return (await this.db.row(catalog.repositoryScanning, { project, repository })) !== undefined;
  }

  async repositoryScanning(project: string, repository: string): Promise<boolean> {
    return (
      (await this.db.row<{ scanning: boolean }>(catalog.repositoryScanning, { project, repository }))
        ?.scanning === true
    );
  }

  async ensureRepository(project: string, repository: string, at: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(catalog.insertProject, { project, at: at.getTime() });
      await tx.run(catalog.insertRepository, { project, repository, at: at.getTime() });
    });
  }

  async findImage(name: string): Promise<ImageRecord | undefined> {
    const row = await this.db.row<ImageRow>(catalog.findImage, { name });
    return row && toImageRecord(row);
  }

  async ensureImage(project: string, repository: string, name: string, at: Date): Promise<ImageRecord> {
    return this.db.transaction(async (tx) => {
      await tx.run(catalog.insertImage, { project, repository, name, at: at.getTime() });
      return toImageRecord((await tx.row<ImageRow>(catalog.findImage, { name })) as ImageRow);
    });
  }

  async touchImage(imageId: number, at: Date): Promise<void> {
    await this.db.run(catalog.touchImage, { id: imageId, at: at.getTime() });
  }

  async listImages(after: string | undefined, limit: number): Promise<Page<string>> {
    const rows = await this.db.rows<{ name: string }>(catalog.listImages, {
      after: after ?? '',
      limit: limit + 1,
    });
    return page(
      rows.map((row) => row.name),
      limit,
    );
  }
}

const content = {
  isBlobLinked: sql(
    'SELECT 1 AS linked FROM image_blobs WHERE image_id = @imageId AND digest = @digest',
    'content.isBlobLinked',
  ),
  missingBlobs: sql(
    `SELECT d.digest FROM unnest(@digests::text[]) WITH ORDINALITY AS d(digest, position)
     WHERE NOT EXISTS (SELECT 1 FROM image_blobs b WHERE b.image_id = @imageId AND b.digest = d.digest)
     ORDER BY d.position`,
    'content.missingBlobs',
  ),
  promisedAt: sql(
    'SELECT promised_at FROM image_blobs WHERE image_id = @imageId AND digest = @digest',
    'content.promisedAt',
  ),
  // A promise only moves forward: two instances recording at once keep the later time.
  linkBlob: sql(
    `INSERT INTO image_blobs (image_id, digest, size, created_at, promised_at)
     VALUES (@imageId, @digest, @size, @at, @at)
     ON CONFLICT (image_id, digest) DO UPDATE SET
       promised_at = greatest(image_blobs.promised_at, excluded.promised_at),
       size = coalesce(image_blobs.size, excluded.size)`,
    'content.linkBlob',
  ),
  renewPromise: sql(
    `UPDATE image_blobs SET promised_at = greatest(promised_at, @at)
     WHERE image_id = @imageId AND digest = @digest`,
    'content.renewPromise',
  ),
  imageExists: sql('SELECT 1 AS found FROM images WHERE id = @imageId', 'content.imageExists'),
  imageProject: sql('SELECT project_id FROM images WHERE id = @imageId', 'content.imageProject'),
  unlinkBlob: sql(
    `DELETE FROM image_blobs WHERE image_id = @imageId AND digest = @digest AND NOT EXISTS
       (SELECT 1 FROM manifest_references WHERE image_id = @imageId AND digest = @digest)`,
  ),
  manifestsReferencing: sql(
    `SELECT manifest_digest FROM manifest_references WHERE image_id = @imageId AND digest = @digest
     ORDER BY manifest_digest LIMIT @limit`,
  ),
  manifestByDigest: sql(
    `SELECT ${manifestColumns} FROM images i JOIN manifests m ON m.image_id = i.id
     WHERE i.name = @name AND m.digest = @digest`,
    'content.manifestByDigest',
  ),
  manifestByTag: sql(
    `SELECT ${manifestColumns} FROM images i JOIN tags t ON t.image_id = i.id
     JOIN manifests m ON m.image_id = t.image_id AND m.digest = t.digest WHERE i.name = @name AND t.name = @tag`,
    'content.manifestByTag',
  ),
  missingManifests: sql(
    `SELECT d.digest FROM unnest(@digests::text[]) WITH ORDINALITY AS d(digest, position)
     WHERE NOT EXISTS (SELECT 1 FROM manifests m WHERE m.image_id = @imageId AND m.digest = d.digest)
     ORDER BY d.position`,
    'content.missingManifests',
  ),
  // Neither a linked blob nor a manifest of the image: what a new manifest may not reference.
  missingReferences: sql(
    `SELECT d.digest FROM unnest(@digests::text[]) WITH ORDINALITY AS d(digest, position)
     WHERE NOT EXISTS (SELECT 1 FROM image_blobs b WHERE b.image_id = @imageId AND b.digest = d.digest)
       AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.image_id = @imageId AND m.digest = d.digest)
     ORDER BY d.position`,
    'content.missingReferences',
  ),
  insertManifest: sql(
    `INSERT INTO manifests (image_id, digest, media_type, size, artifact_type, annotations, subject_digest, created_at)
     VALUES (@imageId, @digest, @mediaType, @size, @artifactType, @annotations, @subjectDigest, @at)
     ON CONFLICT (image_id, digest) DO NOTHING`,
    'content.insertManifest',
  ),
  insertReferences: sql(
    `INSERT INTO manifest_references (image_id, manifest_digest, digest)
     SELECT @imageId, @manifestDigest, unnest(@digests::text[]) ON CONFLICT DO NOTHING`,
    'content.insertReferences',
  ),
  tagDigest: sql('SELECT digest FROM tags WHERE image_id = @imageId AND name = @tag', 'content.tagDigest'),
  upsertTag: sql(
    `INSERT INTO tags (image_id, name, digest, updated_at) VALUES (@imageId, @tag, @digest, @at)
     ON CONFLICT (image_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
    'content.upsertTag',
  ),
  deleteTag: sql('DELETE FROM tags WHERE image_id = @imageId AND name = @tag'),
  listTags: sql(
    'SELECT name FROM tags WHERE image_id = @imageId AND name > @after ORDER BY name LIMIT @limit',
    'content.listTags',
  ),
  referrers: sql(
    `SELECT ${manifestColumns} FROM manifests m WHERE m.image_id = @imageId AND m.subject_digest = @digest
     ORDER BY m.created_at, m.digest`,
    'content.referrers',
  ),
};

export class PostgresContentStore implements ContentStore {
  constructor(private readonly db: PostgresDatabase) {}

  /**
   * Links and manifest stores all update their project's usage counter: queued per project, they
   * wait for each other instead of aborting each other (pushes to different projects run at once).
   */
  private async inProjectQueue<T>(imageId: number, work: (tx: Queryable) => Promise<T>): Promise<T> {
    const row = await this.db.row<{ project_id: string }>(content.imageProject, { imageId });
    return this.db.transaction(work, row ? { queueOn: `project-usage:${row.project_id}` } : {});
  }

  async isBlobLinked(imageId: number, digest: string): Promise<boolean> {
    return (await this.db.row(content.isBlobLinked, { imageId, digest })) !== undefined;
  }

  async missingBlobs(imageId: number, digests: readonly string[]): Promise<string[]> {
    const rows = await this.db.rows<{ digest: string }>(content.missingBlobs, {
      imageId,
      digests: [...new Set(digests)],
    });
    return rows.map((row) => row.digest);
  }

  // Each checks, in the transaction that links: the image (a delete may have removed it since the
  // caller looked it up), the project's quota, and the collector's state of the blob.
  async linkBlob(imageId: number, digest: string, size: number, at: Date): Promise<LinkOutcome> {
    return this.inProjectQueue(imageId, async (tx): Promise<LinkOutcome> => {
      if ((await tx.row(content.imageExists, { imageId })) === undefined) return 'no-image';
      const exceeded = await checkQuota(tx, imageId, digest, size);
      if (exceeded) return exceeded;
      if (!(await claimBlob(tx, digest, size, at))) return 'deleting';
      await tx.run(content.linkBlob, { imageId, digest, size, at: at.getTime() });
      return 'linked';
    });
  }

  async mountBlob(
    fromImageId: number,
    imageId: number,
    digest: string,
    size: number,
    at: Date,
  ): Promise<MountOutcome> {
    // While the source holds the blob it cannot be marked for deletion, so checking it here suffices.
    return this.inProjectQueue(imageId, async (tx): Promise<MountOutcome> => {
      if ((await tx.row(content.isBlobLinked, { imageId: fromImageId, digest })) === undefined)
        return 'not-held';
      if ((await tx.row(content.imageExists, { imageId })) === undefined) return 'no-image';
      const exceeded = await checkQuota(tx, imageId, digest, size);
      if (exceeded) return exceeded;
      await tx.run(content.linkBlob, { imageId, digest, size, at: at.getTime() });
      return 'mounted';
    });
  }

  async confirmBlob(imageId: number, digest: string, at: Date, refreshAfter: Date): Promise<boolean> {
    const row = await this.db.row<{ promised_at: number }>(content.promisedAt, { imageId, digest });
    if (row === undefined) return false;
    if (row.promised_at >= refreshAfter.getTime()) return true;
    // The update itself tells whether the link is still there: the collector may have expired it
    // since the read, and then the blob must not be announced.
    return (await this.db.run(content.renewPromise, { imageId, digest, at: at.getTime() })) > 0;
  }

  async unlinkBlob(imageId: number, digest: string): Promise<'unlinked' | 'unknown' | 'referenced'> {
    if ((await this.db.run(content.unlinkBlob, { imageId, digest })) > 0) return 'unlinked';
    return (await this.isBlobLinked(imageId, digest)) ? 'referenced' : 'unknown';
  }

  async manifestsReferencing(imageId: number, digest: string, limit: number): Promise<string[]> {
    const rows = await this.db.rows<{ manifest_digest: string }>(content.manifestsReferencing, {
      imageId,
      digest,
      limit,
    });
    return rows.map((row) => row.manifest_digest);
  }

  async findManifest(
    imageName: string,
    reference: { digest: string } | { tag: string },
  ): Promise<ManifestRecord | undefined> {
    const row =
      'digest' in reference
        ? await this.db.row<ManifestRow>(content.manifestByDigest, {
            name: imageName,
            digest: reference.digest,
          })
        : await this.db.row<ManifestRow>(content.manifestByTag, { name: imageName, tag: reference.tag });
    return row && toManifest(row);
  }

  async missingManifests(imageId: number, digests: readonly string[]): Promise<string[]> {
    const rows = await this.db.rows<{ digest: string }>(content.missingManifests, {
      imageId,
      digests: [...new Set(digests)],
    });
    return rows.map((row) => row.digest);
  }

  async putManifest(
    imageId: number,
    manifest: NewManifest,
    tag: string | undefined,
    at: Date,
    options: PutManifestOptions = {},
  ): Promise<PutManifestOutcome> {
    const references = [...new Set(manifest.references)];
    return this.inProjectQueue(imageId, async (tx): Promise<PutManifestOutcome> => {
      if ((await tx.row(content.imageExists, { imageId })) === undefined) return { outcome: 'no-image' };
      // Checked again here: a blob or manifest deleted since the caller's check must not be referenced.
      const missing = await tx.rows<{ digest: string }>(content.missingReferences, {
        imageId,
        digests: references,
      });
      if (missing.length > 0 && !options.referencesFetchedLater)
        return { outcome: 'missing', digests: missing.map((row) => row.digest) };
      if (tag !== undefined && options.keepExistingTag) {
        const current = await tx.row<{ digest: string }>(content.tagDigest, { imageId, tag });
        if (current !== undefined && current.digest !== manifest.digest) return { outcome: 'tag-kept' };
      }
      const exceeded = await checkQuota(tx, imageId, manifest.digest, manifest.size);
      if (exceeded) return exceeded;
      // The manifest's own bytes are a stored file too: the collector must not be removing them.
      if (!(await claimBlob(tx, manifest.digest, manifest.size, at))) return { outcome: 'deleting' };
      await tx.run(content.insertManifest, {
        imageId,
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        size: manifest.size,
        artifactType: manifest.artifactType ?? null,
        annotations: manifest.annotations ? JSON.stringify(manifest.annotations) : null,
        subjectDigest: manifest.subjectDigest ?? null,
        at: at.getTime(),
      });
      if (references.length > 0) {
        await tx.run(content.insertReferences, {
          imageId,
          manifestDigest: manifest.digest,
          digests: references,
        });
      }
      if (tag !== undefined) {
        await tx.run(content.upsertTag, { imageId, tag, digest: manifest.digest, at: at.getTime() });
      }
      return { outcome: 'stored' };
    });
  }

  async deleteTag(imageId: number, tag: string): Promise<boolean> {
    return (await this.db.run(content.deleteTag, { imageId, tag })) > 0;
  }

  async listTags(imageId: number, after: string | undefined, limit: number): Promise<Page<string>> {
    const rows = await this.db.rows<{ name: string }>(content.listTags, {
      imageId,
      after: after ?? '',
      limit: limit + 1,
    });
    return page(
      rows.map((row) => row.name),
      limit,
    );
  }

  async listReferrers(
    imageId: number,
    digest: string,
    artifactType: string | undefined,
  ): Promise<ManifestRecord[]> {
    const rows = await this.db.rows<ManifestRow>(content.referrers, { imageId, digest });
    return rows.map(toManifest).filter((m) => artifactType === undefined || m.artifactType === artifactType);
  }
}

const uploads = {
  // Conditional on the image: a delete may have removed it since the caller looked it up.
  insert: sql(
    `INSERT INTO upload_sessions (id, image_id, created_at)
     SELECT @id, @imageId, @createdAt WHERE EXISTS (SELECT 1 FROM images WHERE id = @imageId)`,
    'uploads.insert',
  ),
  find: sql(
    `SELECT u.id, u.image_id AS "imageId", i.name AS "imageName", u.created_at AS "createdAt"
     FROM upload_sessions u JOIN images i ON i.id = u.image_id WHERE u.id = @id`,
    'uploads.find',
  ),
  delete: sql('DELETE FROM upload_sessions WHERE id = @id', 'uploads.delete'),
  createdBefore: sql('SELECT id FROM upload_sessions WHERE created_at < @before'),
};

export class PostgresUploadStore implements UploadStore {
  constructor(private readonly db: PostgresDatabase) {}

  async create(session: UploadSession): Promise<boolean> {
    const { id, imageId, createdAt } = session;
    return (await this.db.run(uploads.insert, { id, imageId, createdAt: createdAt.getTime() })) > 0;
  }

  async find(id: string): Promise<UploadSession | undefined> {
    const row = await this.db.row<Omit<UploadSession, 'createdAt'> & { createdAt: number }>(uploads.find, {
      id,
    });
    return row && { ...row, createdAt: new Date(row.createdAt) };
  }

  async delete(id: string): Promise<void> {
    await this.db.run(uploads.delete, { id });
  }

  async createdBefore(before: Date): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(uploads.createdBefore, { before: before.getTime() });
    return rows.map((row) => row.id);
  }
}
