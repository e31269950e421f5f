import { randomBytes } from 'node:crypto';
import { imageManifest, pushBlob, pushManifest, sha256, types } from './oci-client.js';

/** An image pushed over /v2/ whose every byte is its own unless `shared` layers are given. */
export interface UniqueImage {
  readonly digest: string;
  readonly manifest: Buffer;
  /** Bytes of the manifest, its config and its layers. */
  readonly size: number;
  /** Bytes of what only this image holds: the manifest, the config and its own layer. */
  readonly ownBytes: number;
}

/** An image config of its own: a random label makes its digest unique. */
export function nonceConfig(): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
      config: { Labels: { nonce: randomBytes(8).toString('hex') } },
    }),
  );
}

/**
 * Pushes a config and a layer of `layerBytes` made for this image alone, plus any `shared` layers
 * (the same bytes pushed again), and a manifest over them; tags it when `tag` is given.
 */
export async function pushUniqueImage(
  url: string,
  name: string,
  tag: string | undefined,
  options: { layerBytes?: number; shared?: readonly Buffer[] } = {},
): Promise<UniqueImage> {
  const config = nonceConfig();
  const own = randomBytes(options.layerBytes ?? 1000);
  const layers = [own, ...(options.shared ?? [])];
  await pushBlob(url, name, config);
  for (const layer of layers) await pushBlob(url, name, layer);
  const manifest = imageManifest(
    { digest: sha256(config), size: config.length },
    layers.map((layer) => ({ digest: sha256(layer), size: layer.length })),
  );
  await pushManifest(url, name, tag ?? sha256(manifest), manifest, types.ociManifest);
  const ownBytes = manifest.length + config.length + own.length;
  const size = ownBytes + (options.shared ?? []).reduce((total, layer) => total + layer.length, 0);
  return { digest: sha256(manifest), manifest, size, ownBytes };
}

/** Pushes an OCI index over manifests already pushed to the same name. */
export async function pushIndex(
  url: string,
  name: string,
  tag: string | undefined,
  children: readonly UniqueImage[],
): Promise<{ digest: string; size: number }> {
  const body = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.ociIndex,
      manifests: children.map((child, i) => ({
        mediaType: types.ociManifest,
        digest: child.digest,
        size: child.manifest.length,
        platform: { architecture: i % 2 === 0 ? 'amd64' : 'arm64', os: 'linux' },
      })),
    }),
  );
  await pushManifest(url, name, tag ?? sha256(body), body, types.ociIndex);
  return { digest: sha256(body), size: body.length };
}
