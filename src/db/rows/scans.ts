import { type Finding, type ScanRecord, type ScanStatus, type Severity, severities } from '../scans.js';
import { fromJson, optionalDate } from './values.js';

/** The scan queue's rows and their records, shared by the SQLite and PostgreSQL stores. */

export interface ScanRow {
  digest: string;
  status: ScanStatus;
  reason: string | null;
  attempts: number;
  queued_at: number;
  next_attempt_at: number;
  started_at: number | null;
  finished_at: number | null;
  scanned_at: number | null;
  scanner_version: string | null;
  critical: number | null;
  high: number | null;
  medium: number | null;
  low: number | null;
  unknown: number | null;
}

export interface FindingRow {
  vulnerability_id: string;
  pkg_name: string;
  pkg_id: string | null;
  installed_version: string;
  fixed_version: string | null;
  severity: Severity;
  title: string | null;
  description: string | null;
  /** JSON text (SQLite) or jsonb (PostgreSQL). */
  refs: string | string[];
  primary_url: string | null;
  target: string;
  class: string | null;
  type: string | null;
}

export function toScanRecord(row: ScanRow): ScanRecord {
  return {
    digest: row.digest,
    status: row.status,
    reason: row.reason ?? undefined,
    attempts: row.attempts,
    queuedAt: new Date(row.queued_at),
    nextAttemptAt: new Date(row.next_attempt_at),
    startedAt: optionalDate(row.started_at),
    finishedAt: optionalDate(row.finished_at),
    result:
      row.scanned_at === null
        ? undefined
        : {
            scannedAt: new Date(row.scanned_at),
            scannerVersion: row.scanner_version ?? '',
            summary: {
              CRITICAL: row.critical ?? 0,
              HIGH: row.high ?? 0,
              MEDIUM: row.medium ?? 0,
              LOW: row.low ?? 0,
              UNKNOWN: row.unknown ?? 0,
            },
          },
  };
}

export function toFinding(row: FindingRow): Finding {
  return {
    vulnerabilityId: row.vulnerability_id,
    pkgName: row.pkg_name,
    pkgId: row.pkg_id ?? undefined,
    installedVersion: row.installed_version,
    fixedVersion: row.fixed_version ?? undefined,
    severity: row.severity,
    title: row.title ?? undefined,
    description: row.description ?? undefined,
    references: fromJson<string[]>(row.refs),
    primaryUrl: row.primary_url ?? undefined,
    target: row.target,
    class: row.class ?? undefined,
    type: row.type ?? undefined,
  };
}

/** Worst first, then in the order the scanner reported them. */
export const severityRank = `CASE severity ${severities.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} ELSE ${severities.length} END`;

export const expiredReason = 'the instance running the scan stopped before it finished';
