import type { ContentStore, ManifestRecord } from '../../db/metadata.js';
import type { ManifestService } from '../../oci/manifest-service.js';
import { indexManifestTypes } from '../../oci/media-types.js';

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
}

interface StoredDescriptor {
  digest?: unknown;
  size?: unknown;
  platform?: { os?: unknown; architecture?: unknown; variant?: unknown; 'os.version'?: unknown };
}

interface StoredManifest {
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

/** Works out a manifest's total size and platforms from its stored bytes (validated when pushed). */
export class ManifestDetailsReader {
  constructor(
    private readonly manifests: ManifestService,
    private readonly content: ContentStore,
  ) {}

  async describe(imageName: string, manifest: ManifestRecord): Promise<ManifestDetails> {
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
    return { size, platforms, children };
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
