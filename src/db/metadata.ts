import type { CleanupStore } from './cleanup.js';
import type { IamStore, RevocationStore, ServiceAccountStore, UserStore } from './identity.js';
import type { OAuthStore } from './oauth.js';
import type { ImageStore, OrganizationStore, ProjectStore, RepositoryStore } from './resources.js';
import type { ScanStore } from './scans.js';
import type { QuotaExceeded, UsageStore } from './usage.js';

/**
 * Metadata contracts, split by role. They return promises although SQLite answers synchronously,
 * so that a networked database implements them without changing a caller.
 */

export interface ImageRecord {
  readonly id: number;
  /** The full OCI repository name, PROJECT/REPOSITORY/IMAGE. */
  readonly name: string;
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
  | { readonly outcome: 'missing'; readonly digests: string[] }
  | QuotaExceeded;

export type LinkBlobOutcome = { readonly outcome: 'linked' } | QuotaExceeded;

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
  /** Image names in lexical order after `last`. */
  listImages(after: string | undefined, limit: number): Promise<Page<string>>;
}

/** Which blobs, manifests and tags each image holds. */
export interface ContentStore {
  isBlobLinked(imageId: number, digest: string): Promise<boolean>;
  /** The subset of `digests` not linked into the image. */
  missingBlobs(imageId: number, digests: readonly string[]): Promise<string[]>;
  /**
   * Links a stored blob of `size` bytes into the image, unless that would take the image's project
   * over its storage quota: the check and the link are one step.
   */
  linkBlob(imageId: number, digest: string, size: number, at: Date): Promise<LinkBlobOutcome>;
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
    options?: { keepExistingTag?: boolean },
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
  create(session: UploadSession): Promise<void>;
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
  readonly usage: UsageStore;
  readonly cleanup: CleanupStore;
  close(): Promise<void>;
}
