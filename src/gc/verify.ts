import { Writable } from 'node:stream';
import type { LifecycleStore } from '../db/lifecycle.js';
import type { Clock } from '../lib/clock.js';
import { createDigester, isAlgorithm } from '../oci/digest.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { BlobPromises } from './promises.js';

/** Items listed per category in a report; the counts are always complete. */
const listedItems = 1000;

export interface VerifyProgress {
  checked: number;
  total: number;
  bytesChecked: number;
  bytesTotal: number;
}

export interface CorruptBlob {
  readonly digest: string;
  /** The digest the stored bytes actually have. */
  readonly actual: string;
  readonly quarantined: boolean;
}

export interface UnknownFile {
  readonly digest: string;
  readonly size: number;
  readonly modifiedAt: string;
  readonly removed: boolean;
}

export interface VerifyReport {
  readonly repair: boolean;
  readonly checked: number;
  readonly bytesChecked: number;
  readonly corrupt: { count: number; items: CorruptBlob[] };
  readonly missing: { count: number; items: string[] };
  readonly unknown: { count: number; items: UnknownFile[] };
  /** True when every stored blob matched its digest, none was missing and no unknown file was found. */
  readonly healthy: boolean;
}

export interface VerifyDeps {
  readonly lifecycle: LifecycleStore;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly promises: BlobPromises;
}

export interface VerifyOptions {
  readonly repair: boolean;
  /**
   * Removes unknown files older than the delay the collector's way (marked, unlinked, forgotten);
   * resolves to the digests removed. Only called with `repair`, by a caller holding the collector's lease.
   */
  readonly removeUnknown?: (files: { digest: string; size: number }[]) => Promise<string[]>;
  readonly onProgress?: (progress: VerifyProgress) => void;
}

function push<T>(list: { count: number; items: T[] }, item: T): void {
  list.count++;
  if (list.items.length < listedItems) list.items.push(item);
}

/** Re-hashes a stored blob; undefined when it is missing. */
async function hashOf(blobs: BlobStore, digest: string): Promise<string | undefined> {
  const algorithm = digest.split(':')[0] ?? '';
  if (!isAlgorithm(algorithm)) return 'unknown-algorithm:';
  const hash = createDigester(algorithm);
  const sink = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done();
    },
  });
  try {
    await blobs.send(digest, sink);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return `${algorithm}:${hash.digest('hex')}`;
}

/**
 * The integrity check: re-hashes every stored blob and compares it with its digest, and reports
 * blobs the metadata names that are missing and files the metadata does not know of. With
 * `repair`, corrupt blobs are quarantined (so pulls answer BLOB_UNKNOWN instead of wrong bytes)
 * and unknown files older than `gc.delay` are removed.
 */
export async function verifyStore(deps: VerifyDeps, options: VerifyOptions): Promise<VerifyReport> {
  const { blobs, lifecycle } = deps;
  const files = new Map<string, { size: number; modifiedAt: Date }>();
  for await (const file of blobs.list())
    files.set(file.digest, { size: file.size, modifiedAt: file.modifiedAt });
  const progress: VerifyProgress = {
    checked: 0,
    total: files.size,
    bytesChecked: 0,
    bytesTotal: [...files.values()].reduce((sum, file) => sum + file.size, 0),
  };
  options.onProgress?.({ ...progress });
  const report = {
    repair: options.repair,
    checked: 0,
    bytesChecked: 0,
    corrupt: { count: 0, items: [] as CorruptBlob[] },
    missing: { count: 0, items: [] as string[] },
    unknown: { count: 0, items: [] as UnknownFile[] },
    healthy: true,
  };
  const known = new Set<string>();
  for (let after = ''; ; ) {
    const page = await lifecycle.storedBlobs(after, 500);
    for (const blob of page) {
      known.add(blob.digest);
      const actual = await hashOf(blobs, blob.digest);
      if (actual === undefined) {
        // Deleted by a collector since the page was read? Then the metadata no longer has it.
        if ((await lifecycle.knownBlobs([blob.digest])).has(blob.digest)) push(report.missing, blob.digest);
        continue;
      }
      const size = files.get(blob.digest)?.size ?? 0;
      progress.checked++;
      progress.bytesChecked += size;
      options.onProgress?.({ ...progress });
      if (actual !== blob.digest) {
        if (options.repair) await blobs.quarantine(blob.digest);
        push(report.corrupt, { digest: blob.digest, actual, quarantined: options.repair });
      }
    }
    after = page.at(-1)?.digest ?? after;
    if (page.length < 500) break;
  }
  const expiredBefore = deps.promises.expiredBefore(deps.clock.now());
  const unknown = [...files].filter(([digest]) => !known.has(digest));
  // Listed before the metadata was read: a file recorded since then is not unknown.
  const stillUnknown = new Set(unknown.map(([digest]) => digest));
  for (const digest of await lifecycle.knownBlobs([...stillUnknown])) stillUnknown.delete(digest);
  const removable = unknown.filter(
    ([digest, file]) => stillUnknown.has(digest) && file.modifiedAt < expiredBefore,
  );
  const removed = new Set(
    options.repair && options.removeUnknown
      ? await options.removeUnknown(removable.map(([digest, file]) => ({ digest, size: file.size })))
      : [],
  );
  for (const [digest, file] of unknown) {
    if (!stillUnknown.has(digest)) continue;
    progress.checked++;
    progress.bytesChecked += file.size;
    push(report.unknown, {
      digest,
      size: file.size,
      modifiedAt: file.modifiedAt.toISOString(),
      removed: removed.has(digest),
    });
  }
  options.onProgress?.({ ...progress });
  report.checked = progress.checked;
  report.bytesChecked = progress.bytesChecked;
  report.healthy = report.corrupt.count === 0 && report.missing.count === 0 && report.unknown.count === 0;
  return report;
}
