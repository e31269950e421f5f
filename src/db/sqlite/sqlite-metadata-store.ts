import type { AuditStore } from '../audit.js';
import type { CleanupStore } from '../cleanup.js';
import type { IamStore, RevocationStore, ServiceAccountStore, UserStore } from '../identity.js';
import type { LifecycleStore } from '../lifecycle.js';
import type {
  CatalogStore,
  ContentStore,
  ImageRecord,
  LinkOutcome,
  ManifestRecord,
  MetadataStore,
  MountOutcome,
  NewManifest,
  Page,
  PutManifestOptions,
  PutManifestOutcome,
  UploadSession,
  UploadStore,
} from '../metadata.js';
import type { OAuthStore } from '../oauth.js';
import type { RemoteStore } from '../remotes.js';
import type { ImageStore, OrganizationStore, ProjectStore, RepositoryStore } from '../resources.js';
import type { ScanStore } from '../scans.js';
import type { UsageStore } from '../usage.js';
import type { WebhookStore } from '../webhooks.js';
import { SqliteAuditStore } from './audit-store.js';
import { BlobRows } from './blob-rows.js';
import { SqliteCleanupStore } from './cleanup-store.js';
import { openSqlite, type SqliteDatabase } from './database.js';
import {
  SqliteIamStore,
  SqliteRevocationStore,
  SqliteServiceAccountStore,
  SqliteUserStore,
} from './identity-stores.js';
import { SqliteImageStore } from './image-store.js';
import { SqliteLifecycleStore } from './lifecycle-store.js';
import { SqliteOAuthStore } from './oauth-store.js';
import { SqliteRemoteStore } from './remote-store.js';
import { SqliteOrganizationStore, SqliteProjectStore, SqliteRepositoryStore } from './resource-stores.js';
import { type ManifestRow, manifestColumns, page, toManifest } from './rows.js';
import { SqliteScanStore } from './sqlite-scan-store.js';
import { SqliteQuotaGuard, SqliteUsageStore } from './usage-store.js';
import { SqliteWebhookStore } from './webhook-store.js';

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

class SqliteCatalogStore implements CatalogStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      projectOrganization: db.prepare('SELECT organization_id FROM projects WHERE id = ?').pluck(),
      repositoryExists: db.prepare('SELECT 1 FROM repositories WHERE project_id = ? AND id = ?').pluck(),
      repositoryScanning: db
        .prepare('SELECT scanning FROM repositories WHERE project_id = ? AND id = ?')
        .pluck(),
      insertProject: db.prepare(
        "INSERT OR IGNORE INTO projects (id, organization_id, created_at, updated_at) VALUES (?, 'default', ?, ?)",
      ),
      insertRepository: db.prepare(
        'INSERT OR IGNORE INTO repositories (project_id, id, created_at, updated_at) VALUES (?, ?, ?, ?)',
      ),
      findImage: db.prepare('SELECT id, name, touched_at FROM images WHERE name = ?'),
      touchImage: db.prepare('UPDATE images SET touched_at = @at WHERE id = @id AND touched_at < @at'),
      insertImage: db.prepare(
        'INSERT INTO images (project_id, repository_id, name, created_at, touched_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
      ),
      // An image shows in the catalog once it holds a manifest, not when a push merely started.
      listImages: db
        .prepare(
          `SELECT name FROM images i WHERE name > ?
           AND EXISTS (SELECT 1 FROM manifests m WHERE m.image_id = i.id) ORDER BY name LIMIT ?`,
        )
        .pluck(),
    };
  }

  async projectOrganization(project: string): Promise<string | undefined> {
    return this.statements.projectOrganization.get(project) as string | undefined;
  }

  async repositoryExists(project: string, repository: string): Promise<boolean> {
    return this.statements.repositoryExists.get(project, repository) !== undefined;
  }

  async repositoryScanning(project: string, repository: string): Promise<boolean> {
    return this.statements.repositoryScanning.get(project, repository) === 1;
  }

  async ensureRepository(project: string, repository: string, at: Date): Promise<void> {
    this.db.transaction(() => {
      this.statements.insertProject.run(project, at.getTime(), at.getTime());
      this.statements.insertRepository.run(project, repository, at.getTime(), at.getTime());
    })();
  }

  async findImage(name: string): Promise<ImageRecord | undefined> {
    const row = this.statements.findImage.get(name) as ImageRow | undefined;
    return row && toImageRecord(row);
  }

  async ensureImage(project: string, repository: string, name: string, at: Date): Promise<ImageRecord> {
    this.statements.insertImage.run(project, repository, name, at.getTime(), at.getTime());
    return toImageRecord(this.statements.findImage.get(name) as ImageRow);
  }

  async touchImage(imageId: number, at: Date): Promise<void> {
    this.statements.touchImage.run({ id: imageId, at: at.getTime() });
  }

  async listImages(after: string | undefined, limit: number): Promise<Page<string>> {
    return page(this.statements.listImages.all(after ?? '', limit + 1) as string[], limit);
  }
}

class SqliteContentStore implements ContentStore {
  private readonly statements;
  private readonly blobRows;
  private readonly quota: SqliteQuotaGuard;

  constructor(private readonly db: SqliteDatabase) {
    this.blobRows = new BlobRows(db);
    this.quota = new SqliteQuotaGuard(db);
    this.statements = {
      isBlobLinked: db.prepare('SELECT 1 FROM image_blobs WHERE image_id = ? AND digest = ?').pluck(),
      promisedAt: db.prepare('SELECT promised_at FROM image_blobs WHERE image_id = ? AND digest = ?').pluck(),
      // A promise only moves forward: two instances recording at once keep the later time.
      linkBlob: db.prepare(
        `INSERT INTO image_blobs (image_id, digest, size, created_at, promised_at)
         VALUES (@imageId, @digest, @size, @at, @at)
         ON CONFLICT (image_id, digest) DO UPDATE SET
           promised_at = max(promised_at, excluded.promised_at), size = coalesce(size, excluded.size)`,
      ),
      renewPromise: db.prepare(
        'UPDATE image_blobs SET promised_at = max(promised_at, @at) WHERE image_id = @imageId AND digest = @digest',
      ),
      imageExists: db.prepare('SELECT 1 FROM images WHERE id = ?').pluck(),
      unlinkBlob: db.prepare(
        `DELETE FROM image_blobs WHERE image_id = @imageId AND digest = @digest AND NOT EXISTS
           (SELECT 1 FROM manifest_references WHERE image_id = @imageId AND digest = @digest)`,
      ),
      manifestsReferencing: db
        .prepare(
          'SELECT manifest_digest FROM manifest_references WHERE image_id = ? AND digest = ? ORDER BY manifest_digest LIMIT ?',
        )
        .pluck(),
      manifestByDigest: db.prepare(
        `SELECT ${manifestColumns} FROM images i JOIN manifests m ON m.image_id = i.id WHERE i.name = ? AND m.digest = ?`,
      ),
      manifestByTag: db.prepare(
        `SELECT ${manifestColumns} FROM images i JOIN tags t ON t.image_id = i.id
         JOIN manifests m ON m.image_id = t.image_id AND m.digest = t.digest WHERE i.name = ? AND t.name = ?`,
      ),
      isManifest: db.prepare('SELECT 1 FROM manifests WHERE image_id = ? AND digest = ?').pluck(),
      insertManifest: db.prepare(
        `INSERT INTO manifests (image_id, digest, media_type, size, artifact_type, annotations, subject_digest, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (image_id, digest) DO NOTHING`,
      ),
      insertReference: db.prepare(
        'INSERT OR IGNORE INTO manifest_references (image_id, manifest_digest, digest) VALUES (?, ?, ?)',
      ),
      tagDigest: db.prepare('SELECT digest FROM tags WHERE image_id = ? AND name = ?').pluck(),
      upsertTag: db.prepare(
        `INSERT INTO tags (image_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (image_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at`,
      ),
      deleteTag: db.prepare('DELETE FROM tags WHERE image_id = ? AND name = ?'),
      listTags: db
        .prepare('SELECT name FROM tags WHERE image_id = ? AND name > ? ORDER BY name LIMIT ?')
        .pluck(),
      referrers:
        db.prepare(`SELECT ${manifestColumns} FROM manifests m WHERE m.image_id = ? AND m.subject_digest = ?
         ORDER BY m.created_at, m.digest`),
    };
  }

  async isBlobLinked(imageId: number, digest: string): Promise<boolean> {
    return this.statements.isBlobLinked.get(imageId, digest) !== undefined;
  }

  async missingBlobs(imageId: number, digests: readonly string[]): Promise<string[]> {
    return [...new Set(digests)].filter(
      (digest) => this.statements.isBlobLinked.get(imageId, digest) === undefined,
    );
  }

  // Each checks, in the transaction that links: the image (a delete may have removed it since the
  // caller looked it up, and its links would break the foreign key), the project's quota, and the
  // collector's state of the blob.
  async linkBlob(imageId: number, digest: string, size: number, at: Date): Promise<LinkOutcome> {
    return this.db.transaction((): LinkOutcome => {
      if (this.statements.imageExists.get(imageId) === undefined) return 'no-image';
      const exceeded = this.quota.check(imageId, digest, size);
      if (exceeded) return exceeded;
      if (!this.blobRows.claim(digest, size, at)) return 'deleting';
      this.statements.linkBlob.run({ imageId, digest, size, at: at.getTime() });
      return 'linked';
    })();
  }

  async mountBlob(
    fromImageId: number,
    imageId: number,
    digest: string,
    size: number,
    at: Date,
  ): Promise<MountOutcome> {
    // While the source holds the blob it cannot be marked for deletion, so checking it here suffices.
    return this.db.transaction((): MountOutcome => {
      if (this.statements.isBlobLinked.get(fromImageId, digest) === undefined) return 'not-held';
      if (this.statements.imageExists.get(imageId) === undefined) return 'no-image';
      const exceeded = this.quota.check(imageId, digest, size);
      if (exceeded) return exceeded;
      this.statements.linkBlob.run({ imageId, digest, size, at: at.getTime() });
      return 'mounted';
    })();
  }

  async confirmBlob(imageId: number, digest: string, at: Date, refreshAfter: Date): Promise<boolean> {
    const promisedAt = this.statements.promisedAt.get(imageId, digest) as number | undefined;
    if (promisedAt === undefined) return false;
    if (promisedAt >= refreshAfter.getTime()) return true;
    // The update itself tells whether the link is still there: the collector may have expired it
    // since the read, and then the blob must not be announced.
    return this.statements.renewPromise.run({ imageId, digest, at: at.getTime() }).changes > 0;
  }

  async unlinkBlob(imageId: number, digest: string): Promise<'unlinked' | 'unknown' | 'referenced'> {
    if (this.statements.unlinkBlob.run({ imageId, digest }).changes > 0) return 'unlinked';
    return (await this.isBlobLinked(imageId, digest)) ? 'referenced' : 'unknown';
  }

  async manifestsReferencing(imageId: number, digest: string, limit: number): Promise<string[]> {
    return this.statements.manifestsReferencing.all(imageId, digest, limit) as string[];
  }

  async findManifest(
    imageName: string,
    reference: { digest: string } | { tag: string },
  ): Promise<ManifestRecord | undefined> {
    const row = (
      'digest' in reference
        ? this.statements.manifestByDigest.get(imageName, reference.digest)
        : this.statements.manifestByTag.get(imageName, reference.tag)
    ) as ManifestRow | undefined;
    return row && toManifest(row);
  }

  async missingManifests(imageId: number, digests: readonly string[]): Promise<string[]> {
    return [...new Set(digests)].filter(
      (digest) => this.statements.isManifest.get(imageId, digest) === undefined,
    );
  }

  async putManifest(
    imageId: number,
    manifest: NewManifest,
    tag: string | undefined,
    at: Date,
    options: PutManifestOptions = {},
  ): Promise<PutManifestOutcome> {
    return this.db.transaction((): PutManifestOutcome => {
      if (this.statements.imageExists.get(imageId) === undefined) return { outcome: 'no-image' };
      const references = [...new Set(manifest.references)];
      // Checked again here: a blob or manifest deleted since the caller's check must not be referenced.
      const missing = references.filter(
        (digest) =>
          this.statements.isBlobLinked.get(imageId, digest) === undefined &&
          this.statements.isManifest.get(imageId, digest) === undefined,
      );
      if (missing.length > 0 && !options.referencesFetchedLater)
        return { outcome: 'missing', digests: missing };
      if (tag !== undefined && options.keepExistingTag) {
        const current = this.statements.tagDigest.get(imageId, tag) as string | undefined;
        if (current !== undefined && current !== manifest.digest) return { outcome: 'tag-kept' };
      }
      const exceeded = this.quota.check(imageId, manifest.digest, manifest.size);
      if (exceeded) return exceeded;
      // The manifest's own bytes are a stored file too: the collector must not be removing them.
      if (!this.blobRows.claim(manifest.digest, manifest.size, at)) return { outcome: 'deleting' };
      this.statements.insertManifest.run(
        imageId,
        manifest.digest,
        manifest.mediaType,
        manifest.size,
        manifest.artifactType ?? null,
        manifest.annotations ? JSON.stringify(manifest.annotations) : null,
        manifest.subjectDigest ?? null,
        at.getTime(),
      );
      for (const digest of references) {
        this.statements.insertReference.run(imageId, manifest.digest, digest);
      }
      if (tag !== undefined) this.statements.upsertTag.run(imageId, tag, manifest.digest, at.getTime());
      return { outcome: 'stored' };
    })();
  }

  async deleteTag(imageId: number, tag: string): Promise<boolean> {
    return this.statements.deleteTag.run(imageId, tag).changes > 0;
  }

  async listTags(imageId: number, after: string | undefined, limit: number): Promise<Page<string>> {
    return page(this.statements.listTags.all(imageId, after ?? '', limit + 1) as string[], limit);
  }

  async listReferrers(
    imageId: number,
    digest: string,
    artifactType: string | undefined,
  ): Promise<ManifestRecord[]> {
    const rows = this.statements.referrers.all(imageId, digest) as ManifestRow[];
    return rows.map(toManifest).filter((m) => artifactType === undefined || m.artifactType === artifactType);
  }
}

class SqliteUploadStore implements UploadStore {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      // Conditional on the image: a delete may have removed it since the caller looked it up.
      insert: db.prepare(
        `INSERT INTO upload_sessions (id, image_id, created_at)
         SELECT @id, @imageId, @createdAt WHERE EXISTS (SELECT 1 FROM images WHERE id = @imageId)`,
      ),
      find: db.prepare(
        `SELECT u.id, u.image_id AS imageId, i.name AS imageName, u.created_at AS createdAt
         FROM upload_sessions u JOIN images i ON i.id = u.image_id WHERE u.id = ?`,
      ),
      delete: db.prepare('DELETE FROM upload_sessions WHERE id = ?'),
      createdBefore: db.prepare('SELECT id FROM upload_sessions WHERE created_at < ?').pluck(),
    };
  }

  async create(session: UploadSession): Promise<boolean> {
    const { id, imageId, createdAt } = session;
    return this.statements.insert.run({ id, imageId, createdAt: createdAt.getTime() }).changes > 0;
  }

  async find(id: string): Promise<UploadSession | undefined> {
    const row = this.statements.find.get(id) as
      | (Omit<UploadSession, 'createdAt'> & { createdAt: number })
      | undefined;
    return row && { ...row, createdAt: new Date(row.createdAt) };
  }

  async delete(id: string): Promise<void> {
    this.statements.delete.run(id);
  }

  async createdBefore(before: Date): Promise<string[]> {
    return this.statements.createdBefore.all(before.getTime()) as string[];
  }
}

export class SqliteMetadataStore implements MetadataStore {
  readonly catalog: CatalogStore;
  readonly content: ContentStore;
  readonly uploads: UploadStore;
  readonly users: UserStore;
  readonly serviceAccounts: ServiceAccountStore;
  readonly iam: IamStore;
  readonly revocations: RevocationStore;
  readonly oauth: OAuthStore;
  readonly organizations: OrganizationStore;
  readonly projects: ProjectStore;
  readonly repositories: RepositoryStore;
  readonly images: ImageStore;
  readonly scans: ScanStore;
  readonly lifecycle: LifecycleStore;
  readonly usage: UsageStore;
  readonly cleanup: CleanupStore;
  readonly audit: AuditStore;
  readonly remotes: RemoteStore;
  readonly webhooks: WebhookStore;

  private constructor(private readonly db: SqliteDatabase) {
    this.catalog = new SqliteCatalogStore(db);
    this.content = new SqliteContentStore(db);
    this.uploads = new SqliteUploadStore(db);
    this.users = new SqliteUserStore(db);
    this.serviceAccounts = new SqliteServiceAccountStore(db);
    this.iam = new SqliteIamStore(db);
    this.revocations = new SqliteRevocationStore(db);
    this.oauth = new SqliteOAuthStore(db);
    this.organizations = new SqliteOrganizationStore(db);
    this.projects = new SqliteProjectStore(db);
    this.repositories = new SqliteRepositoryStore(db);
    this.images = new SqliteImageStore(db);
    this.scans = new SqliteScanStore(db);
    this.lifecycle = new SqliteLifecycleStore(db);
    this.usage = new SqliteUsageStore(db);
    this.cleanup = new SqliteCleanupStore(db);
    this.audit = new SqliteAuditStore(db);
    this.remotes = new SqliteRemoteStore(db);
    this.webhooks = new SqliteWebhookStore(db);
  }

  static open(path: string): SqliteMetadataStore {
    return new SqliteMetadataStore(openSqlite(path));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
