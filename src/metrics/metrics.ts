import type { Registry } from 'prom-client';
import type { CleanupRun } from '../db/cleanup.js';
import type { ScanStatus } from '../db/scans.js';
import type { GcReport } from '../gc/collector.js';
import { metricLines } from './exposition.js';
import { type FinishedRequest, RequestStats } from './request-stats.js';
import { uploadFamily } from './route-families.js';

/** Counts one refusal by a limit (its name, e.g. `sign-in-failures`): how each limit reports to the metrics. */
export type RateLimitRefused = (limit: string) => void;

/** Where the scan queue's depth is read, at each scrape. */
export type ScanQueueDepth = () => Promise<Partial<Record<ScanStatus, number>>>;

/** Adds one to the count kept under `key`. */
function bump(counts: Map<string, number>, key: string, by = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

/**
 * prom-client's process metrics (CPU, memory, event loop, garbage collection), loaded at the first
 * scrape: the library takes about 100 ms to load, which a start should not wait for.
 */
async function loadProcessMetrics(): Promise<Registry> {
  const { Registry, collectDefaultMetrics } = await import('prom-client');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The registry's Prometheus metrics. What this instance counts is kept in plain numbers (counting a
 * request is a map lookup and a few additions) and written out at scrape time, followed by
 * prom-client's process metrics.
 */
export class Metrics {
  private readonly requests = new RequestStats();
  private readonly rateLimitRefusals = new Map<string, number>();
  private readonly gcRuns = new Map<string, number>();
  private gcBytes = 0;
  private readonly cleanupRuns = new Map<string, number>();
  private cleanupBytes = 0;
  private processMetrics: Promise<Registry> | undefined;

  constructor(private readonly scanQueueDepth?: ScanQueueDepth) {}

  /** A request of `family` arrived. */
  requestStarted(family: string): void {
    if (family === uploadFamily) this.requests.uploadsInProgress++;
  }

  requestFinished(request: FinishedRequest): void {
    if (request.family === uploadFamily) this.requests.uploadsInProgress--;
    this.requests.record(request);
  }

  /**
   * A request refused by a limit (`sign-in-failures`, `connections-per-client`, and the request
   * rate limits): the one way every limit counts its refusals.
   */
  rateLimitRefused(limit: string): void {
    bump(this.rateLimitRefusals, limit);
  }

  /** A garbage collection ended: its report, `skipped` (another instance held the lease) or `failed`. */
  gcFinished(outcome: { report: GcReport; dryRun: boolean } | 'skipped' | 'failed'): void {
    if (typeof outcome === 'string') {
      bump(this.gcRuns, outcome);
    } else {
      bump(this.gcRuns, outcome.dryRun ? 'dry-run' : 'succeeded');
      if (!outcome.dryRun) this.gcBytes += outcome.report.bytesReclaimed;
    }
  }

  /** A cleanup run over one repository ended. */
  cleanupFinished(run: Pick<CleanupRun, 'dryRun' | 'freedBytes'>): void {
    bump(this.cleanupRuns, run.dryRun ? 'dry-run' : 'applied');
    if (!run.dryRun) this.cleanupBytes += run.freedBytes;
  }

  /** The Prometheus text exposition of every metric. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    this.processMetrics ??= loadProcessMetrics();
    const registry = await this.processMetrics;
    const labelled = (label: string, counts: Map<string, number>) =>
      [...counts].map(([value, count]) => [{ [label]: value }, count] as const);
    const lines = [
      ...metricLines(
        'mistrive_rate_limit_refusals_total',
        'counter',
        'Requests refused with 429 by a limit, by the limit’s name.',
        labelled('limit', this.rateLimitRefusals),
      ),
      ...metricLines(
        'mistrive_gc_runs_total',
        'counter',
        'Garbage collection runs, by outcome (succeeded, dry-run, skipped, failed).',
        labelled('outcome', this.gcRuns),
      ),
      ...metricLines(
        'mistrive_gc_reclaimed_bytes_total',
        'counter',
        'Bytes the garbage collector removed from the blob store.',
        [[{}, this.gcBytes]],
      ),
      ...metricLines(
        'mistrive_cleanup_runs_total',
        'counter',
        'Cleanup policy runs over one repository, by mode (applied, dry-run).',
        labelled('mode', this.cleanupRuns),
      ),
      ...metricLines(
        'mistrive_cleanup_freed_bytes_total',
        'counter',
        'Bytes cleanup policies let go of (collected later by the garbage collector).',
        [[{}, this.cleanupBytes]],
      ),
    ];
    if (this.scanQueueDepth) {
      const depth = await this.scanQueueDepth();
      lines.push(
        ...metricLines(
          'mistrive_scan_jobs',
          'gauge',
          'Vulnerability scans in the metadata store, by status (queued and scanning are the queue).',
          Object.entries(depth).map(([status, count]) => [{ status }, count] as const),
        ),
      );
    }
    const body = `${this.requests.exposition()}${lines.join('\n')}\n${await registry.metrics()}`;
    return { contentType: registry.contentType, body };
  }
}
