import type { ContentStore, ManifestRecord } from '../../db/metadata.js';
import { LruCache } from '../../lib/lru-cache.js';
import type { ManifestService } from '../../oci/manifest-service.js';
import { imageConfigTypes, indexManifestTypes } from '../../oci/media-types.js';
import type { BlobStore } from '../../storage/blob-store.js';

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
  readonly osVersion?: string;
}

export interface ManifestDetails {
  /** The manifest and everything it references, each blob and child manifest counted once. */
  readonly size: number;
  /** For an index: the platforms of its images (attestation entries left out). */
  readonly platforms: Platform[] | undefined;
  /** For an index: every manifest it lists, with its platform when the index names one. */
  readonly children: { readonly digest: string; readonly platform: Platform | undefined }[];
  /** The image config's `created`, when the manifest is an image whose config has one. */
  readonly imageCreatedAt: Date | undefined;
}

/** One entry a manifest references: a config, a layer, or an index's child. */
export interface ManifestEntry {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform: Platform | undefined;
  readonly annotations: Record<string, string>;
}

/** What a manifest says, as people read it. */
export interface ManifestContents {
  readonly config: ManifestEntry | undefined;
  readonly layers: ManifestEntry[];
  readonly manifests: ManifestEntry[];
  readonly annotations: Record<string, string>;
}

interface StoredDescriptor {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
  annotations?: unknown;
  platform?: { os?: unknown; architecture?: unknown; variant?: unknown; 'os.version'?: unknown };
}

interface StoredManifest {
  annotations?: unknown;
  config?: StoredDescriptor;
  layers?: StoredDescriptor[];
  manifests?: StoredDescriptor[];
}

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

function platformOf(descriptor: StoredDescriptor): Platform | undefined {
  const os = text(descriptor.platform?.os);
  const architecture = text(descriptor.platform?.architecture);
  if (!os || !architecture || (os === 'unknown' && architecture === 'unknown')) return undefined;
  const variant = text(descriptor.platform?.variant);
  const osVersion = text(descriptor.platform?.['os.version']);
  return { os, architecture, ...(variant ? { variant } : {}), ...(osVersion ? { osVersion } : {}) };
}

function stringMap(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null) return {};
  return Object.fromEntries(
    Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

function entryOf(descriptor: StoredDescriptor): ManifestEntry {
  return {
    mediaType: text(descriptor.mediaType) ?? '',
    digest: text(descriptor.digest) ?? '',
    size: typeof descriptor.size === 'number' ? descriptor.size : 0,
    platform: platformOf(descriptor),
    annotations: stringMap(descriptor.annotations),
  };
}

/** Entries of each cache below: content-addressed, so an entry never goes stale. */
const cacheEntries = 50_000;

/**
 * Works out a manifest's total size, platforms and creation time from its stored bytes (validated
 * when pushed) and its image config.
 */
export class ManifestDetailsReader {
  /** Config `created` times by config digest. */
  private readonly created = new LruCache<{ at: Date | undefined }>(cacheEntries, () => 1);
  /**
   * Details of image manifests by digest: what they count is all in their own bytes, so an entry
   * never goes stale. An index's size depends on which children the image holds, so it is not kept.
   */
  private readonly images = new LruCache<ManifestDetails>(cacheEntries, () => 1);

  constructor(
    private readonly manifests: ManifestService,
    private readonly content: ContentStore,
    private readonly blobs: BlobStore,
  ) {}

  async describe(imageName: string, manifest: ManifestRecord): Promise<ManifestDetails> {
    const isIndex = indexManifestTypes.has(manifest.mediaType);
    const cached = isIndex ? undefined : this.images.get(manifest.digest);
    if (cached) return cached;
    const details = await this.compute(imageName, manifest);
    if (!isIndex) this.images.set(manifest.digest, details);
    return details;
  }

  private async compute(imageName: string, manifest: ManifestRecord): Promise<ManifestDetails> {
    const document = await this.read(manifest);
    const size = await this.totalSize(imageName, manifest, document, new Set());
    const index = indexManifestTypes.has(manifest.mediaType);
    const platforms = index
      ? (document.manifests ?? []).flatMap((child) => platformOf(child) ?? [])
      : undefined;
    const children = index
      ? (document.manifests ?? []).flatMap((child) => {
          const digest = text(child.digest);
          return digest ? [{ digest, platform: platformOf(child) }] : [];
        })
      : [];
    return { size, platforms, children, imageCreatedAt: await this.configCreated(document.config) };
  }

  /** The config, layers, child manifests and annotations a manifest lists. */
  async contents(manifest: ManifestRecord): Promise<ManifestContents> {
    const document = await this.read(manifest);
    return {
      config: document.config ? entryOf(document.config) : undefined,
      layers: (document.layers ?? []).map(entryOf),
      manifests: (document.manifests ?? []).map(entryOf),
      annotations: stringMap(document.annotations),
    };
  }

  /** An image config's `created` time; undefined for other configs, or one without a valid time. */
  private async configCreated(config: StoredDescriptor | undefined): Promise<Date | undefined> {
    const digest = text(config?.digest);
    if (!digest || !imageConfigTypes.has(text(config?.mediaType) ?? '')) return undefined;
    const cached = this.created.get(digest);
    if (cached) return cached.at;
    let at: Date | undefined;
    try {
      const parsed = JSON.parse((await this.blobs.readAll(digest)).toString('utf8')) as { created?: unknown };
      const time = typeof parsed.created === 'string' ? new Date(parsed.created) : undefined;
      at = time && !Number.isNaN(time.getTime()) ? time : undefined;
    } catch {
      at = undefined;
    }
    this.created.set(digest, { at });
    return at;
  }

  private async read(manifest: ManifestRecord): Promise<StoredManifest> {
    try {
      const parsed = JSON.parse((await this.manifests.bytes(manifest)).toString('utf8')) as unknown;
      return typeof parsed === 'object' && parsed !== null ? (parsed as StoredManifest) : {};
    } catch {
      return {};
    }
  }

  private async totalSize(
    imageName: string,
    manifest: ManifestRecord,
    document: StoredManifest,
    counted: Set<string>,
  ): Promise<number> {
    counted.add(manifest.digest);
    let total = manifest.size;
    const count = (descriptor: StoredDescriptor) => {
      const digest = text(descriptor.digest);
      if (!digest || counted.has(digest) || typeof descriptor.size !== 'number') return;
      counted.add(digest);
      total += descriptor.size;
    };
    for (const blob of [...(document.config ? [document.config] : []), ...(document.layers ?? [])])
      count(blob);
    for (const child of document.manifests ?? []) {
      const digest = text(child.digest);
      if (!digest || counted.has(digest)) continue;
      const stored = await this.content.findManifest(imageName, { digest });
      if (stored) total += await this.totalSize(imageName, stored, await this.read(stored), counted);
      else count(child);
    }
    return total;
  }
}
