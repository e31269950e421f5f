import type { Descriptor, ParsedManifest } from '../oci/manifest.js';
import { foreignLayerTypes, imageConfigTypes, imageManifestTypes } from '../oci/media-types.js';

/**
 * What a pushed manifest means for the scanner: an image to scan, an index whose platform images
 * are scanned one by one, or something that is not a container image (a Helm chart, a signature,
 * an SBOM, any OCI artifact), which is recorded as unsupported rather than failed.
 */
export type ScanTarget =
  | { readonly kind: 'image' }
  | { readonly kind: 'index'; readonly children: readonly Descriptor[] }
  | { readonly kind: 'unsupported'; readonly reason: string };

export function scanTargetOf(manifest: ParsedManifest): ScanTarget {
  if (!imageManifestTypes.has(manifest.mediaType)) return { kind: 'index', children: manifest.manifests };
  // parseManifest reports the config's media type as the artifact type when the manifest names none.
  const type = manifest.artifactType;
  if (type === undefined || !imageConfigTypes.has(type)) {
    return {
      kind: 'unsupported',
      reason: `not a container image: an artifact of type ${type ?? 'unknown'}`,
    };
  }
  if (hasForeignLayers(manifest.bytes)) {
    return {
      kind: 'unsupported',
      reason: 'the image has layers stored outside the registry (foreign layers), which cannot be scanned',
    };
  }
  return { kind: 'image' };
}

function hasForeignLayers(bytes: Buffer): boolean {
  const document = JSON.parse(bytes.toString('utf8')) as { layers?: { mediaType?: unknown }[] };
  return (document.layers ?? []).some(
    (layer) => typeof layer.mediaType === 'string' && foreignLayerTypes.has(layer.mediaType),
  );
}
