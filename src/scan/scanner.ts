import type { Finding, SeverityCounts } from '../db/scans.js';

/** What a scanner found in one image. */
export interface ScanReport {
  readonly scannerVersion: string;
  readonly findings: Finding[];
  readonly summary: SeverityCounts;
}

/**
 * Why a scan did not produce a report:
 * - `unavailable`: the scanner program cannot be run (not installed, not executable);
 * - `transient`: it failed in a way that may pass (a crash, a timeout, a non-zero exit): retried;
 * - `permanent`: trying again would give the same answer (unreadable output, a missing blob).
 */
export type ScanFailureKind = 'unavailable' | 'transient' | 'permanent';

export class ScanFailure extends Error {
  override name = 'ScanFailure';

  constructor(
    readonly kind: ScanFailureKind,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown when a scan is stopped because the daemon is shutting down: the job goes back to the queue. */
export class ScanCancelled extends Error {
  override name = 'ScanCancelled';
}

/** A vulnerability scanner that reads an OCI image layout on disk. */
export interface Scanner {
  /** Scans the image the layout at `layoutDir` holds; throws ScanFailure or ScanCancelled. */
  scan(
    layoutDir: string,
    options: { readonly timeout: number; readonly signal: AbortSignal },
  ): Promise<ScanReport>;
}
