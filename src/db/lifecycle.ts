/**
 * The small queries the storage lifecycle needs (garbage collection and the integrity check), kept
 * apart from the registry's hot path. Each write that decides what may be deleted re-checks its
 * condition inside its own transaction, so a push committed in between is always seen.
 */

/** The lease the garbage collector holds while it runs: one collector at a time, across instances. */
export const collectorLease = 'gc';

/** A stored file the metadata knows: blob or manifest bytes. `size` is unknown for rows migrated from before it was kept. */
export interface StoredBlob {
  readonly digest: string;
  readonly size: number | undefined;
}

/** An image's link to a blob that no manifest of the image references. */
export interface BlobLink {
  readonly imageId: number;
  readonly image: string;
  readonly digest: string;
}

export interface EmptyImage {
  readonly id: number;
  readonly name: string;
}

export type MaintenanceKind = 'gc' | 'verify';
export type RunStatus = 'running' | 'succeeded' | 'failed';

/** One garbage collection or integrity check, recorded so that any instance can answer about it. */
export interface MaintenanceRun {
  readonly id: string;
  readonly kind: MaintenanceKind;
  readonly options: Record<string, unknown>;
  readonly status: RunStatus;
  readonly progress: Record<string, unknown> | undefined;
  readonly report: Record<string, unknown> | undefined;
  readonly error: string | undefined;
  readonly requestedAt: Date;
  readonly startedAt: Date | undefined;
  readonly finishedAt: Date | undefined;
}

export type RunChanges = Partial<
  Pick<MaintenanceRun, 'status' | 'progress' | 'report' | 'error' | 'finishedAt'>
>;

export interface LifecycleStore {
  /**
   * Takes (or renews) the named lease for `holder` until `until`: true when it was free, expired,
   * or already held by `holder`. One collector at a time, whichever instance it runs in.
   */
  acquireLease(name: string, holder: string, at: Date, until: Date): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;

  /** Blobs left marked by a collector that is gone (its lease expired): their deletion was interrupted. */
  interruptedDeletions(holder: string, at: Date, limit: number): Promise<StoredBlob[]>;
  /** Links no manifest of their image references, last promised before `before`, in key order after `after`. */
  expirableLinks(before: Date, after: BlobLink | undefined, limit: number): Promise<BlobLink[]>;
  /** Deletes those of `links` still unreferenced and still unpromised since `before`; returns them. */
  expireLinks(links: readonly BlobLink[], before: Date): Promise<BlobLink[]>;
  /** Images with no manifest, no blob and no upload session, untouched since `before`. */
  emptyImages(before: Date): Promise<EmptyImage[]>;
  /** Deletes those of `images` still empty and untouched since `before`; returns them. */
  deleteEmptyImages(images: readonly EmptyImage[], before: Date): Promise<EmptyImage[]>;
  /** Digests with a scan record or queued scan that no repository holds as a manifest. */
  orphanScans(): Promise<string[]>;
  /** Deletes the scans of those `digests` still held by no repository (a scan in progress is left alone). */
  deleteOrphanScans(digests: readonly string[]): Promise<string[]>;
  /**
   * Stored blobs no image links and no manifest is, in digest order after `after`. With
   * `linksExpiringBefore`, links that collection would expire first do not count (a dry run's view).
   */
  unreferencedBlobs(after: string, limit: number, linksExpiringBefore?: Date): Promise<StoredBlob[]>;
  /**
   * Marks those of `digests` still unreferenced as being deleted by `holder`, provided `holder` holds
   * the collector's lease at `at`. From then on no push can link them until they are forgotten.
   */
  markDeleting(digests: readonly string[], holder: string, at: Date): Promise<string[]>;
  /** Records files the metadata does not know of as being deleted by `holder`; returns those it recorded. */
  claimUnknown(blobs: readonly StoredBlob[], holder: string, at: Date): Promise<string[]>;
  /** Forgets blobs `holder` marked, once their files are gone. */
  forgetDeleted(digests: readonly string[], holder: string): Promise<void>;
  /** Which of `digests` the metadata knows as stored blobs. */
  knownBlobs(digests: readonly string[]): Promise<Set<string>>;
  /** Every stored blob the metadata knows and does not have marked for deletion, in digest order after `after`. */
  storedBlobs(after: string, limit: number): Promise<StoredBlob[]>;

  createRun(run: MaintenanceRun): Promise<void>;
  updateRun(id: string, changes: RunChanges): Promise<void>;
  findRun(id: string): Promise<MaintenanceRun | undefined>;
}
