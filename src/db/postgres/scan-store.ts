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
import { type PostgresDatabase, sql } from './database.js';

const scanCounts = sql('SELECT status, count(*) AS count FROM scans GROUP BY status');

const statements = {
  enqueue: sql(
    `INSERT INTO scans (digest, status, attempts, queued_at, next_attempt_at) VALUES (@digest, 'queued', 0, @at, @at)
     ON CONFLICT (digest) DO UPDATE SET status = 'queued', reason = NULL, attempts = 0,
       queued_at = @at, next_attempt_at = @at, started_at = NULL, finished_at = NULL
     WHERE scans.status IN ('failed', 'scanner_unavailable')`,
  ),
  requeue: sql(
    `INSERT INTO scans (digest, status, attempts, queued_at, next_attempt_at) VALUES (@digest, 'queued', 0, @at, @at)
     ON CONFLICT (digest) DO UPDATE SET status = 'queued', reason = NULL, attempts = 0,
       queued_at = @at, next_attempt_at = @at, started_at = NULL, finished_at = NULL
     WHERE scans.status NOT IN ('queued', 'scanning')`,
  ),
  markUnsupported: sql(
    `INSERT INTO scans (digest, status, reason, attempts, queued_at, next_attempt_at, finished_at)
     VALUES (@digest, 'unsupported', @reason, 0, @at, @at, @at) ON CONFLICT (digest) DO NOTHING`,
  ),
  // Instances polling at once each take a different job: a row another is taking is skipped.
  claim: sql(
    `UPDATE scans SET status = 'scanning', attempts = attempts + 1, started_at = @at, finished_at = NULL,
       claimed_by = @worker, lease_expires_at = @lease
     WHERE digest = (SELECT digest FROM scans WHERE status = 'queued' AND next_attempt_at <= @at
                     ORDER BY next_attempt_at, queued_at LIMIT 1 FOR UPDATE SKIP LOCKED)
       AND status = 'queued'
     RETURNING digest, attempts`,
    'scans.claim',
  ),
  renewLease: sql(
    `UPDATE scans SET lease_expires_at = @until
     WHERE digest = @digest AND status = 'scanning' AND claimed_by = @worker`,
  ),
  expiredWorkers: sql(
    `SELECT DISTINCT claimed_by FROM scans
     WHERE status = 'scanning' AND lease_expires_at < @at AND claimed_by IS NOT NULL`,
  ),
  failExpired: sql(
    `UPDATE scans SET status = 'failed', reason = @reason, finished_at = @at, claimed_by = NULL,
       lease_expires_at = NULL
     WHERE status = 'scanning' AND lease_expires_at < @at AND attempts >= @maxAttempts`,
  ),
  requeueExpired: sql(
    `UPDATE scans SET status = 'queued', reason = @reason, next_attempt_at = @at, claimed_by = NULL,
       lease_expires_at = NULL
     WHERE status = 'scanning' AND lease_expires_at < @at`,
  ),
  succeed: sql(
    `UPDATE scans SET status = 'succeeded', reason = NULL, finished_at = @at, claimed_by = NULL,
       lease_expires_at = NULL, scanned_at = @at, scanner_version = @version,
       critical = @critical, high = @high, medium = @medium, low = @low, unknown = @unknown
     WHERE digest = @digest AND status = 'scanning' AND claimed_by = @worker`,
  ),
  deleteFindings: sql('DELETE FROM scan_findings WHERE digest = @digest'),
  // Every finding in one statement: a report can hold thousands.
  insertFindings: sql(
    `INSERT INTO scan_findings (digest, position, vulnerability_id, pkg_name, pkg_id, installed_version,
       fixed_version, severity, title, description, refs, primary_url, target, class, type)
     SELECT @digest, f.position, f.vulnerability_id, f.pkg_name, f.pkg_id, f.installed_version,
       f.fixed_version, f.severity, f.title, f.description, f.refs, f.primary_url, f.target, f.class, f.type
     FROM jsonb_to_recordset(@findings::jsonb) AS f(position integer, vulnerability_id text, pkg_name text,
       pkg_id text, installed_version text, fixed_version text, severity text, title text, description text,
       refs jsonb, primary_url text, target text, class text, type text)`,
  ),
  retry: sql(
    `UPDATE scans SET status = 'queued', reason = @reason, next_attempt_at = @next, claimed_by = NULL,
       lease_expires_at = NULL
     WHERE digest = @digest AND status = 'scanning' AND claimed_by = @worker`,
  ),
  fail: sql(
    `UPDATE scans SET status = @status, reason = @reason, finished_at = @at, claimed_by = NULL,
       lease_expires_at = NULL
     WHERE digest = @digest AND status = 'scanning' AND claimed_by = @worker`,
  ),
  release: sql(
    `UPDATE scans SET status = 'queued', attempts = greatest(attempts - 1, 0), next_attempt_at = @at,
       claimed_by = NULL, lease_expires_at = NULL
     WHERE digest = @digest AND status = 'scanning' AND claimed_by = @worker`,
  ),
  find: sql('SELECT * FROM scans WHERE digest = ANY(@digests::text[])'),
  findings: sql(`SELECT * FROM scan_findings WHERE digest = @digest ORDER BY ${severityRank}, position`),
  findingsOf: sql(
    `SELECT * FROM scan_findings WHERE digest = @digest AND severity = ANY(@only::text[])
     ORDER BY ${severityRank}, position`,
  ),
};

export class PostgresScanStore implements ScanStore {
  constructor(private readonly db: PostgresDatabase) {}

  async enqueue(digest: string, at: Date): Promise<boolean> {
    return (await this.db.run(statements.enqueue, { digest, at: at.getTime() })) > 0;
  }

  async requeue(digest: string, at: Date): Promise<boolean> {
    return (await this.db.run(statements.requeue, { digest, at: at.getTime() })) > 0;
  }

  async markUnsupported(digest: string, reason: string, at: Date): Promise<void> {
    await this.db.run(statements.markUnsupported, { digest, reason, at: at.getTime() });
  }

  async claim(worker: string, at: Date, leaseUntil: Date): Promise<ScanClaim | undefined> {
    const row = await this.db.row<{ digest: string; attempts: number }>(statements.claim, {
      worker,
      at: at.getTime(),
      lease: leaseUntil.getTime(),
    });
    return row && { digest: row.digest, attempt: row.attempts };
  }

  async renewLease(digest: string, worker: string, until: Date): Promise<boolean> {
    return (await this.db.run(statements.renewLease, { digest, worker, until: until.getTime() })) > 0;
  }

  async recoverExpired(at: Date, maxAttempts: number): Promise<ExpiredClaims> {
    return this.db.transaction(async (tx) => {
      const time = at.getTime();
      const workers = (await tx.rows<{ claimed_by: string }>(statements.expiredWorkers, { at: time })).map(
        (row) => row.claimed_by,
      );
      if (workers.length === 0) return { workers, requeued: 0, failed: 0 };
      const failed = await tx.run(statements.failExpired, { at: time, maxAttempts, reason: expiredReason });
      const requeued = await tx.run(statements.requeueExpired, {
        at: time,
        reason: `${expiredReason}; queued again`,
      });
      return { workers, requeued, failed };
    });
  }

  async succeed(
    digest: string,
    worker: string,
    result: ScanResult,
    findings: readonly Finding[],
  ): Promise<boolean> {
    const rows = findings.map((finding, position) => ({
      position,
      vulnerability_id: finding.vulnerabilityId,
      pkg_name: finding.pkgName,
      pkg_id: finding.pkgId ?? null,
      installed_version: finding.installedVersion,
      fixed_version: finding.fixedVersion ?? null,
      severity: finding.severity,
      title: finding.title ?? null,
      description: finding.description ?? null,
      refs: finding.references,
      primary_url: finding.primaryUrl ?? null,
      target: finding.target,
      class: finding.class ?? null,
      type: finding.type ?? null,
    }));
    return this.db.transaction(async (tx) => {
      const { summary } = result;
      const updated = await tx.run(statements.succeed, {
        digest,
        worker,
        at: result.scannedAt.getTime(),
        version: result.scannerVersion,
        critical: summary.CRITICAL,
        high: summary.HIGH,
        medium: summary.MEDIUM,
        low: summary.LOW,
        unknown: summary.UNKNOWN,
      });
      if (updated === 0) return false;
      await tx.run(statements.deleteFindings, { digest });
      if (rows.length > 0)
        await tx.run(statements.insertFindings, { digest, findings: JSON.stringify(rows) });
      return true;
    });
  }

  async retry(digest: string, worker: string, reason: string, nextAttemptAt: Date): Promise<boolean> {
    return (
      (await this.db.run(statements.retry, { digest, worker, reason, next: nextAttemptAt.getTime() })) > 0
    );
  }

  async fail(
    digest: string,
    worker: string,
    status: 'failed' | 'scanner_unavailable',
    reason: string,
    at: Date,
  ): Promise<boolean> {
    return (await this.db.run(statements.fail, { digest, worker, status, reason, at: at.getTime() })) > 0;
  }

  async release(digest: string, worker: string, at: Date): Promise<boolean> {
    return (await this.db.run(statements.release, { digest, worker, at: at.getTime() })) > 0;
  }

  async find(digests: readonly string[]): Promise<Map<string, ScanRecord>> {
    const rows = await this.db.rows<ScanRow>(statements.find, { digests: [...digests] });
    return new Map(rows.map((row) => [row.digest, toScanRecord(row)]));
  }

  async findings(digest: string, only?: readonly Severity[]): Promise<Finding[]> {
    const rows =
      only === undefined
        ? await this.db.rows<FindingRow>(statements.findings, { digest })
        : await this.db.rows<FindingRow>(statements.findingsOf, { digest, only: [...only] });
    return rows.map(toFinding);
  }

  async countByStatus(): Promise<Partial<Record<ScanStatus, number>>> {
    const rows = await this.db.rows<{ status: ScanStatus; count: number }>(scanCounts);
    return Object.fromEntries(rows.map((row) => [row.status, row.count]));
  }
}
