import { createHash } from 'node:crypto';
import { adminFetch } from './admin-session.js';
import { emptyJson, pushBlob, pushManifest, types } from './oci-client.js';

/** Helpers for the copy, export and import tests: what a registry holds under a reference, byte for byte. */

const accept = [types.ociIndex, types.ociManifest, types.dockerList, types.dockerManifest].join(', ');

export interface StoredManifest {
  readonly status: number;
  readonly digest: string;
  readonly bytes: Buffer;
}

/** `GET /v2/NAME/manifests/REFERENCE` (as the administrator where the registry is a Mistrive one). */
export async function manifestAt(url: string, name: string, reference: string): Promise<StoredManifest> {
  const response = await adminFetch(`${url}/v2/${name}/manifests/${reference}`, { headers: { accept } });
  const bytes = Buffer.from(await response.arrayBuffer());
  return {
    status: response.status,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    bytes,
  };
}

/** Pushes an SBOM-like artifact whose subject is `subject` (a manifest of `name`); returns its digest. */
export async function pushReferrer(
  url: string,
  name: string,
  subject: { mediaType: string; digest: string; size: number },
  content: string,
): Promise<string> {
  await pushBlob(url, name, emptyJson);
  const payload = Buffer.from(content);
  const payloadDigest = await pushBlob(url, name, payload);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.ociManifest,
      artifactType: 'application/spdx+json',
      config: {
        mediaType: types.ociEmpty,
        digest: `sha256:${createHash('sha256').update(emptyJson).digest('hex')}`,
        size: 2,
      },
      layers: [{ mediaType: 'application/spdx+json', digest: payloadDigest, size: payload.length }],
      subject,
    }),
  );
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  await pushManifest(url, name, digest, manifest, types.ociManifest);
  return digest;
}
