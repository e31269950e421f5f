/**
 * Storage usage, computed on read from indexed queries (nothing is counted on the push path), and
 * the project quotas that pushes are held to.
 */

export interface StorageUsage {
  /** The sizes of the distinct digests (blobs and manifests) it holds, added up. */
  readonly logicalBytes: number;
  /** The part of that no other repository (or project) holds: what deleting it would free. */
  readonly uniqueBytes: number;
}

export interface InstanceUsage {
  /** Each repository's logical bytes, added up: the size before sharing across repositories. */
  readonly logicalBytes: number;
  /** The distinct digests held anywhere, added up: what the blob store needs for them. */
  readonly storedBytes: number;
  /** How many distinct digests that is. */
  readonly digests: number;
}

/** A manifest of an image, as a deletion names it. */
export interface ManifestKey {
  readonly imageId: number;
  readonly digest: string;
}

/** Why a push was refused by its project's quota. */
export interface QuotaExceeded {
  readonly outcome: 'over-quota';
  readonly project: string;
  readonly quota: number;
  /** The project's logical bytes before the push. */
  readonly usage: number;
  /** What the push would have added. */
  readonly adding: number;
}

/** Whether a link or mount was refused by the quota: its other outcomes are plain words. */
export function isQuotaExceeded(outcome: unknown): outcome is QuotaExceeded {
  return (
    typeof outcome === 'object' && outcome !== null && (outcome as QuotaExceeded).outcome === 'over-quota'
  );
}

export interface UsageStore {
  repository(project: string, repository: string): Promise<StorageUsage>;
  project(project: string): Promise<StorageUsage>;
  instance(): Promise<InstanceUsage>;
  /**
   * The bytes that deleting these manifests would let go: the manifests and what they reference,
   * counting each digest that no other manifest of the instance is or references.
   */
  freedBy(manifests: readonly ManifestKey[]): Promise<number>;
  /** Linked blobs whose size is not recorded yet (links made before sizes were kept). */
  blobsWithoutSize(limit: number): Promise<string[]>;
  recordBlobSize(digest: string, size: number): Promise<void>;
  /** Recounts every project's logical bytes from scratch (after sizes were filled in). */
  rebuildCounters(): Promise<void>;
}
