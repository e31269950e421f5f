import type { ManifestRecord } from '../db/metadata.js';
import { RegistryError } from '../errors/registry-error.js';
import { LruCache } from '../lib/lru-cache.js';
import { digestOf, looksLikeDigest, parseDigest } from './digest.js';
import { imageForPull, imageForPush } from './image-resolver.js';
import { immutableTagRefusal, tagsAreImmutable } from './immutable-tags.js';
import { type ParsedManifest, parseManifest } from './manifest.js';
import { assertTag, parseImageName } from './names.js';
import type { RegistryContext } from './registry-context.js';

export type Reference = { digest: string } | { tag: string };

/** A path's `<reference>` is a digest when it has the shape of one, a tag otherwise. */
export function parseReference(text: string): Reference {
  return looksLikeDigest(text) ? { digest: parseDigest(text).value } : { tag: assertTag(text) };
}

export interface StoredManifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly subjectDigest: string | undefined;
}

/** Told of every manifest stored, once it is (scanning queues the images of a push from it). */
export type ManifestListener = (stored: {
  readonly name: string;
  readonly digest: string;
  readonly manifest: ParsedManifest;
}) => Promise<void>;

/** Manifests are content-addressed, so a cached copy never goes stale whichever instance wrote it. */
const manifestCacheBytes = 64 * 1024 * 1024;

export class ManifestService {
  private readonly cache = new LruCache<Buffer>(manifestCacheBytes);

  constructor(
    private readonly context: RegistryContext,
    private readonly onStored?: ManifestListener,
  ) {}

  async find(name: string, referenceText: string): Promise<ManifestRecord> {
    const reference = parseReference(referenceText);
    const found = await this.context.metadata.content.findManifest(name, reference);
    if (found) return found;
    await imageForPull(this.context, name);
    const what = 'tag' in reference ? `tag ${reference.tag}` : reference.digest;
    throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${what} is not in ${name}`);
  }

  async bytes(manifest: ManifestRecord): Promise<Buffer> {
    const cached = this.cache.get(manifest.digest);
    if (cached) return cached;
    const bytes = await this.context.blobs.readAll(manifest.digest);
    this.cache.set(manifest.digest, bytes);
    return bytes;
  }

  async put(
    name: string,
    referenceText: string,
    contentType: string | undefined,
    body: Buffer,
  ): Promise<StoredManifest> {
    const reference = parseReference(referenceText);
    const parsed = parseManifest(body, contentType);
    let digest = parsed.digest;
    if ('digest' in reference) {
      const algorithm = parseDigest(reference.digest).algorithm;
      digest = algorithm === 'sha256' ? parsed.digest : digestOf(body, algorithm);
      if (digest !== reference.digest) {
        throw new RegistryError(
          'DIGEST_INVALID',
          `manifest has digest ${digest}, not the ${reference.digest} in the URL`,
        );
      }
    }
    const image = await imageForPush(this.context, name);
    const { content } = this.context.metadata;
    const missing = [
      ...(await content.missingBlobs(
        image.id,
        parsed.blobs.map((d) => d.digest),
      )),
      ...(await content.missingManifests(
        image.id,
        parsed.manifests.map((d) => d.digest),
      )),
    ];
    if (missing.length > 0) throw missingReferences(name, missing);
    await this.refuseWrongSizes(name, parsed);
    // Bytes first, then metadata: a crash in between leaves an unreferenced blob, never a dangling manifest.
    await this.context.blobs.put(digest, body);
    this.cache.set(digest, body);
    const tag = 'tag' in reference ? reference.tag : undefined;
    const keepExistingTag =
      tag !== undefined && (await tagsAreImmutable(this.context.metadata, parseImageName(name)));
    const stored = await content.putManifest(
      image.id,
      {
        digest,
        mediaType: parsed.mediaType,
        size: body.length,
        artifactType: parsed.artifactType,
        annotations: parsed.annotations,
        subjectDigest: parsed.subject?.digest,
        references: [...parsed.blobs, ...parsed.manifests].map((d) => d.digest),
      },
      tag,
      this.context.clock.now(),
      { keepExistingTag },
    );
    if (stored.outcome === 'missing') throw missingReferences(name, stored.digests);
    if (stored.outcome === 'tag-kept' && tag !== undefined) {
      throw immutableTagRefusal(parseImageName(name), { kind: 'move', tag });
    }
    await this.onStored?.({ name, digest, manifest: parsed });
    return { digest, mediaType: parsed.mediaType, subjectDigest: parsed.subject?.digest };
  }

  /**
   * A descriptor's size must be the size of what it names: clients read exactly that many bytes, so a
   * wrong size fails every pull later. Refused at push time, when the pusher can still fix it.
   */
  private async refuseWrongSizes(name: string, parsed: ParsedManifest): Promise<void> {
    const wrong: string[] = [];
    for (const descriptor of parsed.blobs) {
      const stored = await this.context.blobs.stat(descriptor.digest);
      if (stored !== undefined && stored !== descriptor.size) {
        wrong.push(`${descriptor.digest} is declared as ${descriptor.size} bytes but holds ${stored}`);
      }
    }
    for (const descriptor of parsed.manifests) {
      const stored = await this.context.metadata.content.findManifest(name, { digest: descriptor.digest });
      if (stored !== undefined && stored.size !== descriptor.size) {
        wrong.push(`${descriptor.digest} is declared as ${descriptor.size} bytes but holds ${stored.size}`);
      }
    }
    if (wrong.length > 0) {
      throw new RegistryError(
        'MANIFEST_INVALID',
        `manifest has wrong descriptor sizes: ${wrong.join('; ')}`,
        {
          detail: { descriptors: wrong },
        },
      );
    }
  }

  /**
   * By digest, deletes the manifest and its tags (refused while an index of the image lists it); by
   * tag, deletes only the tag.
   */
  async delete(name: string, referenceText: string): Promise<void> {
    const reference = parseReference(referenceText);
    const image = await imageForPull(this.context, name);
    const { content } = this.context.metadata;
    if (await tagsAreImmutable(this.context.metadata, parseImageName(name))) {
      if ('tag' in reference) {
        if (await content.findManifest(name, reference)) {
          throw immutableTagRefusal(parseImageName(name), { kind: 'delete', tag: reference.tag });
        }
      } else {
        const tags = await this.context.metadata.images.tagsOf(image.id, reference.digest);
        if (tags.length > 0) {
          throw immutableTagRefusal(parseImageName(name), {
            kind: 'delete-tagged',
            digest: reference.digest,
            tags,
          });
        }
      }
    }
    if ('tag' in reference) {
      if (!(await content.deleteTag(image.id, reference.tag))) {
        throw new RegistryError('MANIFEST_UNKNOWN', `manifest tag ${reference.tag} is not in ${name}`);
      }
      return;
    }
    const outcome = await content.deleteManifest(image.id, reference.digest);
    if (outcome === 'unknown') {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${reference.digest} is not in ${name}`);
    }
    if (outcome === 'referenced') {
      // As for a blob: deleting what an index still lists would leave that index unpullable.
      const indexes = await content.manifestsReferencing(image.id, reference.digest, 5);
      throw new RegistryError(
        'UNSUPPORTED',
        `manifest ${reference.digest} is listed by index ${indexes.join(', ')} of ${name}; delete the index first`,
        { status: 405, detail: { manifests: indexes } },
      );
    }
  }
}

function missingReferences(name: string, missing: readonly string[]): RegistryError {
  return new RegistryError(
    'MANIFEST_BLOB_UNKNOWN',
    `manifest references ${missing.length === 1 ? 'a blob or manifest' : `${missing.length} blobs or manifests`} not pushed to ${name}: ${missing.join(', ')}`,
    { detail: { digests: missing } },
  );
}
