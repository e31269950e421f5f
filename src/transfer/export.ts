import type { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { CliError } from '../cli/errors.js';
import { mediaTypes } from '../oci/media-types.js';
import {
  type DockerArchiveEntry,
  dockerManifestFile,
  dockerRepositoriesFile,
  hexOf,
  imageNameAnnotation,
  layoutMarker,
  ociBlobPath,
  ociIndexFile,
  ociLayoutFile,
  refNameAnnotation,
} from './archive-layouts.js';
import { digesting } from './digesting.js';
import { formatRemoteImage, type RemoteImage } from './image-reference.js';
import { type GraphDescriptor, manifestLinks, type Platform, pickPlatform } from './manifest-graph.js';
import { metered, type TransferProgress } from './progress.js';
import type { FetchedManifest, RegistryClient } from './registry-client.js';

/**
 * Writes an image from a registry as an archive, streaming each blob from the registry into the tar
 * (bounded memory whatever the image's size) and checking its digest on the way:
 * - `oci`: an OCI image layout (every platform of an index unless one is picked), as
 *   `skopeo copy oci-archive:` and `podman load` read it;
 * - `docker`: the `docker save` format for one platform image, as `docker load` and `podman load`
 *   read it. Layers are written as the registry holds them (usually gzip); `docker load` and
 *   containers/image decompress them and check them against the config's diff_ids.
 */

export type ArchiveFormat = 'docker' | 'oci';

export interface ExportOptions {
  readonly format: ArchiveFormat;
  readonly platform?: Platform;
  readonly progress: TransferProgress;
}

export interface ExportResult {
  readonly image: string;
  readonly format: ArchiveFormat;
  readonly digest: string;
  readonly mediaType: string;
  readonly manifests: number;
  readonly blobs: number;
  /** Bytes of blobs and manifests written (the archive is a little larger: tar headers). */
  readonly bytes: number;
}

interface Plan {
  readonly root: FetchedManifest;
  /** Manifests, children first. */
  readonly manifests: FetchedManifest[];
  readonly blobs: GraphDescriptor[];
}

async function planExport(client: RegistryClient, image: RemoteImage, options: ExportOptions): Promise<Plan> {
  const reference = image.digest ?? image.tag ?? 'latest';
  let root = await client.manifest(image.name, reference);
  const links = manifestLinks(root.bytes, root.mediaType);
  if (links.isIndex) {
    if (options.platform) {
      root = await client.manifest(
        image.name,
        pickPlatform(links, options.platform, formatRemoteImage(image)).digest,
      );
    } else if (options.format === 'docker') {
      const only = links.manifests.length === 1 ? links.manifests[0] : undefined;
      if (!only) {
        throw new CliError(
          'USAGE',
          `${formatRemoteImage(image)} is an index of ${links.manifests.length} platforms; the docker format holds one`,
          {
            hint: 'pick one with --platform OS/ARCH, or export every platform with --format oci',
          },
        );
      }
      root = await client.manifest(image.name, only.digest);
    }
  }
  const manifests: FetchedManifest[] = [];
  const blobs = new Map<string, GraphDescriptor>();
  const visit = async (manifest: FetchedManifest) => {
    const parts = manifestLinks(manifest.bytes, manifest.mediaType);
    for (const child of parts.manifests) {
      if (!manifests.some((known) => known.digest === child.digest))
        await visit(await client.manifest(image.name, child.digest));
    }
    for (const blob of parts.blobs) blobs.set(blob.digest, blob);
    manifests.push(manifest);
  };
  await visit(root);
  return { root, manifests, blobs: [...blobs.values()] };
}

/** Checks a blob's bytes against its digest as they stream past. */
function digestCheck(expected: GraphDescriptor): Transform {
  const [algorithm = 'sha256'] = expected.digest.split(':');
  return digesting(algorithm, (actual, size) =>
    actual === expected.digest && size === expected.size
      ? undefined
      : new CliError(
          'SERVER_ERROR',
          `blob ${expected.digest} arrived as ${size} bytes with digest ${actual}`,
        ),
  );
}

export async function exportImage(
  client: RegistryClient,
  image: RemoteImage,
  output: Writable,
  options: ExportOptions,
): Promise<ExportResult> {
  const plan = await planExport(client, image, options);
  const pack = tar.pack();
  const written = pipeline(pack, output);
  // A failure while packing must not leave `written` rejected and unobserved.
  written.catch(() => {});
  const small = (name: string, bytes: Buffer | string) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, mtime: new Date(0) }, bytes, (error) => (error ? reject(error) : resolve())),
    );
  const streamed = async (name: string, blob: GraphDescriptor) => {
    const entry = pack.entry({ name, size: blob.size, mtime: new Date(0) });
    options.progress.planned(blob.size);
    await pipeline(
      await client.blob(image.name, blob.digest),
      digestCheck(blob),
      (source: AsyncIterable<Buffer>) => metered(source, options.progress),
      entry,
    );
    options.progress.done();
  };
  let bytes = 0;
  try {
    if (options.format === 'oci') await writeOci(plan, image, small, streamed);
    else await writeDocker(plan, image, small, streamed);
    pack.finalize();
    await written;
  } catch (error) {
    pack.destroy(error as Error);
    throw error;
  } finally {
    options.progress.finish();
  }
  bytes =
    plan.blobs.reduce((total, blob) => total + blob.size, 0) +
    plan.manifests.reduce((total, m) => total + m.bytes.length, 0);
  return {
    image: formatRemoteImage(image),
    format: options.format,
    digest: plan.root.digest,
    mediaType: plan.root.mediaType,
    manifests: plan.manifests.length,
    blobs: plan.blobs.length,
    bytes,
  };
}

type SmallEntry = (name: string, bytes: Buffer | string) => Promise<void>;
type StreamedEntry = (name: string, blob: GraphDescriptor) => Promise<void>;

async function writeOci(
  plan: Plan,
  image: RemoteImage,
  small: SmallEntry,
  streamed: StreamedEntry,
): Promise<void> {
  await small(ociLayoutFile, layoutMarker);
  const written = new Set<string>();
  for (const blob of plan.blobs) {
    if (written.has(blob.digest)) continue;
    written.add(blob.digest);
    await streamed(ociBlobPath(blob.digest), blob);
  }
  for (const manifest of plan.manifests) {
    if (written.has(manifest.digest)) continue;
    written.add(manifest.digest);
    await small(ociBlobPath(manifest.digest), manifest.bytes);
  }
  const annotations: Record<string, string> = { [imageNameAnnotation]: formatRemoteImage(image) };
  if (image.tag) annotations[refNameAnnotation] = image.tag;
  const index = {
    schemaVersion: 2,
    mediaType: mediaTypes.ociIndex,
    manifests: [
      { mediaType: plan.root.mediaType, digest: plan.root.digest, size: plan.root.bytes.length, annotations },
    ],
  };
  await small(ociIndexFile, JSON.stringify(index));
}

async function writeDocker(
  plan: Plan,
  image: RemoteImage,
  small: SmallEntry,
  streamed: StreamedEntry,
): Promise<void> {
  const links = manifestLinks(plan.root.bytes, plan.root.mediaType);
  const config = links.config;
  if (!config)
    throw new CliError(
      'FAILED_PRECONDITION',
      `${formatRemoteImage(image)} has no config: only container images export in the docker format`,
    );
  const configName = `${hexOf(config.digest)}.json`;
  await streamed(configName, config);
  const layerNames: string[] = [];
  for (const layer of links.layers) {
    const name = `${hexOf(layer.digest)}/layer.tar`;
    if (!layerNames.includes(name)) await streamed(name, layer);
    layerNames.push(name);
  }
  const repoTag = image.tag ? `${image.host}/${image.name}:${image.tag}` : undefined;
  const entry: DockerArchiveEntry = {
    Config: configName,
    RepoTags: repoTag ? [repoTag] : [],
    Layers: layerNames,
  };
  await small(dockerManifestFile, JSON.stringify([entry]));
  if (repoTag && layerNames.length > 0) {
    const top = hexOf(links.layers[links.layers.length - 1]?.digest ?? '');
    await small(
      dockerRepositoriesFile,
      JSON.stringify({ [`${image.host}/${image.name}`]: { [image.tag ?? 'latest']: top } }),
    );
  }
}
