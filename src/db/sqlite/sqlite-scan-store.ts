import {
  expiredReason,
  type FindingRow,
  type ScanRow,
  severityRank,
  toFinding,
  toScanRecord,
} from '../rows/scans.js';
import type {
  ExpiredClaims,
  Finding,
  ScanClaim,
  ScanRecord,
  ScanResult,
  ScanStatus,
  ScanStore,
  Severity,
} from '../scans.js';
import type { SqliteDatabase } from './database.js';

export class SqliteScanStore implements ScanStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      countByStatus: db.prepare('SELECT status, count(*) AS count FROM scans GROUP BY status'),
      enqueue: db.prepare(
        `INSERT INTO scans (digest, status, attempts, queued_at, next_attempt_at) VALUES (@digest, 'queued', 0, @at, @at)
         ON CONFLICT (digest) DO UPDATE SET status = 'queued', reason = NULL, attempts = 0,
           queued_at = @at, next_attempt_at = @at, started_at = NULL, finished_at = NULL
         WHERE scans.status IN ('failed', 'scanner_unavailable')`,
      ),
      requeue: db.prepare(
        `INSERT INTO scans (digest, status, attempts, queued_at, next_attempt_at) VALUES (@digest, 'queued', 0, @at, @at)
         ON CONFLICT (digest) DO UPDATE SET status = 'queued', reason = NULL, attempts = 0,
           queued_at = @at, next_attempt_at = @at, started_at = NULL, finished_at = NULL
         WHERE scans.status NOT IN ('queued', 'scanning')`,
      ),
      markUnsupported: db.prepare(
        `INSERT INTO scans (digest, status, reason, attempts, queued_at, next_attempt_at, finished_at)
         VALUES (@digest, 'unsupported', @reason, 0, @at, @at, @at) ON CONFLICT (digest) DO NOTHING`,
      ),
      // One statement, so the row is taken only if it is still queued when the write lock is held.
      claim: db.prepare(
        `UPDATE scans SET status = 'scanning', attempts = attempts + 1, started_at = @at, finished_at = NULL,
           claimed_by = @worker, lease_expires_at = @lease
         WHERE digest = (SELECT digest FROM scans WHERE status = 'queued' AND next_attempt_at <= @at
                         ORDER BY next_attempt_at, queued_at LIMIT 1)
           AND status = 'queued'
         RETURNING digest, attempts`,
      ),
      renewLease: db.prepare(
        `UPDATE scans SET lease_expires_at = @until
         WHERE digest = @digest AND status = 'scanning' AND claimed_by = @worker`,
      ),
      expiredWorkers: db
        .prepare(
          `SELECT DISTINCT claimed_by FROM scans
           WHERE status = 'scanning' AND lease_expires_at < @at AND claimed_by IS NOT NULL`,
        )
        .pluck(),
      failExpired: db.prepare(
        `UPDATE scans SET status = 'failed', reason = @reason, finished_at = @at, claimed_by = NULL,
           lease_expires_at = NULL
         WHERE status = 'scanning' AND lease_expires_at < @at AND attempts >= @maxAttempts`,
      ),
      requeueExpired: db.prepare(
        `UPDATE scans SET status = 'queued', reason = @reason, next_attempt_at = @at, claimed_by = NULL,
           lease_expires_at = NULL
         WHERE status = 'scanning' AND lease_expires_at < @at`,
      ),
      succeed: db.prepare(
        `UPDATE scans SET status = 'succeeded', reason = NULL, finished_at = @at, claimed_by = NULL,
           lease_expires_at = NULL, scanned_at = @at, scanner_version = @version,
           critical = @critical, high = @high, medium = @medium, low = @low, unknown = @unknown
         WHERE digest = @digest AND status = 'scanning' AND claimed_by = @worker`,
      ),
      deleteFindings: db.prepare('DELETE FROM scan_findings WHERE digest = ?'),
      insertFinding: db.prepare(
        `INSERT INTO scan_findings (digest, position, vulnerability_id, pkg_name, pkg_id, installed_version,
           fixed_version, severity, title, description, refs, primary_url, target, class, type)
         VALUES (@digest, @position, @vulnerabilityId, @pkgName, @pkgId, @installedVersion, @fixedVersion,
           @severity, @title, @description, @refs, @primaryUrl, @target, @class, @type)`,
      ),
      retry: db.prepare(
        `UPDATE scans SET status = 'queued', reason = @reason, next_attempt_at = @next, claimed_by = NULL,
           lease_expires_at = NULL
         WHERE digest = @digest AND status = 'scanning' AND claimed_by = @worker`,
      ),
      fail: db.prepare(
        `UPDATE scans SET status = @status, reason = @reason, finished_at = @at, claimed_by = NULL,
           lease_expires_at = NULL
         WHERE digest = @digest AND status = 'scanning' AND claimed_by = @worker`,
      ),
      release: db.prepare(
        `UPDATE scans SET status = 'queued', attempts = max(attempts - 1, 0), next_attempt_at = @at,
           claimed_by = NULL, lease_expires_at = NULL
         WHERE digest = @digest AND status = 'scanning' AND claimed_by = @worker`,
      ),
      find: db.prepare('SELECT * FROM scans WHERE digest IN (SELECT value FROM json_each(?))'),
      findings: db.prepare(`SELECT * FROM scan_findings WHERE digest = ? ORDER BY ${severityRank}, position`),
      findingsOf: db.prepare(
        `SELECT * FROM scan_findings WHERE digest = ? AND severity IN (SELECT value FROM json_each(?))
         ORDER BY ${severityRank}, position`,
      ),
    };
  }

  async enqueue(digest: string, at: Date): Promise<boolean> {
    return this.statements.enqueue.run({ digest, at: at.getTime() }).changes > 0;
  }

  async requeue(digest: string, at: Date): Promise<boolean> {
    return this.statements.requeue.run({ digest, at: at.getTime() }).changes > 0;
  }

  async markUnsupported(digest: string, reason: string, at: Date): Promise<void> {
    this.statements.markUnsupported.run({ digest, reason, at: at.getTime() });
  }

  async claim(worker: string, at: Date, leaseUntil: Date): Promise<ScanClaim | undefined> {
    const row = this.statements.claim.get({ worker, at: at.getTime(), lease: leaseUntil.getTime() }) as
      | { digest: string; attempts: number }
      | undefined;
    return row && { digest: row.digest, attempt: row.attempts };
  }

  async renewLease(digest: string, worker: string, until: Date): Promise<boolean> {
    return this.statements.renewLease.run({ digest, worker, until: until.getTime() }).changes > 0;
  }

  async recoverExpired(at: Date, maxAttempts: number): Promise<ExpiredClaims> {
    return this.db.transaction(() => {
      const time = at.getTime();
      const workers = this.statements.expiredWorkers.all({ at: time }) as string[];
      if (workers.length === 0) return { workers, requeued: 0, failed: 0 };
      const failed = this.statements.failExpired.run({
        at: time,
        maxAttempts,
        reason: expiredReason,
      }).changes;
      const requeued = this.statements.requeueExpired.run({
        at: time,
        reason: `${expiredReason}; queued again`,
      }).changes;
      return { workers, requeued, failed };
    })();
  }

  async succeed(
    digest: string,
    worker: string,
    result: ScanResult,
    findings: readonly Finding[],
  ): Promise<boolean> {
    return this.db.transaction(() => {
      const { summary } = result;
      const updated = this.statements.succeed.run({
        digest,
        worker,
        at: result.scannedAt.getTime(),
        version: result.scannerVersion,
        critical: summary.CRITICAL,
        high: summary.HIGH,
        medium: summary.MEDIUM,
        low: summary.LOW,
        unknown: summary.UNKNOWN,
      }).changes;
      if (updated === 0) return false;
      this.statements.deleteFindings.run(digest);
      findings.forEach((finding, position) => {
        this.statements.insertFinding.run({
          digest,
          position,
          vulnerabilityId: finding.vulnerabilityId,
          pkgName: finding.pkgName,
          pkgId: finding.pkgId ?? null,
          installedVersion: finding.installedVersion,
          fixedVersion: finding.fixedVersion ?? null,
          severity: finding.severity,
          title: finding.title ?? null,
          description: finding.description ?? null,
          refs: JSON.stringify(finding.references),
          primaryUrl: finding.primaryUrl ?? null,
          target: finding.target,
          class: finding.class ?? null,
          type: finding.type ?? null,
        });
      });
      return true;
    })();
  }

  async retry(digest: string, worker: string, reason: string, nextAttemptAt: Date): Promise<boolean> {
    return this.statements.retry.run({ digest, worker, reason, next: nextAttemptAt.getTime() }).changes > 0;
  }

  async fail(
    digest: string,
    worker: string,
    status: 'failed' | 'scanner_unavailable',
    reason: string,
    at: Date,
  ): Promise<boolean> {
    return this.statements.fail.run({ digest, worker, status, reason, at: at.getTime() }).changes > 0;
  }

  async release(digest: string, worker: string, at: Date): Promise<boolean> {
    return this.statements.release.run({ digest, worker, at: at.getTime() }).changes > 0;
  }

  async find(digests: readonly string[]): Promise<Map<string, ScanRecord>> {
    const rows = this.statements.find.all(JSON.stringify(digests)) as ScanRow[];
    return new Map(rows.map((row) => [row.digest, toScanRecord(row)]));
  }

  async findings(digest: string, only?: readonly Severity[]): Promise<Finding[]> {
    const rows = (
      only === undefined
        ? this.statements.findings.all(digest)
        : this.statements.findingsOf.all(digest, JSON.stringify(only))
    ) as FindingRow[];
    return rows.map(toFinding);
  }

  async countByStatus(): Promise<Partial<Record<ScanStatus, number>>> {
    const rows = this.statements.countByStatus.all() as { status: ScanStatus; count: number }[];
    return Object.fromEntries(rows.map((row) => [row.status, row.count]));
  }
}
