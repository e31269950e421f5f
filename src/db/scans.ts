/**
 * The vulnerability scan queue and its results, keyed by manifest digest: content-addressed, so a
 * digest scanned once has the same findings in every repository that holds it.
 */

/** Trivy's severities, worst first. */
export const severities = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type Severity = (typeof severities)[number];
export type SeverityCounts = Readonly<Record<Severity, number>>;

/**
 * - `queued`: waiting for a worker (also between retries, until `nextAttemptAt`);
 * - `scanning`: claimed by a worker, whose lease keeps it;
 * - `succeeded`: findings stored;
 * - `failed`: the scanner failed, timed out or printed no usable report (`reason` says which);
 * - `unsupported`: not a container image (a Helm chart, a signature, an SBOM…);
 * - `scanner_unavailable`: the scanner program could not be run (not installed).
 */
export const scanStatuses = [
  'queued',
  'scanning',
  'succeeded',
  'failed',
  'unsupported',
  'scanner_unavailable',
] as const;
export type ScanStatus = (typeof scanStatuses)[number];

/** One vulnerability in one package, as the scanner reported it. */
export interface Finding {
  readonly vulnerabilityId: string;
  readonly pkgName: string;
  readonly pkgId: string | undefined;
  readonly installedVersion: string;
  readonly fixedVersion: string | undefined;
  readonly severity: Severity;
  readonly title: string | undefined;
  readonly description: string | undefined;
  readonly references: readonly string[];
  readonly primaryUrl: string | undefined;
  /** What the scanner looked at: the OS (`… (debian 10.1)`) or a lock file (`Cargo.lock`). */
  readonly target: string;
  /** `os-pkgs` or `lang-pkgs`. */
  readonly class: string | undefined;
  /** The package ecosystem: `debian`, `alpine`, `cargo`, `npm`… */
  readonly type: string | undefined;
}

/** What one successful scan found. */
export interface ScanResult {
  readonly scannedAt: Date;
  readonly scannerVersion: string;
  readonly summary: SeverityCounts;
}

export interface ScanRecord {
  readonly digest: string;
  readonly status: ScanStatus;
  /** Why the scan failed, is unsupported or unavailable, or why the last attempt is being retried. */
  readonly reason: string | undefined;
  /** Attempts made since the scan was last queued. */
  readonly attempts: number;
  readonly queuedAt: Date;
  readonly nextAttemptAt: Date;
  readonly startedAt: Date | undefined;
  readonly finishedAt: Date | undefined;
  /** The last successful scan; kept while a rescan is queued, runs or fails. */
  readonly result: ScanResult | undefined;
}

/** A job a worker holds: nobody else runs it while the lease lasts. */
export interface ScanClaim {
  readonly digest: string;
  /** This attempt's number, from 1. */
  readonly attempt: number;
}

export interface ExpiredClaims {
  /** Workers whose lease ran out (their instance stopped): their work directories can go. */
  readonly workers: readonly string[];
  readonly requeued: number;
  readonly failed: number;
}

export interface ScanStore {
  /**
   * Queues a scan unless the digest is queued, scanning, succeeded or unsupported already; a
   * digest whose scan failed or found no scanner is queued again. True when queued.
   */
  enqueue(digest: string, at: Date): Promise<boolean>;
  /** Queues a scan whatever the last outcome, unless one is queued or running. True when queued. */
  requeue(digest: string, at: Date): Promise<boolean>;
  /** Records that the digest is not something the scanner can scan, unless it has a record. */
  markUnsupported(digest: string, reason: string, at: Date): Promise<void>;

  /**
   * Atomically takes the oldest queued job that is due, for `worker` until `leaseUntil`. Safe with
   * several instances sharing the store: only one of them gets a given job.
   */
  claim(worker: string, at: Date, leaseUntil: Date): Promise<ScanClaim | undefined>;
  /** Extends a held lease; false when the worker no longer holds the job. */
  renewLease(digest: string, worker: string, until: Date): Promise<boolean>;
  /**
   * Jobs whose lease ran out at `at` go back to the queue, or fail once `maxAttempts` were made:
   * the instance running them stopped without finishing.
   */
  recoverExpired(at: Date, maxAttempts: number): Promise<ExpiredClaims>;

  /** Stores the findings of a held job and marks it succeeded. False when the job was lost. */
  succeed(digest: string, worker: string, result: ScanResult, findings: readonly Finding[]): Promise<boolean>;
  /** Puts a held job back in the queue until `nextAttemptAt`, noting why this attempt failed. */
  retry(digest: string, worker: string, reason: string, nextAttemptAt: Date): Promise<boolean>;
  /** Ends a held job with `failed` or `scanner_unavailable`. */
  fail(
    digest: string,
    worker: string,
    status: 'failed' | 'scanner_unavailable',
    reason: string,
    at: Date,
  ): Promise<boolean>;
  /** Gives a held job back without counting the attempt (the instance is shutting down). */
  release(digest: string, worker: string, at: Date): Promise<boolean>;

  /** Records for those of `digests` that have one. */
  find(digests: readonly string[]): Promise<Map<string, ScanRecord>>;
  /** The findings of the last successful scan, worst first, optionally only some severities. */
  findings(digest: string, only?: readonly Severity[]): Promise<Finding[]>;
  /** How many scans are in each status (queued and scanning are the queue's depth); absent statuses have none. */
  countByStatus(): Promise<Partial<Record<ScanStatus, number>>>;
}
