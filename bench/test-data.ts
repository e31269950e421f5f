import { createHash, type Hash, randomBytes, randomFillSync } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from './registry-client.js';

/** Random bytes: nothing on the path compresses or deduplicates within a blob, but random is honest. */

export interface BlobFile {
  readonly file: string;
  readonly size: number;
  readonly digest: string;
}

const writeChunkBytes = 1024 * 1024;
/** The part of the big blob rewritten for each variant. */
const tailBytes = 4096;

/**
 * A big random file that can turn into a new blob cheaply: each variant rewrites only its last
 * 4 KiB and finishes a copy of the SHA-256 state kept for everything before them. Every round of a
 * push then stores a blob no registry has seen, without writing another gigabyte.
 */
export class BigBlobSource {
  private constructor(
    private readonly file: string,
    private readonly size: number,
    private readonly prefixHash: Hash,
  ) {}

  /** Writes `size` random bytes (at least 4 KiB) to DIR/NAME. Not fsynced: it is only a source. */
  static async create(dir: string, name: string, size: number): Promise<BigBlobSource> {
    if (size < tailBytes) throw new Error(`the big blob must be at least ${tailBytes} bytes`);
    const file = join(dir, name);
    const prefixHash = createHash('sha256');
    const handle = await open(file, 'w');
    try {
      const chunk = Buffer.allocUnsafe(writeChunkBytes);
      const prefixSize = size - tailBytes;
      for (let written = 0; written < prefixSize; written += writeChunkBytes) {
        const piece = chunk.subarray(0, Math.min(writeChunkBytes, prefixSize - written));
        randomFillSync(piece);
        prefixHash.update(piece);
        await handle.write(piece, 0, piece.length, written);
      }
    } finally {
      await handle.close();
    }
    return new BigBlobSource(file, size, prefixHash);
  }

  /** A new random tail: the file is now a blob with another digest. */
  async nextVariant(): Promise<BlobFile> {
    const tail = randomBytes(tailBytes);
    const handle = await open(this.file, 'r+');
    try {
      await handle.write(tail, 0, tail.length, this.size - tailBytes);
    } finally {
      await handle.close();
    }
    const digest = `sha256:${this.prefixHash.copy().update(tail).digest('hex')}`;
    return { file: this.file, size: this.size, digest };
  }
}

export interface Layer {
  readonly digest: string;
  readonly bytes: Buffer;
}

export interface TestImage {
  readonly config: Layer;
  readonly layers: readonly Layer[];
  readonly manifest: Buffer;
  readonly manifestDigest: string;
}

export const imageManifestType = 'application/vnd.oci.image.manifest.v1+json';

export function layer(bytes: Buffer): Layer {
  return { digest: sha256(bytes), bytes };
}

/** An OCI image of `count` random layers of `layerBytes` each, with its config and manifest. */
export function randomImage(count: number, layerBytes: number): TestImage {
  const config = layer(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [] },
        created: randomBytes(8).toString('hex'),
      }),
    ),
  );
  const layers = Array.from({ length: count }, () => layer(randomBytes(layerBytes)));
  const manifest = imageManifestOf(config, layers);
  return { config, layers, manifest, manifestDigest: sha256(manifest) };
}

/** The bytes of an OCI image manifest over a config and layers, with optional annotations. */
export function imageManifestOf(
  config: Layer,
  layers: readonly Layer[],
  annotations?: Record<string, string>,
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: imageManifestType,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: config.digest,
        size: config.bytes.length,
      },
      layers: layers.map((l) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: l.digest,
        size: l.bytes.length,
      })),
      ...(annotations ? { annotations } : {}),
    }),
  );
}
