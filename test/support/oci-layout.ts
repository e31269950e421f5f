import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

/**
 * Builds OCI image layouts on disk (the `oci:DIR:TAG` transport of skopeo and umoci) and reads them
 * back, so end-to-end tests push real images and compare what comes back byte for byte.
 */

export const layoutMediaTypes = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

const refNameAnnotation = 'org.opencontainers.image.ref.name';

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
  readonly annotations?: Record<string, string>;
}

/** Content and the descriptor that names it. */
export interface Blob {
  readonly descriptor: Descriptor;
  readonly bytes: Buffer;
}

export interface Layer extends Blob {
  /** The digest of the uncompressed tar, which the image config lists in `rootfs.diff_ids`. */
  readonly diffId: string;
}

export interface BuiltImage {
  readonly manifest: Blob;
  readonly config: Blob;
  readonly layers: readonly Layer[];
}

export interface BuiltIndex {
  readonly index: Blob;
  readonly images: readonly BuiltImage[];
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function blobOf(mediaType: string, bytes: Buffer, extra: Partial<Descriptor> = {}): Blob {
  return { descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length, ...extra }, bytes };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Fixed timestamps keep layers reproducible within a run. */
const epoch = new Date('2024-01-01T00:00:00Z');

/**
 * A real gzip-compressed tar layer holding `files` (path → content), with their parent directories.
 * Large incompressible content compresses quickly at level 1; the result is a valid gzip either way.
 */
export async function tarGzLayer(files: Record<string, string | Buffer>, gzipLevel = 6): Promise<Layer> {
  const archive = pack();
  const directories = new Set<string>();
  for (const path of Object.keys(files)) {
    const parts = path.split('/').slice(0, -1);
    for (let depth = 1; depth <= parts.length; depth++)
      directories.add(`${parts.slice(0, depth).join('/')}/`);
  }
  for (const directory of [...directories].sort()) {
    archive.entry({ name: directory, type: 'directory', mode: 0o755, mtime: epoch });
  }
  for (const [path, content] of Object.entries(files)) {
    archive.entry({ name: path, mode: 0o644, mtime: epoch }, content);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  const tar = Buffer.concat(chunks);
  const layer = blobOf(layoutMediaTypes.layer, gzipSync(tar, { level: gzipLevel }));
  return { ...layer, diffId: sha256Digest(tar) };
}

/** An image manifest and a valid image config for `layers`, bottom layer first. */
export function buildImage(
  layers: readonly Layer[],
  platform: Platform = { architecture: 'amd64', os: 'linux' },
): BuiltImage {
  const config = blobOf(
    layoutMediaTypes.config,
    json({
      created: epoch.toISOString(),
      ...platform,
      config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Cmd: ['/bin/app'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.diffId) },
      history: layers.map((_, index) => ({ created: epoch.toISOString(), created_by: `layer ${index}` })),
    }),
  );
  const manifest = blobOf(
    layoutMediaTypes.manifest,
    json({
      schemaVersion: 2,
      mediaType: layoutMediaTypes.manifest,
      config: config.descriptor,
      layers: layers.map((layer) => layer.descriptor),
    }),
  );
  return { manifest, config, layers };
}

/** An image index over `images`, each entry carrying its image's platform. */
export function buildIndex(images: readonly { image: BuiltImage; platform: Platform }[]): BuiltIndex {
  const index = blobOf(
    layoutMediaTypes.index,
    json({
      schemaVersion: 2,
      mediaType: layoutMediaTypes.index,
      manifests: images.map(({ image, platform }) => ({ ...image.manifest.descriptor, platform })),
    }),
  );
  return { index, images: images.map(({ image }) => image) };
}

/** Every blob of an image or index, the root (manifest or index) last. */
export function blobsOf(built: BuiltImage | BuiltIndex): Blob[] {
  if ('index' in built) return [...built.images.flatMap(blobsOf), built.index];
  return [built.config, ...built.layers, built.manifest];
}

function rootOf(built: BuiltImage | BuiltIndex): Blob {
  return 'index' in built ? built.index : built.manifest;
}

/** Writes an OCI image layout at `dir` in which `tag` names the image or index. */
export async function writeOciLayout(
  dir: string,
  tag: string,
  built: BuiltImage | BuiltIndex,
): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), json({ imageLayoutVersion: '1.0.0' }));
  for (const blob of blobsOf(built)) {
    await writeFile(join(dir, 'blobs', 'sha256', blob.descriptor.digest.slice('sha256:'.length)), blob.bytes);
  }
  const root = rootOf(built).descriptor;
  await writeFile(
    join(dir, 'index.json'),
    json({
      schemaVersion: 2,
      mediaType: layoutMediaTypes.index,
      manifests: [
        {
          mediaType: root.mediaType,
          digest: root.digest,
          size: root.size,
          annotations: { [refNameAnnotation]: tag },
        },
      ],
    }),
  );
}

export interface ReadLayout {
  /** The descriptor `tag` names in the layout's index.json. */
  readonly root: Descriptor;
  /** Every blob reachable from the root, by digest. */
  readonly blobs: ReadonlyMap<string, Buffer>;
}

/**
 * Reads the image or index `tag` names in a layout and every blob it reaches. Throws when a blob is
 * missing or does not hash to its name, so a corrupt copy cannot pass for a faithful one.
 */
export async function readOciLayout(dir: string, tag: string): Promise<ReadLayout> {
  const top = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const root = top.manifests.find((entry) => entry.annotations?.[refNameAnnotation] === tag);
  if (!root) throw new Error(`layout ${dir} has no tag ${tag}`);
  const blobs = new Map<string, Buffer>();
  const visit = async (descriptor: Descriptor): Promise<void> => {
    if (blobs.has(descriptor.digest)) return;
    const [algorithm = '', hex = ''] = descriptor.digest.split(':');
    const bytes = await readFile(join(dir, 'blobs', algorithm, hex));
    if (sha256Digest(bytes) !== descriptor.digest) throw new Error(`blob ${descriptor.digest} is corrupt`);
    if (bytes.length !== descriptor.size) {
      throw new Error(`blob ${descriptor.digest} is ${bytes.length} bytes, not ${descriptor.size}`);
    }
    blobs.set(descriptor.digest, bytes);
    if (descriptor.mediaType === layoutMediaTypes.index) {
      const index = JSON.parse(bytes.toString('utf8')) as { manifests: Descriptor[] };
      for (const child of index.manifests) await visit(child);
    } else if (descriptor.mediaType === layoutMediaTypes.manifest) {
      const manifest = JSON.parse(bytes.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
      for (const child of [manifest.config, ...manifest.layers]) await visit(child);
    }
  };
  await visit(root);
  return { root, blobs };
}

/** Digests of every file under a layout's blobs directory, reachable or not. */
export async function layoutBlobDigests(dir: string): Promise<string[]> {
  const digests: string[] = [];
  for (const algorithm of await readdir(join(dir, 'blobs'))) {
    for (const hex of await readdir(join(dir, 'blobs', algorithm))) digests.push(`${algorithm}:${hex}`);
  }
  return digests.sort();
}
