import type { MetadataStore } from '../db/metadata.js';
import { type Finding, type ScanRecord, type Severity, severities } from '../db/scans.js';
import { RegistryError } from '../errors/registry-error.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { parseDigest } from '../oci/digest.js';
import { type Descriptor, type ParsedManifest, parseManifest } from '../oci/manifest.js';
import { parseImageName } from '../oci/names.js';
import type { BlobStore } from '../storage/blob-store.js';
import { scanTargetOf } from './scan-targets.js';

/** A manifest the registry has just stored. */
export interface PushedManifest {
  /** The OCI repository name, PROJECT/REPOSITORY/IMAGE. */
  readonly name: string;
  readonly digest: string;
  readonly manifest: ParsedManifest;
}

/** A digest's scan, or the fact that none was ever queued for it. */
export type ScanState = ScanRecord | { readonly digest: string; readonly status: 'not_scanned' };

/** One platform image of an index (or the image itself), with its scan. */
export interface PlatformScan {
  readonly digest: string;
  readonly platform: Descriptor['platform'] | undefined;
  readonly scan: ScanState;
}

export interface VulnerabilityReport {
  readonly scan: ScanRecord;
  /** Worst first; those of the last successful scan, filtered as asked. */
  readonly findings: Finding[];
}

export interface FindingFilter {
  /** Only these severities. */
  readonly severities?: readonly Severity[];
  /** Only this severity and worse (HIGH: CRITICAL and HIGH). */
  readonly minSeverity?: Severity;
}

export interface ScanServiceDependencies {
  readonly metadata: MetadataStore;
  readonly blobs: BlobStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** An index's children may themselves be indexes; deeper nesting than this is not followed. */
const maxIndexDepth = 2;

/** The severities at `minimum` or worse. */
export function severitiesAtLeast(minimum: Severity): Severity[] {
  return severities.slice(0, severities.indexOf(minimum) + 1);
}

/**
 * What the registry, the management API and the CLI ask of scanning: queue the images a push to a
 * scanning repository brings, read statuses, summaries and reports, and ask for a rescan.
 */
export class ScanService {
  constructor(
    private readonly deps: ScanServiceDependencies,
    /** Called when something was queued, to wake idle workers. */
    private readonly onQueued: () => void = () => {},
  ) {}

  /**
   * Queues a scan of what a push to a scanning repository stored: an image, or each platform image
   * of an index. Artifacts that are not container images are recorded as unsupported. A digest
   * already scanned is not scanned again.
   */
  async manifestPushed(pushed: PushedManifest): Promise<void> {
    const { project, repository } = parseImageName(pushed.name);
    if (!(await this.deps.metadata.catalog.repositoryScanning(project, repository))) return;
    const queued = await this.submit(pushed.digest, pushed.manifest, 'enqueue', 0);
    if (queued.some((outcome) => outcome.queued)) {
      this.deps.logger.info(
        { name: pushed.name, digests: queued.filter((o) => o.queued).map((o) => o.digest) },
        'queued for scanning',
      );
      this.onQueued();
    }
  }

  /** The scan of each digest, in the order asked. */
  async statuses(digests: readonly string[]): Promise<ScanState[]> {
    const found = await this.deps.metadata.scans.find(digests);
    return digests.map((digest) => found.get(digest) ?? { digest, status: 'not_scanned' as const });
  }

  /** The scans that make up a manifest's status: each platform image of an index, or the image itself. */
  async scansOf(digest: string): Promise<PlatformScan[]> {
    const manifest = await this.readManifest(digest);
    const target = scanTargetOf(manifest);
    const images =
      target.kind === 'index'
        ? target.children.map((child) => ({ digest: child.digest, platform: child.platform }))
        : [{ digest, platform: undefined }];
    const states = await this.statuses(images.map((image) => image.digest));
    return images.map((image, index) => ({ ...image, scan: states[index] as ScanState }));
  }

  /** The findings of a digest's last successful scan, or undefined when it has no scan record. */
  async report(digest: string, filter: FindingFilter = {}): Promise<VulnerabilityReport | undefined> {
    const scan = (await this.deps.metadata.scans.find([digest])).get(digest);
    if (!scan) return undefined;
    let only = filter.severities;
    if (filter.minSeverity) {
      const atLeast = severitiesAtLeast(filter.minSeverity);
      only = only ? only.filter((severity) => atLeast.includes(severity)) : atLeast;
    }
    return { scan, findings: await this.deps.metadata.scans.findings(digest, only) };
  }

  /**
   * Queues the manifest's image (or each platform image of an index) for a scan whatever it found
   * before, unless one is queued or running already. Returns their scans.
   */
  async rescan(digest: string): Promise<ScanState[]> {
    const outcomes = await this.submit(digest, await this.readManifest(digest), 'requeue', 0);
    if (outcomes.some((outcome) => outcome.queued)) this.onQueued();
    return this.statuses(outcomes.map((outcome) => outcome.digest));
  }

  private async submit(
    digest: string,
    manifest: ParsedManifest,
    mode: 'enqueue' | 'requeue',
    depth: number,
  ): Promise<{ digest: string; queued: boolean }[]> {
    const { scans } = this.deps.metadata;
    const now = this.deps.clock.now();
    const target = scanTargetOf(manifest);
    switch (target.kind) {
      case 'image': {
        const queued =
          mode === 'enqueue' ? await scans.enqueue(digest, now) : await scans.requeue(digest, now);
        return [{ digest, queued }];
      }
      case 'unsupported':
        await scans.markUnsupported(digest, target.reason, now);
        return [{ digest, queued: false }];
      case 'index': {
        if (depth >= maxIndexDepth) return [];
        const outcomes: { digest: string; queued: boolean }[] = [];
        for (const child of target.children) {
          let childManifest: ParsedManifest;
          try {
            childManifest = parseManifest(await this.deps.blobs.readAll(child.digest), child.mediaType);
          } catch (error) {
            this.deps.logger.warn(
              { err: error, index: digest, digest: child.digest },
              'cannot read a manifest of an index to scan it',
            );
            continue;
          }
          outcomes.push(...(await this.submit(child.digest, childManifest, mode, depth + 1)));
        }
        return outcomes;
      }
    }
  }

  private async readManifest(digest: string): Promise<ParsedManifest> {
    parseDigest(digest);
    let bytes: Buffer;
    try {
      bytes = await this.deps.blobs.readAll(digest);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not stored in this registry`);
      }
      throw error;
    }
    try {
      return parseManifest(bytes, undefined);
    } catch (error) {
      if (error instanceof RegistryError) {
        throw new RegistryError('MANIFEST_UNKNOWN', `${digest} is not a manifest`);
      }
      throw error;
    }
  }
}
