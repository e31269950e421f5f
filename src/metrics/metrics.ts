import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { CleanupRun } from '../db/cleanup.js';
import type { ScanStatus } from '../db/scans.js';
import type { GcReport } from '../gc/collector.js';
import { uploadFamily } from './route-families.js';

/** Counts one refusal by a limit (its name, e.g. `sign-in-failures`): how each limit reports to the metrics. */
export type RateLimitRefused = (limit: string) => void;

/** What a finished request tells the metrics. */
export interface FinishedRequest {
  readonly family: string;
  readonly method: string;
  readonly status: number;
  readonly seconds: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** The instruments one label combination of a request uses, looked up once and kept. */
interface RequestInstruments {
  readonly count: Counter.Internal;
  readonly duration: Histogram.Internal<string>;
  readonly bytesIn: Counter.Internal;
  readonly bytesOut: Counter.Internal;
}

/** Where the scan queue's depth is read, at each scrape. */
export type ScanQueueDepth = () => Promise<Partial<Record<ScanStatus, number>>>;

/** Seconds: from a cached manifest answer (about a millisecond) up to a long blob transfer. */
const durationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The registry's Prometheus metrics, each instance its own registry. The request path is kept
 * cheap: each label combination's instruments are looked up once, then only incremented.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<string>;
  private readonly durations: Histogram<string>;
  private readonly bytesIn: Counter<string>;
  private readonly bytesOut: Counter<string>;
  private readonly uploads: Gauge<string>;
  private readonly rateLimitRefusals: Counter<string>;
  private readonly gcRuns: Counter<string>;
  private readonly gcBytes: Counter<string>;
  private readonly cleanupRuns: Counter<string>;
  private readonly cleanupBytes: Counter<string>;
  private readonly instruments = new Map<string, RequestInstruments>();

  constructor(scanQueueDepth?: ScanQueueDepth) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'mistrive_http_requests_total',
      help: 'HTTP requests answered, by route family, method and status.',
      labelNames: ['family', 'method', 'status'],
      registers,
    });
    this.durations = new Histogram({
      name: 'mistrive_http_request_duration_seconds',
      help: 'Time from a request’s arrival to the end of its response, by route family and method.',
      labelNames: ['family', 'method'],
      buckets: durationBuckets,
      registers,
    });
    this.bytesIn = new Counter({
      name: 'mistrive_http_received_bytes_total',
      help: 'Bytes read from clients while their requests were served, by route family.',
      labelNames: ['family'],
      registers,
    });
    this.bytesOut = new Counter({
      name: 'mistrive_http_sent_bytes_total',
      help: 'Bytes written to clients (headers and bodies), by route family.',
      labelNames: ['family'],
      registers,
    });
    this.uploads = new Gauge({
      name: 'mistrive_uploads_in_progress',
      help: 'Requests to blob upload sessions (start, chunk, finish, status) this instance is serving.',
      registers,
    });
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
    if (family === uploadFamily) this.uploads.inc();
  }

  requestFinished(request: FinishedRequest): void {
    if (request.family === uploadFamily) this.uploads.dec();
    const key = `${request.family} ${request.method} ${request.status}`;
    let instruments = this.instruments.get(key);
    if (!instruments) {
      instruments = {
        count: this.requests.labels(request.family, request.method, String(request.status)),
        duration: this.durations.labels(request.family, request.method),
        bytesIn: this.bytesIn.labels(request.family),
        bytesOut: this.bytesOut.labels(request.family),
      };
      this.instruments.set(key, instruments);
    }
    instruments.count.inc();
    instruments.duration.observe(request.seconds);
    if (request.bytesIn > 0) instruments.bytesIn.inc(request.bytesIn);
    if (request.bytesOut > 0) instruments.bytesOut.inc(request.bytesOut);
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
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
