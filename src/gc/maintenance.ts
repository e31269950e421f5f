import type { GcConfig } from '../config/config.js';
import type { LifecycleStore, MaintenanceKind, MaintenanceRun } from '../db/lifecycle.js';
import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { BlobStore } from '../storage/blob-store.js';
import { GarbageCollector, type GcReport } from './collector.js';
import type { BlobPromises } from './promises.js';
import { type VerifyProgress, verifyStore } from './verify.js';

export interface MaintenanceDeps {
  readonly lifecycle: LifecycleStore;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  readonly promises: BlobPromises;
  readonly gc: GcConfig;
  /** Purges upload sessions untouched for `uploads.purgeAfter`; returns how many went. */
  readonly purgeUploads: () => Promise<number>;
  /** Told how each collection ended, for the metrics. */
  readonly gcFinished?: Metrics['gcFinished'];
}

/** How often a requested run looks again for the lease while another collector holds it. */
const leasePollMs = 250;
/** How often a verification records its progress, in blobs checked. */
const progressEvery = 25;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Storage maintenance inside `mistrive serve`: garbage collection on a schedule (`gc.interval`) and
 * on request, and the integrity check on request. Every run is recorded in the metadata store, so
 * any instance can report on a run another one executes.
 */
export class Maintenance {
  readonly collector: GarbageCollector;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly deps: MaintenanceDeps) {
    this.collector = new GarbageCollector({
      lifecycle: deps.lifecycle,
      blobs: deps.blobs,
      clock: deps.clock,
      logger: deps.logger,
      promises: deps.promises,
      leaseMs: deps.gc.lease,
      purgeUploads: deps.purgeUploads,
    });
  }

  /** Starts the schedule; an interval of 0 leaves collection to requests. */
  start(): void {
    if (this.deps.gc.interval <= 0) return;
    const tick = () => {
      if (this.stopping) return;
      this.track(this.collect({ dryRun: false, scheduled: true }))
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'garbage collection failed'))
        .finally(() => {
          if (!this.stopping) this.timer = setTimeout(tick, this.deps.gc.interval);
        });
    };
    this.timer = setTimeout(tick, this.deps.gc.interval);
  }

  /** Stops the schedule and lets a run in progress stop at its next step. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  /** Records a collection run and starts it; its progress and report are read with `find`. */
  async requestGc(options: { dryRun: boolean }): Promise<MaintenanceRun> {
    const run = await this.createRun('gc', options);
    this.track(this.collect({ ...options, scheduled: false }, run.id));
    return run;
  }

  /** Records an integrity check and starts it. */
  async requestVerify(options: { repair: boolean }): Promise<MaintenanceRun> {
    const run = await this.createRun('verify', options);
    this.track(this.verify(run.id, options));
    return run;
  }

  find(id: string): Promise<MaintenanceRun | undefined> {
    return this.deps.lifecycle.findRun(id);
  }

  /**
   * One collection, awaited. A scheduled run skips when another instance is collecting; a requested
   * one waits for the lease. Resolves to the report, or undefined when skipped or stopped.
   */
  async collect(
    options: { dryRun: boolean; scheduled: boolean },
    runId?: string,
  ): Promise<GcReport | undefined> {
    const id = runId ?? (await this.createRun('gc', { dryRun: options.dryRun })).id;
    try {
      for (;;) {
        const report = await this.collector.run(id, { dryRun: options.dryRun, stopped: () => this.stopping });
        if (report !== 'busy') {
          await this.finish(id, { status: 'succeeded', report: { ...report } });
          this.deps.gcFinished?.({ report, dryRun: options.dryRun });
          if (!options.dryRun && report.bytesReclaimed + report.links.count + report.images.count > 0) {
            this.deps.logger.info(
              { run: id, bytesReclaimed: report.bytesReclaimed, blobs: report.blobs.count },
              'garbage collection reclaimed space',
            );
          }
          return report;
        }
        if (options.scheduled || this.stopping) {
          await this.finish(id, { status: 'failed', error: 'another instance was collecting' });
          this.deps.gcFinished?.('skipped');
          return undefined;
        }
        await sleep(leasePollMs);
      }
    } catch (error) {
      this.deps.logger.error({ err: error, run: id }, 'garbage collection failed');
      this.deps.gcFinished?.('failed');
      await this.finish(id, { status: 'failed', error: (error as Error).message });
      return undefined;
    }
  }

  private async verify(id: string, options: { repair: boolean }): Promise<void> {
    const { lifecycle, blobs, clock, promises } = this.deps;
    try {
      let reported = 0;
      const onProgress = (progress: VerifyProgress) => {
        if (progress.checked - reported < progressEvery && progress.checked < progress.total) return;
        reported = progress.checked;
        // Progress is best effort: a failed write must not fail the check (nor go unhandled).
        lifecycle.updateRun(id, { progress: { ...progress } }).catch(() => undefined);
      };
      const check = () =>
        verifyStore(
          { lifecycle, blobs, clock, promises },
          {
            repair: options.repair,
            onProgress,
            removeUnknown: async (files) => this.collector.removeUnknownFiles(id, files),
          },
        );
      // A repair removes files, so it takes the collector's lease like a collection.
      let report: Awaited<ReturnType<typeof check>> | 'busy';
      for (;;) {
        report = options.repair ? await this.collector.withLease(id, check) : await check();
        if (report !== 'busy' || this.stopping) break;
        await sleep(leasePollMs);
      }
      if (report === 'busy') throw new Error('the daemon stopped while another instance was collecting');
      await this.finish(id, { status: 'succeeded', report: { ...report } });
    } catch (error) {
      this.deps.logger.error({ err: error, run: id }, 'integrity check failed');
      await this.finish(id, { status: 'failed', error: (error as Error).message });
    }
  }

  private async createRun(kind: MaintenanceKind, options: Record<string, unknown>): Promise<MaintenanceRun> {
    const now = this.deps.clock.now();
    const run: MaintenanceRun = {
      id: this.deps.ids.next(),
      kind,
      options,
      status: 'running',
      progress: undefined,
      report: undefined,
      error: undefined,
      requestedAt: now,
      startedAt: now,
      finishedAt: undefined,
    };
    await this.deps.lifecycle.createRun(run);
    return run;
  }

  private finish(
    id: string,
    outcome: { status: 'succeeded'; report: Record<string, unknown> } | { status: 'failed'; error: string },
  ): Promise<void> {
    return this.deps.lifecycle.updateRun(id, { ...outcome, finishedAt: this.deps.clock.now() });
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    work.then(
      () => this.inFlight.delete(work),
      () => this.inFlight.delete(work),
    );
    return work;
  }
}
