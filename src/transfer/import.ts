import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { mediaTypes } from '../oci/media-types.js';
import {
  type DockerArchiveEntry,
  dockerManifestFile,
  layerTypes,
  ociBlobPath,
  ociIndexFile,
  ociLayoutFile,
  refNameAnnotation,
} from './archive-layouts.js';
import { malformed, type StagedArchive, type StagedFile, stageArchive } from './archive-staging.js';
import { formatRemoteImage, type RemoteImage, withReference } from './image-reference.js';
import { Limiter } from './limiter.js';
import { manifestLinks } from './manifest-graph.js';
import { metered, type TransferProgress } from './progress.js';
import { type FetchedManifest, pushScope, type RegistryClient } from './registry-client.js';

/**
 * Imports an archive into a registry: a `docker save` archive (docker, podman and skopeo write them)
 * or an OCI image layout archive, plain or gzip-compressed. Every digest is checked before anything
 * is sent, so a malformed archive stores nothing; then blobs are uploaded (those the registry has are
 * skipped) and manifests put, children first, the tag last. Blobs uploaded before a failure later on
 * (the registry going away) are referenced by nothing and left to garbage collection.
 *
 * A `docker save` archive holds layers as uncompressed tars whose digests are the config's diff_ids,
 * and no registry manifest: one is generated (Docker schema 2) whose layer digests are those of the
 * stored files, so the manifest, the config and the blobs agree.
 */

export interface ImportOptions {
  readonly concurrency: number;
  readonly progress: TransferProgress;
}

export interface ImportResult {
  readonly image: string;
  readonly format: 'docker' | 'oci';
  readonly digest: string;
  readonly mediaType: string;
  readonly manifests: number;
  readonly blobs: { digest: string; size: number; action: 'uploaded' | 'skipped' }[];
  /** Bytes read from the archive (after decompression). */
  readonly bytes: number;
}

interface ImportBlob {
  readonly digest: string;
  readonly size: number;
  readonly file: StagedFile;
}

interface ImportPlan {
  readonly format: 'docker' | 'oci';
  readonly blobs: ImportBlob[];
  /** Children first, the root last. */
  readonly manifests: FetchedManifest[];
  /** The tag the archive gives the image, if any. */
  readonly tag: string | undefined;
}

const maxJsonBytes = 16 * 1024 * 1024;

async function readJson<T>(file: StagedFile, what: string): Promise<T> {
  if (file.size > maxJsonBytes)
    throw malformed(`${what} is ${file.size} bytes, too large for a JSON document`);
  try {
    return JSON.parse(await readFile(file.path, 'utf8')) as T;
  } catch {
    throw malformed(`${what} is not valid JSON`);
  }
}

function need(archive: StagedArchive, name: string, what: string): StagedFile {
  const file = archive.files.get(name);
  if (!file) throw malformed(`${what} ("${name}") is missing`);
  return file;
}

/** sha256 of a file's bytes after gunzip, or undefined when it is not gzip. */
async function gunzippedDigest(file: StagedFile): Promise<string | undefined> {
  const head = Buffer.alloc(2);
  const handle = await open(file.path);
  try {
    await handle.read(head, 0, 2, 0);
  } finally {
    await handle.close();
  }
  if (head[0] !== 0x1f || head[1] !== 0x8b) return undefined;
  const hash = createHash('sha256');
  try {
    await pipeline(
      createReadStream(file.path, { highWaterMark: 1024 * 1024 }),
      createGunzip(),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) hash.update(chunk);
      },
    );
  } catch {
    return 'not-gzip';
  }
  return `sha256:${hash.digest('hex')}`;
}

async function planDocker(archive: StagedArchive, image: RemoteImage): Promise<ImportPlan> {
  const list = await readJson<DockerArchiveEntry[]>(
    need(archive, dockerManifestFile, 'manifest.json'),
    dockerManifestFile,
  );
  if (!Array.isArray(list) || list.length === 0) throw malformed('manifest.json lists no image');
  const entry =
    list.length === 1
      ? list[0]
      : list.find((item) => item.RepoTags?.some((tag) => tag.endsWith(`:${image.tag}`)));
  if (!entry)
    throw malformed(`manifest.json lists ${list.length} images and none is tagged ${image.tag ?? 'latest'}`);
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers))
    throw malformed('manifest.json has an entry without Config and Layers');
  const configFile = need(archive, entry.Config, 'the image config');
  const expectedConfig = /([a-f0-9]{64})(\.json)?$/.exec(entry.Config)?.[1];
  if (expectedConfig && `sha256:${expectedConfig}` !== configFile.digest) {
    throw malformed(
      `the config "${entry.Config}" has digest ${configFile.digest}, not the one its name says`,
    );
  }
  const config = await readJson<{ rootfs?: { diff_ids?: string[] } }>(
    configFile,
    `the config "${entry.Config}"`,
  );
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== entry.Layers.length) {
    throw malformed(
      `the config lists ${diffIds.length} layers (diff_ids) but manifest.json lists ${entry.Layers.length}`,
    );
  }
  const blobs: ImportBlob[] = [{ digest: configFile.digest, size: configFile.size, file: configFile }];
  const layers: { mediaType: string; digest: string; size: number }[] = [];
  for (const [i, layerName] of entry.Layers.entries()) {
    const file = need(archive, layerName, `layer ${i + 1}`);
    const diffId = diffIds[i];
    let mediaType: string = layerTypes.dockerTar;
    if (file.digest !== diffId) {
      const inflated = await gunzippedDigest(file);
      if (inflated !== diffId) {
        throw malformed(
          `layer "${layerName}" does not match the config: its diff_id is ${diffId} but the layer holds ${inflated && inflated !== 'not-gzip' ? inflated : file.digest}`,
        );
      }
      mediaType = layerTypes.dockerGzip;
    }
    layers.push({ mediaType, digest: file.digest, size: file.size });
    blobs.push({ digest: file.digest, size: file.size, file });
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: mediaTypes.dockerManifest,
    config: { mediaType: layerTypes.dockerConfig, size: configFile.size, digest: configFile.digest },
    layers,
  };
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
  const root = {
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    mediaType: mediaTypes.dockerManifest,
    bytes,
  };
  const tag = entry.RepoTags?.[0]?.split(':').pop();
  return { format: 'docker', blobs, manifests: [root], tag };
}

async function planOci(archive: StagedArchive, image: RemoteImage): Promise<ImportPlan> {
  need(archive, ociLayoutFile, 'oci-layout');
  const index = await readJson<{
    manifests?: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
  }>(need(archive, ociIndexFile, 'index.json'), ociIndexFile);
  const entries = index.manifests ?? [];
  if (entries.length === 0) throw malformed('index.json lists no image');
  const named = (tag: string | undefined) =>
    entries.find((item) => tag && item.annotations?.[refNameAnnotation]?.split(':').pop() === tag);
  const root = named(image.tag) ?? (entries.length === 1 ? entries[0] : undefined);
  if (!root)
    throw malformed(`index.json lists ${entries.length} images and none is named ${image.tag ?? 'latest'}`);
  // Every blob file must hash to its name, reachable or not.
  for (const [name, file] of archive.files) {
    const match = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
    if (match && `sha256:${match[1]}` !== file.digest)
      throw malformed(`blob "${name}" has digest ${file.digest}, not the one its name says`);
  }
  const blob = (descriptor: { digest: string; size: number }, what: string): StagedFile => {
    if (!/^sha256:[a-f0-9]{64}$/.test(descriptor.digest))
      throw malformed(`${what} has an unsupported digest ${descriptor.digest}`);
    const file = need(archive, ociBlobPath(descriptor.digest), what);
    if (file.size !== descriptor.size)
      throw malformed(
        `${what} ${descriptor.digest} is ${file.size} bytes, not the ${descriptor.size} its descriptor says`,
      );
    return file;
  };
  const blobs = new Map<string, ImportBlob>();
  const manifests: FetchedManifest[] = [];
  const visit = async (descriptor: { mediaType: string; digest: string; size: number }) => {
    if (manifests.some((known) => known.digest === descriptor.digest)) return;
    const file = blob(descriptor, 'manifest');
    if (file.size > maxJsonBytes) throw malformed(`manifest ${descriptor.digest} is too large`);
    const bytes = await readFile(file.path);
    const links = manifestLinks(bytes, descriptor.mediaType);
    for (const child of links.manifests) await visit(child);
    for (const item of links.blobs)
      blobs.set(item.digest, { digest: item.digest, size: item.size, file: blob(item, 'blob') });
    manifests.push({ digest: descriptor.digest, mediaType: descriptor.mediaType, bytes });
  };
  await visit(root);
  return {
    format: 'oci',
    blobs: [...blobs.values()],
    manifests,
    tag: root.annotations?.[refNameAnnotation]?.split(':').pop(),
  };
}

/** Reads and checks an archive, and only then writes it to the registry. */
export async function importArchive(
  source: Readable,
  client: RegistryClient,
  image: RemoteImage,
  options: ImportOptions,
): Promise<ImportResult> {
  const archive = await stageArchive(source, () => {});
  try {
    const plan = archive.files.has(ociLayoutFile)
      ? await planOci(archive, image)
      : await planDocker(archive, image);
    const tag = image.tag ?? (image.digest ? undefined : (plan.tag ?? 'latest'));
    const root = plan.manifests[plan.manifests.length - 1] as FetchedManifest;
    if (image.digest && image.digest !== root.digest) {
      throw malformed(`the archive holds ${root.digest}, not ${image.digest}`);
    }
    const target = withReference(image, tag ? { tag } : { digest: root.digest });
    const limiter = new Limiter(Math.max(1, options.concurrency));
    const results: ImportResult['blobs'] = [];
    const scopes = [pushScope(image.name)];
    const unique = [...new Map(plan.blobs.map((item) => [item.digest, item])).values()];
    try {
      await Promise.all(
        unique.map((item) =>
          limiter.run(async () => {
            options.progress.planned(item.size);
            if (await client.hasBlob(image.name, item.digest, scopes)) {
              results.push({ digest: item.digest, size: item.size, action: 'skipped' });
            } else {
              const upload = await client.startUpload(image.name);
              if (upload.mounted) throw new Error('unreachable: no mount was asked for');
              const body = createReadStream(item.file.path, { highWaterMark: 1024 * 1024 });
              try {
                await client.finishUpload(
                  image.name,
                  upload.location,
                  item.digest,
                  item.size,
                  metered(body, options.progress),
                );
              } finally {
                body.destroy();
              }
              results.push({ digest: item.digest, size: item.size, action: 'uploaded' });
            }
            options.progress.done();
          }),
        ),
      );
      for (const manifest of plan.manifests) {
        const isRoot = manifest === root;
        await client.putManifest(image.name, isRoot && tag ? tag : manifest.digest, manifest);
      }
    } finally {
      options.progress.finish();
    }
    return {
      image: formatRemoteImage(target),
      format: plan.format,
      digest: root.digest,
      mediaType: root.mediaType,
      manifests: plan.manifests.length,
      blobs: results,
      bytes: archive.bytes,
    };
  } finally {
    await archive.remove();
  }
}
