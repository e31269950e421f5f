/**
 * The two archive layouts images travel in, spelled once for export and import:
 * - `docker save`: `manifest.json` (a list of `{Config, RepoTags, Layers}`), the config as
 *   `HEX.json`, each layer as `HEX/layer.tar`, and `repositories` (`{NAME: {TAG: TOP_LAYER_ID}}`);
 * - an OCI image layout: `oci-layout`, `index.json`, and every blob as `blobs/ALGORITHM/HEX`.
 */
export const ociLayoutFile = 'oci-layout';
export const ociIndexFile = 'index.json';
export const dockerManifestFile = 'manifest.json';
export const dockerRepositoriesFile = 'repositories';
export const refNameAnnotation = 'org.opencontainers.image.ref.name';
/** The full name containerd and newer Docker read an image's name from. */
export const imageNameAnnotation = 'io.containerd.image.name';

export const layoutMarker = `${JSON.stringify({ imageLayoutVersion: '1.0.0' })}`;

export function ociBlobPath(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return `blobs/${algorithm}/${hex}`;
}

export function hexOf(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** One image of a `docker save` archive's manifest.json. */
export interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

export const layerTypes = {
  dockerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  /** What containers/image names an uncompressed Docker layer. */
  dockerTar: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;
