import { CliError } from '../cli/errors.js';
import { foreignLayerTypes, imageManifestTypes, indexManifestTypes } from '../oci/media-types.js';

/** What a copy, an export or an import follows in a manifest: child manifests, blobs, its platform list. */
export interface GraphDescriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly os?: string; readonly architecture?: string; readonly variant?: string };
  readonly annotations?: Record<string, string>;
  readonly urls?: readonly string[];
}

export interface ManifestLinks {
  /** An index or manifest list. */
  readonly isIndex: boolean;
  /** Child manifests (of an index). */
  readonly manifests: readonly GraphDescriptor[];
  /** The config (first, when there is one) and the layers that live in the registry. */
  readonly blobs: readonly GraphDescriptor[];
  readonly config: GraphDescriptor | undefined;
  readonly layers: readonly GraphDescriptor[];
}

export function manifestLinks(bytes: Buffer, mediaType: string): ManifestLinks {
  let document: { manifests?: GraphDescriptor[]; config?: GraphDescriptor; layers?: GraphDescriptor[] };
  try {
    document = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CliError('FAILED_PRECONDITION', `a manifest of type ${mediaType} is not valid JSON`);
  }
  const isIndex =
    indexManifestTypes.has(mediaType) || (Array.isArray(document.manifests) && !document.config);
  if (isIndex) {
    return { isIndex, manifests: document.manifests ?? [], blobs: [], config: undefined, layers: [] };
  }
  if (!imageManifestTypes.has(mediaType) && !document.config) {
    throw new CliError(
      'FAILED_PRECONDITION',
      `manifests of type ${mediaType} cannot be copied (Docker schema 1 is not supported)`,
    );
  }
  const layers = (document.layers ?? []).filter(
    (layer) => !(foreignLayerTypes.has(layer.mediaType) && layer.urls?.length),
  );
  const config = document.config;
  return { isIndex, manifests: [], blobs: config ? [config, ...layers] : layers, config, layers };
}

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** `os/arch[/variant]`, e.g. `linux/arm64/v8`. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...extra] = text.split('/');
  if (!os || !architecture || extra.length > 0) {
    throw new CliError('USAGE', `"${text}" is not a platform`, {
      hint: 'write OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8',
    });
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(platform: GraphDescriptor['platform']): string {
  if (!platform) return 'unknown';
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

/** The entry of an index for a platform; a clear error naming the platforms there are otherwise. */
export function pickPlatform(index: ManifestLinks, platform: Platform, what: string): GraphDescriptor {
  const found = index.manifests.find(
    (entry) =>
      entry.platform?.os === platform.os &&
      entry.platform?.architecture === platform.architecture &&
      (platform.variant === undefined || entry.platform?.variant === platform.variant),
  );
  if (found) return found;
  const available = index.manifests.map((entry) => formatPlatform(entry.platform)).join(', ');
  throw new CliError('NOT_FOUND', `${what} has no image for ${formatPlatform(platform)}`, {
    hint: `its platforms are: ${available || 'none'}`,
  });
}
