import type { AuditStore } from './audit.js';
import type { CleanupStore } from './cleanup.js';
import type { IamStore, RevocationStore, ServiceAccountStore, UserStore } from './identity.js';
import type { LifecycleStore } from './lifecycle.js';
import type { OAuthStore } from './oauth.js';
import type { PolicyStore } from './policies.js';
import type { RemoteStore } from './remotes.js';
import type { ImageStore, OrganizationStore, ProjectStore, RepositoryStore } from './resources.js';
import type { ScanStore } from './scans.js';
import type { QuotaExceeded, UsageStore } from './usage.js';
import type { WebhookStore } from './webhooks.js';

/**
 * Metadata contracts, split by role. They return promises although SQLite answers synchronously,
 * so that a networked database implements them without changing a caller.
 */

export interface ImageRecord {
  readonly id: number;
  /** The full OCI repository name, PROJECT/REPOSITORY/IMAGE. */
  readonly name: string;
  /** When a push last used the image (coarse): the collector leaves an empty image alone for a while after. */
  readonly touchedAt: Date;
}

export interface ManifestRecord {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly artifactType: string | undefined;
  readonly annotations: Record<string, string> | undefined;
  readonly subjectDigest: string | undefined;
  readonly createdAt: Date;
}

export interface Page<T> {
  readonly items: T[];
  /** True when more items follow the last one returned. */
  readonly more: boolean;
}

export interface NewManifest extends Omit<ManifestRecord, 'createdAt'> {
  /** Digests of the blobs and manifests it references, kept so nothing they need is collected. */
  readonly references: readonly string[];
}

export type PutManifestOutcome =
  | { readonly outcome: 'stored' }
  | { readonly outcome: 'tag-kept' }
  /** The image was deleted since the caller looked it up. */
  | { readonly outcome: 'no-image' }
  | { readonly outcome: 'missing'; readonly digests: string[] }
  /** The manifest's own bytes are being removed by the garbage collector: put them back and retry. */
  | { readonly outcome: 'deleting' }
  | QuotaExceeded;

/**
 * What recording a blob for an image found. `deleting`: the garbage collector is removing the file
 * this very moment; the caller waits for it to finish, puts the bytes back and tries again.
 * `no-image`: the image was deleted since the caller looked it up. Over quota: nothing was recorded.
 */
export type LinkOutcome = 'linked' | 'deleting' | 'no-image' | QuotaExceeded;

/** What a cross-repository mount found: `not-held` when the source no longer holds the blob. */
export type MountOutcome = 'mounted' | 'not-held' | 'no-image' | QuotaExceeded;

export interface PutManifestOptions {
  /** Immutable tags: leave a tag that points at another manifest alone (`tag-kept`). */
  readonly keepExistingTag?: boolean;
  /**
   * A pull-through cache stores an upstream manifest before the blobs and child manifests it names:
   * they are fetched when first pulled. The references are still recorded, so once cached they are
   * kept for the manifest like pushed ones.
   */
  readonly referencesFetchedLater?: boolean;
}

/** Projects, repositories and the images inside them. */
export interface CatalogStore {
  /** The organization a project belongs to, or undefined when there is no such project. */
  projectOrganization(project: string): Promise<string | undefined>;
  /** True when the project and the repository both exist. */
  repositoryExists(project: string, repository: string): Promise<boolean>;
  /** Whether images pushed to the repository are scanned for vulnerabilities; false when it does not exist. */
  repositoryScanning(project: string, repository: string): Promise<boolean>;
  /** Creates the project and repository when missing (only in the open mode for throwaway registries). */
  ensureRepository(project: string, repository: string, at: Date): Promise<void>;
  findImage(name: string): Promise<ImageRecord | undefined>;
  /** Finds or creates the image inside an existing repository. */
  ensureImage(project: string, repository: string, name: string, at: Date): Promise<ImageRecord>;
  /** Records that a push is using the image now, so the collector does not remove it as empty. */
  touchImage(imageId: number, at: Date): Promise<void>;
  /** Image names in lexical order after `last`. */
  listImages(after: string | undefined, limit: number): Promise<Page<string>>;
}

/** Which blobs, manifests and tags each image holds. */
export interface ContentStore {
  isBlobLinked(imageId: number, digest: string): Promise<boolean>;
  /** The subset of `digests` not linked into the image. */
  missingBlobs(imageId: number, digests: readonly string[]): Promise<string[]>;
  /**
   * Records the blob (stored with `size` bytes) as held by the image and promised to a client at
   * `at`, in one step with the collector's state and the project's quota: nothing is recorded while
   * the collector is deleting the blob's file, or when the blob would take the project over quota.
   */
  linkBlob(imageId: number, digest: string, size: number, at: Date): Promise<LinkOutcome>;
  /** Links a blob of `size` bytes `from` one image into another, promised at `at`, unless either is gone. */
  mountBlob(
    fromImageId: number,
    imageId: number,
    digest: string,
    size: number,
    at: Date,
  ): Promise<MountOutcome>;
  /**
   * Whether the image holds the blob, as a client is about to be told; when it does, the promise is
   * recorded at `at` unless one recorded since `refreshAfter` already covers it (so a busy blob
   * costs one write per refresh period, not one per request).
   */
  confirmBlob(imageId: number, digest: string, at: Date, refreshAfter: Date): Promise<boolean>;
  /**
   * Unlinks a blob from the image unless one of its manifests references it: one step, so a delete
   * can never leave a stored manifest pointing at nothing.
   */
  unlinkBlob(imageId: number, digest: string): Promise<'unlinked' | 'unknown' | 'referenced'>;
  /** Up to `limit` manifests of the image that reference `digest`. */
  manifestsReferencing(imageId: number, digest: string, limit: number): Promise<string[]>;

  /** A manifest by digest or tag, within one image. */
  findManifest(
    imageName: string,
    reference: { digest: string } | { tag: string },
  ): Promise<ManifestRecord | undefined>;
  /** The subset of `digests` that are not manifests of the image. */
  missingManifests(imageId: number, digests: readonly string[]): Promise<string[]>;
  /**
   * Stores a manifest and, in the same transaction, points `tag` at it. Nothing is stored when a
   * reference is no longer a blob or manifest of the image (deleted since the caller checked):
   * `missing` names them. With `keepExistingTag` (immutable tags), a tag that already points at
   * another manifest is left alone and nothing is stored: `tag-kept`. A manifest new to its project
   * that would take the project over its storage quota is refused: `over-quota`. Checks and write are
   * one step.
   */
  putManifest(
    imageId: number,
    manifest: NewManifest,
    tag: string | undefined,
    at: Date,
    options?: PutManifestOptions,
  ): Promise<PutManifestOutcome>;
  deleteTag(imageId: number, tag: string): Promise<boolean>;
  listTags(imageId: number, after: string | undefined, limit: number): Promise<Page<string>>;
  /** Manifests whose subject is `digest`, optionally of one artifact type. */
  listReferrers(imageId: number, digest: string, artifactType: string | undefined): Promise<ManifestRecord[]>;
}

export interface UploadSession {
  readonly id: string;
  readonly imageId: number;
  readonly imageName: string;
  readonly createdAt: Date;
}

/** Blob upload sessions, so that any instance (or a restarted one) can resume them. */
export interface UploadStore {
  /** Records a session; false when its image no longer exists (deleted meanwhile). */
  create(session: UploadSession): Promise<boolean>;
  find(id: string): Promise<UploadSession | undefined>;
  delete(id: string): Promise<void>;
  createdBefore(before: Date): Promise<string[]>;
}

export interface MetadataStore {
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
  /** Rate limit overrides and security policies. */
  readonly policies: PolicyStore;
  close(): Promise<void>;
}
