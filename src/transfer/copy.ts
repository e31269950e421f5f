import { sameRegistry } from '../cli/credentials/registry-url.js';
import { CliError } from '../cli/errors.js';
import { formatRemoteImage, type RemoteImage, withReference } from './image-reference.js';
import { Limiter } from './limiter.js';
import { type GraphDescriptor, manifestLinks, type Platform, pickPlatform } from './manifest-graph.js';
import { metered, type TransferProgress } from './progress.js';
import { type FetchedManifest, pushScope, type RegistryClient } from './registry-client.js';

/**
 * Copies images between repositories of one registry or of two. Manifests are copied as their exact
 * bytes (so digests are preserved), children before the index that lists them and subjects before
 * their referrers. Blobs the destination has are skipped (HEAD first); within one registry the rest
 * are mounted from the source repository; across registries each is streamed from the source's GET
 * into the destination's upload, several at a time, never held whole. A copy that was interrupted is
 * simply run again: what arrived is skipped, an unfinished upload starts over in a new session.
 */

export interface CopyOptions {
  readonly allTags?: boolean;
  readonly platform?: Platform;
  readonly withReferrers?: boolean;
  /** Blobs moved at the same time. */
  readonly concurrency: number;
  readonly progress: TransferProgress;
}

export type BlobAction = 'mounted' | 'copied' | 'skipped';

export interface CopiedImage {
  readonly source: string;
  readonly destination: string;
  readonly digest: string;
  readonly mediaType: string;
}

export interface CopyResult {
  readonly images: CopiedImage[];
  /** Every manifest stored at the destination (children and referrers included). */
  readonly manifests: { digest: string; mediaType: string; action: 'copied' | 'skipped' }[];
  readonly blobs: { digest: string; size: number; action: BlobAction }[];
  readonly bytesCopied: number;
  readonly mounted: number;
  readonly copied: number;
  readonly skipped: number;
}

export interface CopyEnds {
  readonly source: RemoteImage;
  readonly destination: RemoteImage;
  readonly sourceClient: RegistryClient;
  readonly destinationClient: RegistryClient;
}

export async function copyImages(ends: CopyEnds, options: CopyOptions): Promise<CopyResult> {
  const copier = new Copier(ends, options);
  try {
    return await copier.run();
  } finally {
    options.progress.finish();
  }
}

class Copier {
  private readonly limiter: Limiter;
  private readonly blobJobs = new Map<string, Promise<void>>();
  private readonly manifestJobs = new Map<string, Promise<void>>();
  private readonly result: { -readonly [K in keyof CopyResult]: CopyResult[K] } = {
    images: [],
    manifests: [],
    blobs: [],
    bytesCopied: 0,
    mounted: 0,
    copied: 0,
    skipped: 0,
  };
  private readonly withinOneRegistry: boolean;

  constructor(
    private readonly ends: CopyEnds,
    private readonly options: CopyOptions,
  ) {
    this.limiter = new Limiter(Math.max(1, options.concurrency));
    this.withinOneRegistry = sameRegistry(ends.source.registry, ends.destination.registry);
  }

  async run(): Promise<CopyResult> {
    const { source, destination, sourceClient } = this.ends;
    if (this.options.allTags) {
      if (source.tag || source.digest || destination.tag || destination.digest) {
        throw new CliError(
          'USAGE',
          '--all-tags copies whole repositories: give SOURCE and DESTINATION without a tag or digest',
        );
      }
      const tags = await sourceClient.tags(source.name);
      if (tags.length === 0) throw new CliError('NOT_FOUND', `${formatRemoteImage(source)} has no tags`);
      for (const tag of tags) {
        await this.copyRoot(withReference(source, { tag }), withReference(destination, { tag }));
      }
    } else {
      const from = source.tag || source.digest ? source : withReference(source, { tag: 'latest' });
      const to =
        destination.tag || destination.digest ? destination : withReference(destination, { tag: from.tag });
      await this.copyRoot(from, to);
    }
    return this.result;
  }

  private async copyRoot(source: RemoteImage, destination: RemoteImage): Promise<void> {
    const { sourceClient } = this.ends;
    let manifest = await sourceClient.manifest(source.name, source.digest ?? source.tag ?? 'latest');
    const links = manifestLinks(manifest.bytes, manifest.mediaType);
    if (links.isIndex && this.options.platform) {
      const entry = pickPlatform(links, this.options.platform, formatRemoteImage(source));
      manifest = await sourceClient.manifest(source.name, entry.digest);
    }
    if (destination.digest && destination.digest !== manifest.digest) {
      throw new CliError(
        'USAGE',
        `the destination names ${destination.digest}, but the source is ${manifest.digest}`,
        {
          hint: 'give the destination a tag, or no reference at all',
        },
      );
    }
    await this.copyManifest(manifest, destination.tag);
    this.result.images.push({
      source: formatRemoteImage(withReference(source, { digest: manifest.digest })),
      destination: formatRemoteImage(
        withReference(destination, destination.tag ? { tag: destination.tag } : { digest: manifest.digest }),
      ),
      digest: manifest.digest,
      mediaType: manifest.mediaType,
    });
  }

  /** A manifest, whatever it reaches first, then itself (under `tag` when given), then its referrers. */
  private async copyManifest(manifest: FetchedManifest, tag?: string): Promise<void> {
    const { destination, destinationClient, source, sourceClient } = this.ends;
    const scopes = [pushScope(destination.name)];
    const present =
      tag === undefined && (await destinationClient.hasManifest(destination.name, manifest.digest, scopes));
    if (present) {
      this.result.manifests.push({
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        action: 'skipped',
      });
    } else {
      const links = manifestLinks(manifest.bytes, manifest.mediaType);
      await Promise.all(links.blobs.map((blob) => this.copyBlob(blob)));
      for (const child of links.manifests) {
        await this.onceFor(this.manifestJobs, child.digest, async () =>
          this.copyManifest(await sourceClient.manifest(source.name, child.digest)),
        );
      }
      const stored = await destinationClient.putManifest(destination.name, tag ?? manifest.digest, manifest);
      if (stored !== manifest.digest) {
        throw new CliError(
          'SERVER_ERROR',
          `${destination.registry} stored ${manifest.digest} as ${stored}: the copy is not byte-identical`,
        );
      }
      this.result.manifests.push({
        digest: manifest.digest,
        mediaType: manifest.mediaType,
        action: 'copied',
      });
    }
    if (this.options.withReferrers) {
      for (const referrer of await sourceClient.referrers(source.name, manifest.digest)) {
        await this.onceFor(this.manifestJobs, referrer.digest, async () =>
          this.copyManifest(await sourceClient.manifest(source.name, referrer.digest)),
        );
      }
    }
  }

  private onceFor(jobs: Map<string, Promise<void>>, digest: string, job: () => Promise<void>): Promise<void> {
    let running = jobs.get(digest);
    if (!running) {
      running = job();
      jobs.set(digest, running);
    }
    return running;
  }

  private copyBlob(blob: GraphDescriptor): Promise<void> {
    return this.onceFor(this.blobJobs, blob.digest, () =>
      this.limiter.run(async () => {
        this.options.progress.planned(blob.size);
        const action = await this.moveBlob(blob);
        this.result.blobs.push({ digest: blob.digest, size: blob.size, action });
        this.result[action] += 1;
        if (action === 'copied') this.result.bytesCopied += blob.size;
        this.options.progress.done();
      }),
    );
  }

  private async moveBlob(blob: GraphDescriptor): Promise<BlobAction> {
    const { source, destination, sourceClient, destinationClient } = this.ends;
    const scopes = [pushScope(destination.name)];
    if (await destinationClient.hasBlob(destination.name, blob.digest, scopes)) return 'skipped';
    const mount =
      this.withinOneRegistry && source.name !== destination.name
        ? { digest: blob.digest, from: source.name }
        : undefined;
    const upload = await destinationClient.startUpload(destination.name, mount);
    if (upload.mounted) return 'mounted';
    const body = await sourceClient.blob(source.name, blob.digest);
    try {
      await destinationClient.finishUpload(
        destination.name,
        upload.location,
        blob.digest,
        blob.size,
        metered(body, this.options.progress),
      );
    } finally {
      body.destroy();
    }
    return 'copied';
  }
}
