import type { CleanupPolicies } from '../cleanup/policy.js';
import type { ManifestRecord, Page } from './metadata.js';
import type { RemoteChanges, RemoteSettings } from './remotes.js';

/**
 * The resources the management API creates and browses: organizations, projects, repositories,
 * and a read-and-tidy view of the images inside repositories. The registry's hot path stays on
 * `CatalogStore` and `ContentStore`.
 */

export interface OrganizationRecord {
  readonly id: string;
  readonly displayName: string;
  readonly createdAt: Date;
}

export interface ProjectRecord {
  readonly id: string;
  readonly organization: string;
  readonly displayName: string;
  readonly description: string;
  /** The most bytes its repositories may hold (logical bytes), when the administrator set a quota. */
  readonly storageQuota: number | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface RepositoryRecord {
  readonly project: string;
  readonly id: string;
  readonly displayName: string;
  readonly description: string;
  /** Queue every pushed image for a vulnerability scan. */
  readonly scanning: boolean;
  /** Refuse to move or delete a tag once it exists. */
  readonly immutableTags: boolean;
  readonly cleanupPolicies: CleanupPolicies;
  /** Cleanup only records what the policies would delete. */
  readonly cleanupDryRun: boolean;
  /** Set when the repository is a pull-through cache of an upstream registry (a remote repository). */
  readonly remote?: RemoteSettings | undefined;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export type ProjectChanges = Partial<Pick<ProjectRecord, 'displayName' | 'description'>> & {
  /** Bytes; null removes the quota. */
  readonly storageQuota?: number | null;
};
export type RepositoryChanges = Partial<
  Pick<
    RepositoryRecord,
    'displayName' | 'description' | 'scanning' | 'immutableTags' | 'cleanupPolicies' | 'cleanupDryRun'
  >
> & {
  /** Changes to a remote repository's settings (only a remote repository has them). */
  readonly remote?: RemoteChanges;
};

export interface OrganizationStore {
  find(id: string): Promise<OrganizationRecord | undefined>;
}

export interface ProjectStore {
  /** False when the ID is taken. */
  create(project: ProjectRecord): Promise<boolean>;
  find(id: string): Promise<ProjectRecord | undefined>;
  /** Projects in ID order after `after`. */
  list(after: string | undefined, limit: number): Promise<Page<ProjectRecord>>;
  /** The updated project, or undefined when there is none. */
  update(id: string, changes: ProjectChanges, at: Date): Promise<ProjectRecord | undefined>;
  /**
   * Deletes the project and everything in it (repositories, images, service accounts and their
   * keys), with every IAM binding on it, on its repositories, or naming its service accounts.
   */
  delete(id: string): Promise<boolean>;
}

export interface RepositoryStore {
  /**
   * False when the project already has a repository with this ID (or the project is gone). A remote
   * repository's settings are stored with it, in one step.
   */
  create(repository: RepositoryRecord): Promise<boolean>;
  find(project: string, id: string): Promise<RepositoryRecord | undefined>;
  /** A project's repositories in ID order after `after`. */
  list(project: string, after: string | undefined, limit: number): Promise<Page<RepositoryRecord>>;
  update(
    project: string,
    id: string,
    changes: RepositoryChanges,
    at: Date,
  ): Promise<RepositoryRecord | undefined>;
  /** Deletes the repository with its images and the IAM bindings on it. */
  delete(project: string, id: string): Promise<boolean>;
}

export interface ImageSummary {
  readonly id: number;
  /** The full OCI repository name, PROJECT/REPOSITORY/IMAGE. */
  readonly name: string;
  readonly createdAt: Date;
  /** The latest manifest push or tag change. */
  readonly updatedAt: Date;
}

export interface TaggedManifest extends ManifestRecord {
  /** The tags pointing at it, in order. */
  readonly tags: string[];
}

export interface TagRecord {
  readonly name: string;
  readonly digest: string;
  readonly updatedAt: Date;
}

/** What pointing a tag at a manifest did. `kept`: the tag points elsewhere and was left alone. */
export type TagOutcome = 'created' | 'moved' | 'unchanged' | 'kept' | 'no-manifest';

/** What a deletion did. `tagged`: tags point at it and the caller asked to keep tagged content. */
/** `referenced`: an index of the image lists the manifest, so deleting it would break the index. */
export type DeleteOutcome = 'deleted' | 'tagged' | 'missing' | 'referenced';

/** Which of an image's manifests a listing by push time keeps. */
export type TagFilter = 'all' | 'tagged' | 'untagged';

export interface PushTimeQuery {
  readonly newestFirst: boolean;
  readonly tags: TagFilter;
  /** The push time and digest of the last manifest of the previous page. */
  readonly after: { readonly createdAt: Date; readonly digest: string } | undefined;
  readonly limit: number;
}

/** One image of a repository at a glance, for listings. */
export interface ImageStats {
  readonly id: number;
  readonly name: string;
  readonly digests: number;
  readonly tags: number;
  /** The tag changed last, when there is one. */
  readonly latestTag: string | undefined;
  /** The manifest pushed last that is not a referrer (a signature, an SBOM), when there is one. */
  readonly latestDigest: string | undefined;
  /** The latest manifest push or tag change. */
  readonly updatedAt: Date;
}

/** The images of a repository, as people browse and tidy them. */
export interface ImageStore {
  /** A repository's images in name order after `after` (a full name). */
  list(
    project: string,
    repository: string,
    after: string | undefined,
    limit: number,
  ): Promise<Page<ImageSummary>>;
  find(name: string): Promise<ImageSummary | undefined>;
  /** An image's manifests in digest order after `after`, each with its tags. */
  manifests(imageId: number, after: string | undefined, limit: number): Promise<Page<TaggedManifest>>;
  /** An image's manifests by push time (then digest), each with its tags, one keyset page at a time. */
  manifestsByPushTime(imageId: number, query: PushTimeQuery): Promise<Page<TaggedManifest>>;
  /** Every image of a repository with its counts, latest tag and latest push, in name order. */
  stats(project: string, repository: string): Promise<ImageStats[]>;
  /** Every manifest of an image, each with its tags. */
  allManifests(imageId: number): Promise<TaggedManifest[]>;
  /** An image's tags in name order after `after`, with the digest each points at. */
  tags(imageId: number, after: string | undefined, limit: number): Promise<Page<TagRecord>>;
  findTag(imageId: number, tag: string): Promise<TagRecord | undefined>;
  /** The tags pointing at one manifest. */
  tagsOf(imageId: number, digest: string): Promise<string[]>;
  /**
   * Points a tag at a manifest of the image. With `keepExisting`, a tag that already points at
   * another manifest is left alone (immutable tags); the check and the write are one transaction.
   */
  setTag(
    imageId: number,
    tag: string,
    digest: string,
    at: Date,
    options: { keepExisting: boolean },
  ): Promise<TagOutcome>;
  /**
   * Deletes a manifest and its tags, unless an index of the image lists it; with `keepTagged`, only
   * when no tag points at it. The checks and the delete are one transaction.
   */
  deleteManifest(imageId: number, digest: string, options: { keepTagged: boolean }): Promise<DeleteOutcome>;
  /** Deletes an image with all its manifests and tags; with `keepTagged`, only when it has no tags. */
  delete(imageId: number, options: { keepTagged: boolean }): Promise<DeleteOutcome>;
}
