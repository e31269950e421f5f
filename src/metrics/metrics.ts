import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { CleanupRun } from '../db/cleanup.js';
import type { ScanStatus } from '../db/scans.js';
import type { GcReport } from '../gc/collector.js';
import { type FinishedRequest, RequestStats } from './request-stats.js';
import { uploadFamily } from './route-families.js';

/** Counts one refusal by a limit (its name, e.g. `sign-in-failures`): how each limit reports to the metrics. */
export type RateLimitRefused = (limit: string) => void;

/** Where the scan queue's depth is read, at each scrape. */
export type ScanQueueDepth = () => Promise<Partial<Record<ScanStatus, number>>>;

/**
 * The registry's Prometheus metrics, each instance its own registry. Per-request figures are plain
 * numbers (`RequestStats`), written out at scrape time; rarer events use prom-client's instruments.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new RequestStats();
  private readonly rateLimitRefusals: Counter<string>;
  private readonly gcRuns: Counter<string>;
  private readonly gcBytes: Counter<string>;
  private readonly cleanupRuns: Counter<string>;
  private readonly cleanupBytes: Counter<string>;

  constructor(scanQueueDepth?: ScanQueueDepth) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.rateLimitRefusals = new Counter({
      name: 'mistrive_rate_limit_refusals_total',
      help: 'Requests refused with 429 by a limit, by the limit’s name.',
      labelNames: ['limit'],
      registers,
    });
    this.gcRuns = new Counter({
      name: 'mistrive_gc_runs_total',
      help: 'Garbage collection runs, by outcome (succeeded, dry-run, skipped, failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.gcBytes = new Counter({
      name: 'mistrive_gc_reclaimed_bytes_total',
      help: 'Bytes the garbage collector removed from the blob store.',
      registers,
    });
    this.cleanupRuns = new Counter({
      name: 'mistrive_cleanup_runs_total',
      help: 'Cleanup policy runs over one repository, by mode (applied, dry-run).',
      labelNames: ['mode'],
      registers,
    });
    this.cleanupBytes = new Counter({
      name: 'mistrive_cleanup_freed_bytes_total',
      help: 'Bytes cleanup policies let go of (collected later by the garbage collector).',
      registers,
    });
    if (scanQueueDepth) {
      new Gauge({
        name: 'mistrive_scan_jobs',
        help: 'Vulnerability scans in the metadata store, by status (queued and running are the queue).',
        labelNames: ['status'],
        registers,
        async collect() {
          this.reset();
          for (const [status, count] of Object.entries(await scanQueueDepth())) this.set({ status }, count);
        },
      });
    }
  }

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
    this.rateLimitRefusals.inc({ limit });
  }

  /** A garbage collection ended: its report, `skipped` (another instance held the lease) or `failed`. */
  gcFinished(outcome: { report: GcReport; dryRun: boolean } | 'skipped' | 'failed'): void {
    if (typeof outcome === 'string') return void this.gcRuns.inc({ outcome });
    this.gcRuns.inc({ outcome: outcome.dryRun ? 'dry-run' : 'succeeded' });
    if (!outcome.dryRun) this.gcBytes.inc(outcome.report.bytesReclaimed);
  }

  /** A cleanup run over one repository ended. */
  cleanupFinished(run: Pick<CleanupRun, 'dryRun' | 'freedBytes'>): void {
    this.cleanupRuns.inc({ mode: run.dryRun ? 'dry-run' : 'applied' });
    if (!run.dryRun) this.cleanupBytes.inc(run.freedBytes);
  }

  /** The Prometheus text exposition of every metric. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    const body = this.requests.exposition() + (await this.registry.metrics());
    return { contentType: this.registry.contentType, body };
  }
}
