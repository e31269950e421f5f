import { z } from 'zod';
import { RegistryError } from '../errors/registry-error.js';
import { digestOf, parseDigest } from './digest.js';
import {
  foreignLayerTypes,
  imageManifestTypes,
  indexManifestTypes,
  mediaTypes,
  schema1Types,
} from './media-types.js';

export const maxManifestBytes = 4 * 1024 * 1024;

/** Strict: invalid sequences throw. A byte order mark is kept, so JSON.parse refuses it as before. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const mediaTypeShape = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

const descriptorSchema = z.object({
  mediaType: z
    .string()
    .regex(mediaTypeShape, 'must be a media type such as application/vnd.oci.image.layer.v1.tar'),
  digest: z.string(),
  size: z.number().int().nonnegative(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  artifactType: z.string().regex(mediaTypeShape).optional(),
  platform: z
    .object({
      architecture: z.string(),
      os: z.string(),
      variant: z.string().optional(),
      'os.version': z.string().optional(),
    })
    .loose()
    .optional(),
});

export type Descriptor = z.infer<typeof descriptorSchema>;

const imageManifestSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    artifactType: z.string().regex(mediaTypeShape).optional(),
    config: descriptorSchema,
    layers: z.array(descriptorSchema),
    subject: descriptorSchema.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

const indexSchema = z
  .object({
    schemaVersion: z.literal(2),
    mediaType: z.string().optional(),
    artifactType: z.string().regex(mediaTypeShape).optional(),
    manifests: z.array(descriptorSchema),
    subject: descriptorSchema.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

/** What the registry needs to know about a manifest once it has been validated. */
export interface ParsedManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly annotations: Record<string, string> | undefined;
  readonly subject: Descriptor | undefined;
  /** Blobs that must already be in the repository (config and distributable layers). */
  readonly blobs: readonly Descriptor[];
  /** Manifests that must already be in the repository (children of an index). */
  readonly manifests: readonly Descriptor[];
  readonly bytes: Buffer;
}

/**
 * Validates a manifest body and works out its media type. The Content-Type header wins when it
 * names a manifest type; the `mediaType` field must agree with it when both are present.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  if (bytes.length > maxManifestBytes) {
    throw new RegistryError(
      'SIZE_INVALID',
      `manifest is ${bytes.length} bytes; the limit is ${maxManifestBytes}`,
      {
        status: 413,
      },
    );
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    // JSON is UTF-8 (RFC 8259 §8.1); decoding leniently would store bytes that say something else.
    throw new RegistryError('MANIFEST_INVALID', 'manifest is not valid JSON: it is not UTF-8 text');
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new RegistryError('MANIFEST_INVALID', `manifest is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new RegistryError('MANIFEST_INVALID', 'manifest must be a JSON object');
  }
  const fields = document as Record<string, unknown>;
  const declared = typeof fields.mediaType === 'string' ? fields.mediaType : undefined;
  const headerType = normaliseContentType(contentType);
  if (fields.schemaVersion === 1 || schema1Types.has(headerType ?? '') || schema1Types.has(declared ?? '')) {
    throw new RegistryError(
      'MANIFEST_INVALID',
      'Docker schema 1 manifests are not supported: push with schema 2 or OCI (e.g. a current docker, skopeo or buildah)',
    );
  }
  const mediaType = resolveMediaType(headerType, declared, fields);
  const digest = digestOf(bytes);

  if (imageManifestTypes.has(mediaType)) {
    const manifest = validate(imageManifestSchema, fields);
    const descriptors = [manifest.config, ...manifest.layers];
    descriptors.forEach(checkDescriptorDigest);
    if (manifest.subject) checkDescriptorDigest(manifest.subject);
    return {
      digest,
      mediaType,
      // The referrers API reports the config's media type when a manifest names no artifactType.
      artifactType: manifest.artifactType ?? manifest.config.mediaType,
      annotations: manifest.annotations,
      subject: manifest.subject,
      blobs: descriptors.filter((d) => !foreignLayerTypes.has(d.mediaType)),
      manifests: [],
      bytes,
    };
  }
  const index = validate(indexSchema, fields);
  index.manifests.forEach(checkDescriptorDigest);
  if (index.subject) checkDescriptorDigest(index.subject);
  return {
    digest,
    mediaType,
    artifactType: index.artifactType,
    annotations: index.annotations,
    subject: index.subject,
    blobs: [],
    manifests: index.manifests,
    bytes,
  };
}

function normaliseContentType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!type || type === 'application/octet-stream' || type === 'application/json') return undefined;
  return type;
}

function resolveMediaType(
  headerType: string | undefined,
  declared: string | undefined,
  fields: Record<string, unknown>,
): string {
  if (headerType && declared && headerType !== declared) {
    throw new RegistryError(
      'MANIFEST_INVALID',
      `Content-Type "${headerType}" does not match the manifest's mediaType "${declared}"`,
    );
  }
  const type =
    headerType ?? declared ?? ('manifests' in fields ? mediaTypes.ociIndex : mediaTypes.ociManifest);
  if (!imageManifestTypes.has(type) && !indexManifestTypes.has(type)) {
    throw new RegistryError(
      'MANIFEST_INVALID',
      `unsupported manifest media type "${type}": expected an OCI image manifest or index, or a Docker schema 2 manifest or manifest list`,
    );
  }
  return type;
}

function validate<T>(schema: z.ZodType<T>, fields: Record<string, unknown>): T {
  const result = schema.safeParse(fields);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'manifest';
    throw new RegistryError(
      'MANIFEST_INVALID',
      `manifest invalid at ${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return result.data;
}

function checkDescriptorDigest(descriptor: Descriptor): void {
  try {
    parseDigest(descriptor.digest);
  } catch (error) {
    throw new RegistryError(
      'MANIFEST_INVALID',
      `manifest references an invalid digest: ${(error as Error).message}`,
    );
  }
}
