import type { ManifestRecord, NewManifest } from '../db/metadata.js';
import { RegistryError } from '../errors/registry-error.js';
import { emitDeleted } from '../events/registry-events.js';
import { storeBytes } from '../gc/store-bytes.js';
import { LruCache } from '../lib/lru-cache.js';
import { digestOf, looksLikeDigest, parseDigest } from './digest.js';
import { imageForPull, imageForPush } from './image-resolver.js';
import { immutableTagRefusal, tagsAreImmutable } from './immutable-tags.js';
import { type ParsedManifest, parseManifest } from './manifest.js';
import { assertTag, parseImageName } from './names.js';
import { quotaRefusal } from './quota.js';
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

  /**
   * A manifest to read. A reference that is not a valid tag names nothing that can exist, so a read
   * answers MANIFEST_UNKNOWN as clients and the conformance suite expect (a PUT still says TAG_INVALID).
   */
  async find(name: string, referenceText: string): Promise<ManifestRecord> {
    let reference: Reference;
    try {
      reference = parseReference(referenceText);
    } catch (error) {
      if (!(error instanceof RegistryError) || error.code !== 'TAG_INVALID') throw error;
      await imageForPull(this.context, name);
      throw new RegistryError(
        'MANIFEST_UNKNOWN',
        `manifest ${referenceText.slice(0, 140)} is not in ${name}: ${error.message}`,
      );
    }
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

  /** Stores a manifest; `actor` (the IAM member pushing) is named in the push event. */
  async put(
    name: string,
    referenceText: string,
    contentType: string | undefined,
    body: Buffer,
    actor = 'anonymous',
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
    const tag = 'tag' in reference ? reference.tag : undefined;
    const keepExistingTag =
      tag !== undefined && (await tagsAreImmutable(this.context.metadata, parseImageName(name)));
    const record = manifestRecord(digest, parsed, body.length);
    // Bytes first, then metadata: a crash in between leaves an unreferenced blob, never a dangling manifest.
    const stored = await storeBytes({
      place: () => this.context.blobs.put(digest, body),
      record: async () => {
        const outcome = await content.putManifest(image.id, record, tag, this.context.clock.now(), {
          keepExistingTag,
        });
        return outcome.outcome === 'deleting' ? 'deleting' : outcome;
      },
      present: async () => (await this.context.blobs.stat(digest)) !== undefined,
    });
    if (stored.outcome === 'no-image') {
      throw new RegistryError('NAME_UNKNOWN', `${name} was deleted while this manifest was pushed`);
    }
    this.cache.set(digest, body);
    if (stored.outcome === 'missing') throw missingReferences(name, stored.digests);
    if (stored.outcome === 'over-quota') throw quotaRefusal(stored);
    if (stored.outcome === 'tag-kept' && tag !== undefined) {
      throw immutableTagRefusal(parseImageName(name), { kind: 'move', tag });
    }
    await this.onStored?.({ name, digest, manifest: parsed });
    const { project, repository, image: imagePart } = parseImageName(name);
    await this.context.events.emit({
      type: 'push',
      project,
      repository,
      image: imagePart,
      digest,
      mediaType: parsed.mediaType,
      tags: tag === undefined ? [] : [tag],
      actor,
    });
    return { digest, mediaType: parsed.mediaType, subjectDigest: parsed.subject?.digest };
  }

  /**
   * A descriptor's size must be the size of what it names: clients read exactly that many bytes, so a
   * wrong size fails every pull later. Refused at push time, when the pusher can still fix it.
   */
  private async refuseWrongSizes(name: string, parsed: ParsedManifest): Promise<void> {
    const { blobs, metadata } = this.context;
    const declared = [...parsed.blobs, ...parsed.manifests];
    // All looked up at once: a 200-layer image should not wait on 200 stats in a row.
    const stored = await Promise.all([
      ...parsed.blobs.map((descriptor) => blobs.stat(descriptor.digest)),
      ...parsed.manifests.map(
        async (descriptor) =>
          (await metadata.content.findManifest(name, { digest: descriptor.digest }))?.size,
      ),
    ]);
    const wrong = declared.flatMap((descriptor, i) => {
      const size = stored[i];
      return size === undefined || size === descriptor.size
        ? []
        : [`${descriptor.digest} is declared as ${descriptor.size} bytes but holds ${size}`];
    });
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
   * By digest, deletes the manifest and its tags (refused while an index of the image lists it, or
   * while tags point at it when tags are immutable); by tag, deletes only the tag.
   */
  async delete(name: string, referenceText: string, actor = 'anonymous'): Promise<void> {
    const reference = parseReference(referenceText);
    const image = await imageForPull(this.context, name);
    const imageName = parseImageName(name);
    const { content, images } = this.context.metadata;
    const immutable = await tagsAreImmutable(this.context.metadata, imageName);
    if ('tag' in reference) {
      if (immutable && (await content.findManifest(name, reference))) {
        throw immutableTagRefusal(imageName, { kind: 'delete', tag: reference.tag });
      }
      if (!(await content.deleteTag(image.id, reference.tag))) {
        throw new RegistryError('MANIFEST_UNKNOWN', `manifest tag ${reference.tag} is not in ${name}`);
      }
      await emitDeleted(this.context.events, imageName, { target: 'tag', tag: reference.tag }, actor);
      return;
    }
    const { digest } = reference;
    // The same delete as the management API's: its checks and the delete are one transaction.
    const outcome = await images.deleteManifest(image.id, digest, { keepTagged: immutable });
    if (outcome === 'missing') {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in ${name}`);
    }
    if (outcome === 'tagged') {
      throw immutableTagRefusal(imageName, {
        kind: 'delete-tagged',
        digest,
        tags: await images.tagsOf(image.id, digest),
      });
    }
    if (outcome === 'referenced') {
      // As for a blob: deleting what an index still lists would leave that index unpullable.
      const indexes = await content.manifestsReferencing(image.id, digest, 5);
      throw new RegistryError(
        'UNSUPPORTED',
        `manifest ${digest} is listed by index ${indexes.join(', ')} of ${name}; delete the index first`,
        { status: 405, detail: { manifests: indexes } },
      );
    }
    await emitDeleted(this.context.events, imageName, { target: 'manifest', digest }, actor);
  }
}

/** What the metadata store records of a manifest: its fields, and every digest it references. */
export function manifestRecord(digest: string, parsed: ParsedManifest, size: number): NewManifest {
  return {
    digest,
    mediaType: parsed.mediaType,
    size,
    artifactType: parsed.artifactType,
    annotations: parsed.annotations,
    subjectDigest: parsed.subject?.digest,
    references: [...parsed.blobs, ...parsed.manifests].map((d) => d.digest),
  };
}

function missingReferences(name: string, missing: readonly string[]): RegistryError {
  return new RegistryError(
    'MANIFEST_BLOB_UNKNOWN',
    `manifest references ${missing.length === 1 ? 'a blob or manifest' : `${missing.length} blobs or manifests`} not pushed to ${name}: ${missing.join(', ')}`,
    { detail: { digests: missing } },
  );
}
