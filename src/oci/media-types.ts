export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

/** Manifests whose children are blobs (config, layers). */
export const imageManifestTypes: ReadonlySet<string> = new Set([
  mediaTypes.ociManifest,
  mediaTypes.dockerManifest,
]);

/** Manifests whose children are other manifests. */
export const indexManifestTypes: ReadonlySet<string> = new Set([
  mediaTypes.ociIndex,
  mediaTypes.dockerManifestList,
]);

/** Configs of runnable container images; any other config or `artifactType` marks an artifact. */
export const imageConfigTypes: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);

export const schema1Types: ReadonlySet<string> = new Set([
  mediaTypes.dockerSchema1,
  mediaTypes.dockerSchema1Signed,
]);

/** Layers that live outside the registry (Windows base layers): their blobs need not be pushed. */
export const foreignLayerTypes: ReadonlySet<string> = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);
