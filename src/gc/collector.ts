import { collectorLease, type LifecycleStore, type StoredBlob } from '../db/lifecycle.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { BlobPromises } from './promises.js';

/**
 * The garbage collector: online, with the daemon serving, one at a time across every instance that
 * shares the metadata store. What it removes, in this order:
 *   - deletions a collector that died left half done (invariant 4);
 *   - upload sessions untouched for `uploads.purgeAfter`;
 *   - an image's links to blobs that none of its manifests references, once no client has been
 *     told of them for `gc.delay` (what a blob DELETE, a manifest delete or an abandoned push leaves);
 *   - image records with no manifest, no blob and no upload, untouched for `gc.delay`;
 *   - scan results and queued scans of digests no repository holds as a manifest;
 *   - stored blobs (layers, configs, manifests' bytes) that no image links and no manifest is;
 *   - files the metadata does not know of (a crash between writing and recording), older than `gc.delay`.
 *
 * The invariants, and what keeps each:
 *   1. No stored manifest references a blob or child manifest that is gone. A link is expired only
 *      when no manifest of its image references it, in one statement; a manifest is stored only
 *      if its references are linked, checked in its own transaction. SQLite runs the two one after
 *      the other, so either the manifest sees the link gone and is refused, or the collector sees
 *      the reference and keeps the link. A blob's file is removed only after it was marked, and it
 *      is marked only while nothing links it and no manifest is it (again one statement).
 *   2. A blob a client was told exists stays at least `gc.delay` after the answer. Every such answer
 *      records a promise time on the image's link first (`BlobPromises`); a link is expired only
 *      once its promise is older than the delay (plus the promise's recording granularity).
 *   3. A manifest PUT racing the sweep of one of its blobs is stored with the blob kept, or refused
 *      with MANIFEST_BLOB_UNKNOWN: it is (1) seen from the other side. Pushes that write bytes meet
 *      the sweep in the blob's `deleting` state (see `store-bytes.ts`): a push never records a blob
 *      a live collector has marked, and checks its bytes are in place after recording.
 *   4. A kill at any moment leaves the store consistent: marks are committed before any file is
 *      unlinked, a file is forgotten only after it is gone, and a mark whose collector's lease
 *      expired is finished by the next run (or taken back by a push that needs the blob).
 *      Files the metadata never recorded are found by walking the store.
 */

/** Rows handled per transaction: short enough that pushes never wait long on the write lock. */
const batchSize = 500;
/** Files unlinked at once. */
const unlinkConcurrency = 32;
/** Items listed per category in a report; counts and bytes are always complete. */
const listedItems = 1000;

export interface Removed {
  count: number;
  bytes: number;
  /** The first items (digests, image names, `IMAGE@DIGEST` links); `count` says how many there were. */
  items: string[];
}

export interface GcReport {
  readonly dryRun: boolean;
  /** Bytes freed on disk (or that would be): removed blobs and unknown files. */
  readonly bytesReclaimed: number;
  readonly blobs: Removed;
  readonly unknownFiles: Removed;
  readonly links: Removed;
  readonly images: Removed;
  readonly scans: Removed;
  readonly uploads: Removed;
  /** Deletions an interrupted run had started, finished by this one. */
  readonly resumed: Removed;
}

export interface CollectorDeps {
  readonly lifecycle: LifecycleStore;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly promises: BlobPromises;
  readonly leaseMs: number;
  /** Purges upload sessions untouched for `uploads.purgeAfter`; returns how many went. */
  readonly purgeUploads: () => Promise<number>;
}

export class LeaseLostError extends Error {
  constructor() {
    super('the collector lost its lease in the metadata store (another instance took over)');
    this.name = 'LeaseLostError';
  }
}

const emptyRemoved = (): Removed => ({ count: 0, bytes: 0, items: [] });

function add(removed: Removed, item: string, bytes = 0): void {
  removed.count++;
  removed.bytes += bytes;
  if (removed.items.length < listedItems) removed.items.push(item);
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class GarbageCollector {
  constructor(private readonly deps: CollectorDeps) {}

  /**
   * One collection as `holder` (a run ID). Resolves to `busy` when another collector holds the
   * lease. A dry run changes nothing and takes no lease: it reports what a run now would remove.
   */
  async run(
    holder: string,
    options: { dryRun: boolean; stopped?: () => boolean },
  ): Promise<GcReport | 'busy'> {
    const report = {
      dryRun: options.dryRun,
      bytesReclaimed: 0,
      blobs: emptyRemoved(),
      unknownFiles: emptyRemoved(),
      links: emptyRemoved(),
      images: emptyRemoved(),
      scans: emptyRemoved(),
      uploads: emptyRemoved(),
      resumed: emptyRemoved(),
    };
    if (options.dryRun) {
      await this.preview(report);
    } else {
      if (!(await this.renewLease(holder))) return 'busy';
      try {
        await new Sweep(this.deps, holder, report, options.stopped ?? (() => false), () =>
          this.renewLease(holder),
        ).run();
      } finally {
        await this.deps.lifecycle.releaseLease(collectorLease, holder);
      }
    }
    report.bytesReclaimed = report.blobs.bytes + report.unknownFiles.bytes + report.resumed.bytes;
    return report;
  }

  /**
   * Removes files the metadata does not know of, the collector's way (marked, unlinked, forgotten),
   * as `holder`, which must hold the lease (`withLease`). Returns the digests removed.
   */
  async removeUnknownFiles(holder: string, files: readonly StoredBlob[]): Promise<string[]> {
    const claimed = new Set(await this.deps.lifecycle.claimUnknown(files, holder, this.deps.clock.now()));
    const removed = emptyRemoved();
    await unlinkMarked(
      this.deps,
      holder,
      files.filter((file) => claimed.has(file.digest)),
      removed,
      () => this.renewLease(holder),
    );
    return [...claimed];
  }

  /** Runs `work` holding the collector's lease as `holder`; `busy` when another collector holds it. */
  async withLease<T>(holder: string, work: () => Promise<T>): Promise<T | 'busy'> {
    if (!(await this.renewLease(holder))) return 'busy';
    // A failed renewal is seen by the next unlink, which checks the lease itself.
    const renewal = setInterval(
      () => this.renewLease(holder).catch(() => false),
      Math.max(this.deps.leaseMs / 3, 10),
    );
    try {
      return await work();
    } finally {
      clearInterval(renewal);
      await this.deps.lifecycle.releaseLease(collectorLease, holder);
    }
  }

  private renewLease(holder: string): Promise<boolean> {
    const now = this.deps.clock.now();
    return this.deps.lifecycle.acquireLease(
      collectorLease,
      holder,
      now,
      new Date(now.getTime() + this.deps.leaseMs),
    );
  }

  /** What a run now would remove, read without changing anything. */
  private async preview(report: GcReport): Promise<void> {
    const { lifecycle, clock, promises } = this.deps;
    const now = clock.now();
    const before = promises.expiredBefore(now);
    for (let after: Parameters<LifecycleStore['expirableLinks']>[1]; ; ) {
      const links = await lifecycle.expirableLinks(before, after, batchSize);
      for (const link of links) add(report.links, `${link.image}@${link.digest}`);
      after = links.at(-1);
      if (links.length < batchSize) break;
    }
    for (const image of await lifecycle.emptyImages(before)) add(report.images, image.name);
    for (const digest of await lifecycle.orphanScans()) add(report.scans, digest);
    for (let after = ''; ; ) {
      const blobs = await lifecycle.unreferencedBlobs(after, batchSize, before);
      for (const blob of blobs) add(report.blobs, blob.digest, (await this.sizeOf(blob)) ?? 0);
      after = blobs.at(-1)?.digest ?? after;
      if (blobs.length < batchSize) break;
    }
    for await (const batch of unknownFiles(this.deps, before)) {
      for (const file of batch) add(report.unknownFiles, file.digest, file.size ?? 0);
    }
  }

  private async sizeOf(blob: StoredBlob): Promise<number | undefined> {
    return blob.size ?? (await this.deps.blobs.stat(blob.digest));
  }
}

/** One run that removes things, holding the lease. */
class Sweep {
  constructor(
    private readonly deps: CollectorDeps,
    private readonly holder: string,
    private readonly report: GcReport,
    private readonly stopped: () => boolean,
    private readonly renewLease: () => Promise<boolean>,
  ) {}

  async run(): Promise<void> {
    const steps = [
      () => this.resumeInterrupted(),
      () => this.purgeUploads(),
      () => this.expireLinks(),
      () => this.removeEmptyImages(),
      () => this.removeOrphanScans(),
      () => this.removeUnreferencedBlobs(),
      () => this.removeUnknownFiles(),
    ];
    for (const step of steps) {
      if (this.stopped()) return;
      if (!(await this.renewLease())) throw new LeaseLostError();
      await step();
    }
  }

  private get now(): Date {
    return this.deps.clock.now();
  }

  /** Invariant 4: marks left by a collector that died are finished (their files unlinked, rows forgotten). */
  private async resumeInterrupted(): Promise<void> {
    for (;;) {
      const blobs = await this.deps.lifecycle.interruptedDeletions(this.holder, this.now, batchSize);
      await this.unlinkMarked(blobs, this.report.resumed);
      if (blobs.length < batchSize) return;
    }
  }

  private async purgeUploads(): Promise<void> {
    const purged = await this.deps.purgeUploads();
    this.report.uploads.count += purged;
  }

  private async expireLinks(): Promise<void> {
    const { lifecycle, promises } = this.deps;
    const before = promises.expiredBefore(this.now);
    for (let after: Parameters<LifecycleStore['expirableLinks']>[1]; ; ) {
      const links = await lifecycle.expirableLinks(before, after, batchSize);
      for (const link of await lifecycle.expireLinks(links, before)) {
        add(this.report.links, `${link.image}@${link.digest}`);
      }
      after = links.at(-1);
      if (links.length < batchSize || this.stopped()) return;
      await nextTurn();
    }
  }

  private async removeEmptyImages(): Promise<void> {
    const { lifecycle, promises } = this.deps;
    const before = promises.expiredBefore(this.now);
    const removed = await lifecycle.deleteEmptyImages(await lifecycle.emptyImages(before), before);
    for (const image of removed) add(this.report.images, image.name);
  }

  private async removeOrphanScans(): Promise<void> {
    const { lifecycle } = this.deps;
    for (const digest of await lifecycle.deleteOrphanScans(await lifecycle.orphanScans())) {
      add(this.report.scans, digest);
    }
  }

  private async removeUnreferencedBlobs(): Promise<void> {
    const { lifecycle } = this.deps;
    for (let after = ''; ; ) {
      const candidates = await lifecycle.unreferencedBlobs(after, batchSize);
      if (candidates.length === 0 || this.stopped()) return;
      after = candidates.at(-1)?.digest ?? after;
      if (!(await this.renewLease())) throw new LeaseLostError();
      // Re-checked and marked in one transaction: a push that linked one since the query keeps it.
      const marked = new Set(
        await lifecycle.markDeleting(
          candidates.map((blob) => blob.digest),
          this.holder,
          this.now,
        ),
      );
      await this.unlinkMarked(
        candidates.filter((blob) => marked.has(blob.digest)),
        this.report.blobs,
      );
      await nextTurn();
    }
  }

  /** Files the metadata never recorded: marked first, like any blob, so a push committing the same digest waits. */
  private async removeUnknownFiles(): Promise<void> {
    const before = this.deps.promises.expiredBefore(this.now);
    for await (const batch of unknownFiles(this.deps, before)) {
      if (this.stopped()) return;
      if (!(await this.renewLease())) throw new LeaseLostError();
      const claimed = new Set(await this.deps.lifecycle.claimUnknown(batch, this.holder, this.now));
      await this.unlinkMarked(
        batch.filter((file) => claimed.has(file.digest)),
        this.report.unknownFiles,
      );
    }
  }

  private unlinkMarked(blobs: readonly StoredBlob[], removed: Removed): Promise<void> {
    return unlinkMarked(this.deps, this.holder, blobs, removed, this.renewLease);
  }
}

/** Unlinks files `holder` has marked, then forgets them: in that order, so a crash leaves a mark to finish. */
async function unlinkMarked(
  deps: Pick<CollectorDeps, 'blobs' | 'lifecycle'>,
  holder: string,
  blobs: readonly StoredBlob[],
  removed: Removed,
  renewLease: () => Promise<boolean>,
): Promise<void> {
  if (blobs.length === 0) return;
  // Unlinked a few at a time: a sweep of 50,000 files should not wait on each unlink in turn.
  for (let start = 0; start < blobs.length; start += unlinkConcurrency) {
    // A collector that stalled past its lease may have had its marks taken back by a push: it
    // must not unlink what that push has put back in place.
    if (!(await renewLease())) throw new LeaseLostError();
    const slice = blobs.slice(start, start + unlinkConcurrency);
    const sizes = await Promise.all(
      slice.map(async (blob) => {
        const size = blob.size ?? (await deps.blobs.stat(blob.digest)) ?? 0;
        return (await deps.blobs.delete(blob.digest)) ? size : 0;
      }),
    );
    slice.forEach((blob, i) => {
      add(removed, blob.digest, sizes[i] ?? 0);
    });
  }
  await deps.lifecycle.forgetDeleted(
    blobs.map((blob) => blob.digest),
    holder,
  );
}

/** Files in the blob store older than `before` that the metadata does not know of, in batches. */
async function* unknownFiles(
  deps: Pick<CollectorDeps, 'blobs' | 'lifecycle'>,
  before: Date,
): AsyncIterable<StoredBlob[]> {
  let batch: StoredBlob[] = [];
  const flush = async () => {
    const known = await deps.lifecycle.knownBlobs(batch.map((file) => file.digest));
    const unknown = batch.filter((file) => !known.has(file.digest));
    batch = [];
    return unknown;
  };
  for await (const file of deps.blobs.list()) {
    if (file.modifiedAt >= before) continue;
    batch.push({ digest: file.digest, size: file.size });
    if (batch.length >= batchSize) {
      const unknown = await flush();
      if (unknown.length > 0) yield unknown;
    }
  }
  const unknown = await flush();
  if (unknown.length > 0) yield unknown;
}
