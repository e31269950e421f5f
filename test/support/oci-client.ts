import { createHash, randomBytes } from 'node:crypto';

/** Minimal raw-HTTP helpers for driving the registry in tests: the real protocol, no client library. */

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function randomBlob(size: number): Buffer {
  return randomBytes(size);
}

/** Monolithic upload with `POST ?digest=`. */
export async function pushBlob(url: string, name: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const response = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: bytes,
  });
  if (response.status !== 201)
    throw new Error(`blob push failed: ${response.status} ${await response.text()}`);
  return digest;
}

export interface PushedImage {
  readonly digest: string;
  readonly manifest: Buffer;
  readonly config: string;
  readonly layers: string[];
}

/** Pushes a config, the given layers and an OCI image manifest; tags it when `tag` is given. */
export async function pushImage(
  url: string,
  name: string,
  tag: string | undefined,
  layerSizes: number[] = [1024],
  extra: Record<string, unknown> = {},
): Promise<PushedImage> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' } }),
  );
  const configDigest = await pushBlob(url, name, config);
  const layers: { digest: string; size: number }[] = [];
  for (const size of layerSizes) {
    layers.push({ digest: await pushBlob(url, name, randomBlob(size)), size });
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
      ...extra,
    }),
  );
  const digest = sha256(manifest);
  const response = await fetch(`${url}/v2/${name}/manifests/${tag ?? digest}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  if (response.status !== 201)
    throw new Error(`manifest push failed: ${response.status} ${await response.text()}`);
  return { digest, manifest, config: configDigest, layers: layers.map((l) => l.digest) };
}

/** The first OCI error code of a response body. */
export async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}
