import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScanClaim, ScanStore } from '../db/scans.js';
import type { RegistryEvents } from '../events/registry-events.js';
import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import { Wakeups } from '../lib/wakeups.js';
import type { BlobStore } from '../storage/blob-store.js';
import { type LaidOut, writeImageLayout } from './image-layout.js';
import { ScanCancelled, ScanFailure, type Scanner, type ScanReport } from './scanner.js';

export interface ScanWorkerOptions {
  /** How many scans run at once on this instance; 0 runs none. */
  readonly workers: number;
  readonly timeout: number;
  readonly maxAttempts: number;
  /** The wait before the second attempt, doubled for each one after. */
  readonly retryBackoff: number;
  readonly pollInterval: number;
  readonly lease: number;
  /** Each worker assembles its image layout in WORKDIR/WORKER_ID, removed after each scan. */
  readonly workDir: string;
}

export interface ScanWorkerDependencies {
  readonly store: ScanStore;
  readonly blobs: BlobStore;
  readonly scanner: Scanner;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  /** Told when a scan ends for good (succeeded, or failed with no attempt left). */
  readonly events: RegistryEvents;
}

/**
 * Runs queued scans, a bounded number at a time. Jobs are claimed from the store, so instances
 * sharing a store share the queue; a claim is a lease the worker renews while it scans, and a job
 * whose lease runs out (its instance died) is queued again by whichever instance notices first.
 */
export class ScanWorkers {
  private readonly abort = new AbortController();
  private readonly wakeups: Wakeups;
  private loops: Promise<void>[] = [];
  private stopping = false;

  constructor(
    private readonly deps: ScanWorkerDependencies,
    private readonly options: ScanWorkerOptions,
  ) {
    this.wakeups = new Wakeups(options.pollInterval);
  }

  start(): void {
    if (this.loops.length > 0 || this.stopping || this.options.workers === 0) return;
    const ready = this.removeStaleWorkDirs();
    for (let index = 0; index < this.options.workers; index++) {
      this.loops.push(ready.then(() => this.loop(this.deps.ids.next())));
    }
  }

  /** Tells idle workers that a job was queued, instead of waiting for their next poll. */
  wake(): void {
    this.wakeups.wake();
  }

  /** Stops claiming, stops running scans and gives their jobs back to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.wakeups.stop();
    await Promise.all(this.loops);
  }

  private async loop(worker: string): Promise<void> {
    while (!this.stopping) {
      const seen = this.wakeups.seen();
      let claim: ScanClaim | undefined;
      try {
        await this.recoverExpired();
        const now = this.deps.clock.now();
        claim = await this.deps.store.claim(worker, now, this.after(now, this.options.lease));
      } catch (error) {
        this.deps.logger.error({ err: error }, 'scan queue unavailable');
      }
      if (claim) await this.run(worker, claim);
      else await this.wakeups.idle(seen);
    }
  }

  private async run(worker: string, claim: ScanClaim): Promise<void> {
    const { store, clock, logger } = this.deps;
    const { digest, attempt } = claim;
    const dir = join(this.options.workDir, worker);
    const started = clock.now();
    const heartbeat = setInterval(
      () => {
        store.renewLease(digest, worker, this.after(clock.now(), this.options.lease)).then(
          (held) => {
            if (!held) logger.warn({ digest }, 'scan lease lost: another instance may have taken the job');
          },
          (error: unknown) => logger.error({ err: error, digest }, 'renewing the scan lease failed'),
        );
      },
      Math.max(10, Math.floor(this.options.lease / 3)),
    );
    logger.info({ digest, attempt }, 'scan started');
    try {
      let scanned: { report: ScanReport; laidOut: LaidOut } | { error: unknown };
      try {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        const laidOut = await writeImageLayout(this.deps.blobs, digest, dir);
        const report = await this.deps.scanner.scan(dir, {
          timeout: this.options.timeout,
          signal: this.abort.signal,
        });
        scanned = { report, laidOut };
      } catch (error) {
        scanned = { error };
      } finally {
        // Gone before the outcome is recorded: a finished scan never leaves its layout behind.
        await rm(dir, { recursive: true, force: true }).catch((error: unknown) =>
          logger.warn({ err: error, dir }, 'removing a scan work directory failed'),
        );
      }
      if ('error' in scanned) {
        await this.settle(worker, claim, scanned.error);
        return;
      }
      const { report, laidOut } = scanned;
      const finished = clock.now();
      const stored = await store.succeed(
        digest,
        worker,
        { scannedAt: finished, scannerVersion: report.scannerVersion, summary: report.summary },
        report.findings,
      );
      if (stored) {
        await this.deps.events.emit({
          type: 'scan-finished',
          digest,
          status: 'succeeded',
          summary: report.summary,
        });
        logger.info(
          {
            digest,
            attempt,
            ms: finished.getTime() - started.getTime(),
            ...laidOut,
            summary: report.summary,
          },
          'scan succeeded',
        );
      } else {
        logger.warn({ digest }, 'scan finished after its job was taken over: result dropped');
      }
    } catch (error) {
      // The store could not be written; the lease runs out and the job is taken back.
      logger.error({ err: error, digest }, 'recording the scan outcome failed');
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Records why a scan did not succeed: queued again while attempts remain for failures that may pass. */
  private async settle(worker: string, claim: ScanClaim, error: unknown): Promise<void> {
    const { store, clock, logger } = this.deps;
    const { digest, attempt } = claim;
    const now = clock.now();
    if (error instanceof ScanCancelled || (this.stopping && !(error instanceof ScanFailure))) {
      await store.release(digest, worker, now);
      logger.info({ digest }, 'scan stopped by shutdown: queued again');
      return;
    }
    const failure =
      error instanceof ScanFailure
        ? error
        : new ScanFailure('transient', `the scan could not run: ${(error as Error).message}`);
    if (failure.kind === 'unavailable') {
      if (await store.fail(digest, worker, 'scanner_unavailable', failure.message, now)) {
        await this.finishedWithout('scanner_unavailable', digest, failure.message);
      }
      logger.error({ digest, reason: failure.message }, 'scanner unavailable');
      return;
    }
    const { maxAttempts, retryBackoff } = this.options;
    if (failure.kind === 'transient' && attempt < maxAttempts) {
      const delay = retryBackoff * 2 ** (attempt - 1);
      const next = this.after(now, delay);
      await store.retry(
        digest,
        worker,
        `attempt ${attempt} of ${maxAttempts} failed, retrying at ${next.toISOString()}: ${failure.message}`,
        next,
      );
      logger.warn({ digest, attempt, reason: failure.message, retryInMs: delay }, 'scan failed: will retry');
      this.wakeups.wakeAfter(delay);
      return;
    }
    const reason =
      failure.kind === 'transient' && maxAttempts > 1
        ? `${failure.message} (attempt ${attempt} of ${maxAttempts})`
        : failure.message;
    if (await store.fail(digest, worker, 'failed', reason, now)) {
      await this.finishedWithout('failed', digest, reason);
    }
    logger.error({ digest, attempt, reason }, 'scan failed');
  }

  private finishedWithout(status: 'failed' | 'scanner_unavailable', digest: string, reason: string) {
    return this.deps.events.emit({ type: 'scan-finished', digest, status, reason });
  }

  /** Jobs of instances that stopped mid-scan go back to the queue, and their work directories go. */
  private async recoverExpired(): Promise<void> {
    const expired = await this.deps.store.recoverExpired(this.deps.clock.now(), this.options.maxAttempts);
    if (expired.workers.length === 0) return;
    this.deps.logger.warn(
      { requeued: expired.requeued, failed: expired.failed },
      'took back scans whose instance stopped before finishing them',
    );
    for (const worker of expired.workers) {
      await rm(join(this.options.workDir, worker), { recursive: true, force: true });
    }
  }

  /** Work directories left by a crash, older than any scan can run, are removed at start. */
  private async removeStaleWorkDirs(): Promise<void> {
    const { workDir, timeout, lease } = this.options;
    try {
      await mkdir(workDir, { recursive: true });
      const cutoff = this.deps.clock.now().getTime() - timeout - 2 * lease;
      for (const entry of await readdir(workDir)) {
        const path = join(workDir, entry);
        const info = await stat(path).catch(() => undefined);
        if (info && info.mtime.getTime() < cutoff) await rm(path, { recursive: true, force: true });
      }
    } catch (error) {
      this.deps.logger.warn({ err: error, workDir }, 'tidying the scan work directory failed');
    }
  }

  private after(from: Date, ms: number): Date {
    return new Date(from.getTime() + ms);
  }
}
