import type { IndexEntry, PolicySubject } from '../cleanup/evaluate.js';

/** Cleanup policies at work: what a repository holds as the policies see it, and each run's record. */

export interface CleanupItem {
  /** The image's name inside its repository. */
  readonly image: string;
  readonly digest: string;
  readonly tags: string[];
  /** The Delete policies that matched it. */
  readonly policies: string[];
  /** `deleted`; `would-delete` in a dry run; `kept` when the delete was refused because things changed since. */
  readonly outcome: 'deleted' | 'would-delete' | 'kept';
}

export interface CleanupRun {
  readonly project: string;
  readonly repository: string;
  readonly dryRun: boolean;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Bytes no manifest of the instance needs any longer once these are deleted (reclaimed by the collector). */
  readonly freedBytes: number;
  readonly items: CleanupItem[];
}

export interface CleanupStore {
  /** The repositories that have at least one policy, as `[project, repository]`. */
  repositoriesWithPolicies(): Promise<{ project: string; repository: string }[]>;
  /** Every manifest of a repository's images with its tags, and which indexes list which manifests. */
  contents(
    project: string,
    repository: string,
  ): Promise<{ subjects: PolicySubject[]; indexEntries: IndexEntry[] }>;
  recordRun(run: CleanupRun): Promise<void>;
  lastRun(project: string, repository: string): Promise<CleanupRun | undefined>;
}
