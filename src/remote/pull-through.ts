import type { ImageRecord, ManifestRecord } from '../db/metadata.js';
import type { RemoteSettings } from '../db/remotes.js';
import { RegistryError } from '../errors/registry-error.js';
import { isStorageFull } from '../errors/storage-full.js';
import { storeBytes } from '../gc/store-bytes.js';
import { KeyedLock } from '../lib/keyed-lock.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { BlobInfo } from '../oci/blob-service.js';
import { type Digest, digestOf, parseDigest } from '../oci/digest.js';
import { tagsAreImmutable } from '../oci/immutable-tags.js';
import { maxManifestBytes, parseManifest } from '../oci/manifest.js';
import {
  type ManifestListener,
  type ManifestService,
  manifestRecord,
  parseReference,
  type Reference,
} from '../oci/manifest-service.js';
import { mediaTypes } from '../oci/media-types.js';
import { type ImageName, parseImageName } from '../oci/names.js';
import { quotaRefusal } from '../oci/quota.js';
import type { RegistryContext } from '../oci/registry-context.js';
import { type BlobTee, fillBlob, linkStoredBlob } from './blob-fill.js';
import { upstreamName } from './remote-names.js';
import {
  type UpstreamClient,
  type UpstreamEndpoint,
  UpstreamError,
  type UpstreamResponse,
} from './upstream-client.js';

/** The manifest types a cache asks its upstream for, as a client would (schema 1 is refused anyway). */
const manifestAccept = [
  mediaTypes.ociIndex,
  mediaTypes.ociManifest,
  mediaTypes.dockerManifestList,
  mediaTypes.dockerManifest,
].join(', ');

/** An image under a remote repository, with what it takes to reach its upstream. */
interface RemoteImage {
  readonly name: ImageName;
  readonly remote: RemoteSettings;
  /** Its name upstream. */
  readonly upstream: string;
  readonly endpoint: UpstreamEndpoint;
}

/**
 * Remote repositories: pull-through caches of an upstream registry. A pull of what the cache does
 * not hold is fetched from upstream, stored like a push (verbatim, digests preserved) and served
 * locally from then on; a cached tag is checked against upstream again once its repository's TTL
 * has passed, and served from the cache when the upstream cannot confirm it. Concurrent pulls of one
 * missing blob or manifest on one instance fetch it once (each instance fetches at most once more).
 */
export class PullThrough {
  private readonly blobLocks = new KeyedLock();
  private readonly manifestLocks = new KeyedLock();

  constructor(
    private readonly context: RegistryContext,
    private readonly manifests: ManifestService,
    private readonly upstream: UpstreamClient,
    private readonly secrets: SecretBox,
    private readonly onStored?: ManifestListener,
  ) {}

  /** A manifest to read: from the cache when fresh, else from upstream; local repositories as usual. */
  async findManifest(name: string, referenceText: string): Promise<ManifestRecord> {
    const target = await this.remoteImage(name);
    let reference: Reference;
    try {
      reference = parseReference(referenceText);
    } catch {
      // An invalid reference names nothing: the local lookup answers it as for any repository.
      return this.manifests.find(name, referenceText);
    }
    if (!target) return this.manifests.find(name, referenceText);
    const cached = await this.cachedManifest(target, reference);
    if (cached.fresh) return cached.fresh;
    // One upstream exchange per image and reference at a time; those who waited find it cached.
    return this.manifestLocks.run(`${name}\n${referenceText}`, async () => {
      const again = await this.cachedManifest(target, reference);
      if (again.fresh) return again.fresh;
      if ('tag' in reference && again.stale) {
        return this.revalidate(target, again.stale.image, reference.tag, again.stale.manifest);
      }
      return this.fetchManifest(target, reference);
    });
  }

  /**
   * A blob the image does not hold, when the image is under a remote repository: fetched from
   * upstream (or linked, when another repository stored it already). With `tee`, the client gets the
   * bytes as they arrive and the answer is `streamed`; otherwise it is the cached blob. Undefined
   * for a local repository.
   */
  async fetchBlob(
    name: string,
    digestText: string,
    tee?: BlobTee,
  ): Promise<BlobInfo | 'streamed' | undefined> {
    const target = await this.remoteImage(name);
    if (!target) return undefined;
    const digest = parseDigest(digestText);
    const image = await this.ensureImage(target);
    let streamed = false;
    const size = await this.blobLocks.run(digest.value, async () => {
      const stored = await this.context.blobs.stat(digest.value);
      if (stored !== undefined && (await linkStoredBlob(this.context, image, digest.value, stored))) {
        return stored;
      }
      streamed = tee !== undefined;
      return this.fillFromUpstream(target, image, digest, tee);
    });
    return streamed ? 'streamed' : { digest: digest.value, size };
  }

  private async fillFromUpstream(
    target: RemoteImage,
    image: ImageRecord,
    digest: Digest,
    tee: BlobTee | undefined,
  ): Promise<number> {
    const response = await this.ask(target, 'GET', `/v2/${target.upstream}/blobs/${digest.value}`);
    if (response.status !== 200) {
      await response.body.dump();
      if (response.status === 404) {
        throw new RegistryError(
          'BLOB_UNKNOWN',
          `blob ${digest.value} is not in ${target.name.full}, nor in its upstream ${target.remote.url}`,
        );
      }
      throw unreadable(target, `it answered ${response.status}`);
    }
    const length = header(response, 'content-length');
    const size = length === undefined ? undefined : Number(length);
    try {
      if (size !== undefined) await this.refuseOverQuota(target, size);
    } catch (error) {
      // Dumped, not destroyed: a destroyed body with no reader emits an error nothing would handle.
      await response.body.dump().catch(() => undefined);
      throw error;
    }
    try {
      return await fillBlob(this.context, image, digest, { size, body: response.body }, tee);
    } catch (error) {
      // An upstream that stops mid-blob (reset, body timeout) is the upstream's failure, not ours.
      if (error instanceof RegistryError || isStorageFull(error)) throw error;
      throw unreadable(target, `it stopped sending blob ${digest.value}: ${(error as Error).message}`);
    }
  }

  /**
   * A blob that would take the project over its quota is refused before its bytes are streamed, so
   * the client hears DENIED rather than a download cut off (the link itself checks the quota again).
   */
  private async refuseOverQuota(target: RemoteImage, adding: number): Promise<void> {
    const { projects, usage } = this.context.metadata;
    const project = await projects.find(target.name.project);
    if (project?.storageQuota === undefined) return;
    const held = (await usage.project(project.id)).logicalBytes;
    if (held + adding > project.storageQuota) {
      throw quotaRefusal({
        outcome: 'over-quota',
        project: project.id,
        quota: project.storageQuota,
        usage: held,
        adding,
      });
    }
  }

  /** The local copy: fresh when it needs no upstream check (a digest, or a tag checked within the TTL). */
  private async cachedManifest(
    target: RemoteImage,
    reference: Reference,
  ): Promise<{ fresh?: ManifestRecord; stale?: { image: ImageRecord; manifest: ManifestRecord } }> {
    const { content, catalog, remotes } = this.context.metadata;
    const manifest = await content.findManifest(target.name.full, reference);
    if (!manifest) return {};
    if ('digest' in reference) return { fresh: manifest };
    const image = await catalog.findImage(target.name.full);
    if (!image) return {};
    const checkedAt = await remotes.tagCheckedAt(image.id, reference.tag);
    const now = this.context.clock.now().getTime();
    if (checkedAt && now - checkedAt.getTime() < target.remote.ttlMs) return { fresh: manifest };
    return { stale: { image, manifest } };
  }

  /**
   * Asks the upstream where a cached tag points now (a HEAD): the same digest extends the cached copy
   * for another TTL, another one is fetched. An upstream that is unreachable, refuses, or no longer
   * has the tag cannot confirm it: the cached copy is served (and the warning logged), and asked
   * about again after another TTL.
   */
  private async revalidate(
    target: RemoteImage,
    image: ImageRecord,
    tag: string,
    cached: ManifestRecord,
  ): Promise<ManifestRecord> {
    const { remotes } = this.context.metadata;
    let reason: string;
    try {
      const response = await this.ask(target, 'HEAD', `/v2/${target.upstream}/manifests/${tag}`, {
        accept: manifestAccept,
      });
      await response.body.dump();
      if (response.status === 200) {
        if (header(response, 'docker-content-digest') === cached.digest) {
          await remotes.recordTagCheck(image.id, tag, this.context.clock.now());
          return cached;
        }
        return await this.fetchManifest(target, { tag });
      }
      reason =
        response.status === 404
          ? 'the upstream no longer has the tag'
          : `the upstream answered ${response.status}`;
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      reason = error.message;
    }
    this.context.logger.warn(
      { image: target.name.full, tag, upstream: target.remote.url, digest: cached.digest, reason },
      'serving a cached tag its upstream could not confirm',
    );
    await remotes.recordTagCheck(image.id, tag, this.context.clock.now());
    return cached;
  }

  /** Fetches a manifest from upstream and stores it verbatim (its digest preserved); a tag is created or moved. */
  private async fetchManifest(target: RemoteImage, reference: Reference): Promise<ManifestRecord> {
    const name = target.name.full;
    const text = 'tag' in reference ? reference.tag : reference.digest;
    const response = await this.ask(target, 'GET', `/v2/${target.upstream}/manifests/${text}`, {
      accept: manifestAccept,
    });
    if (response.status !== 200) {
      await response.body.dump();
      if (response.status === 404) {
        throw new RegistryError(
          'MANIFEST_UNKNOWN',
          `manifest ${text} is not in ${name}, nor in its upstream ${target.remote.url} (as ${target.upstream})`,
        );
      }
      throw unreadable(target, `it answered ${response.status} for manifest ${text}`);
    }
    let body: Buffer;
    try {
      body = await readUpTo(response, maxManifestBytes, target);
    } catch (error) {
      if (error instanceof RegistryError) throw error;
      throw unreadable(target, `it stopped sending manifest ${text}: ${(error as Error).message}`);
    }
    const contentType = header(response, 'content-type')?.split(';')[0]?.trim();
    let parsed: ReturnType<typeof parseManifest>;
    try {
      parsed = parseManifest(body, contentType);
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      throw unreadable(target, `its manifest ${text} cannot be cached: ${error.message}`);
    }
    const digest =
      'digest' in reference ? digestOf(body, parseDigest(reference.digest).algorithm) : parsed.digest;
    const claimed = 'digest' in reference ? reference.digest : header(response, 'docker-content-digest');
    const sameAlgorithm = claimed?.split(':')[0] === digest.split(':')[0];
    if (claimed !== undefined && sameAlgorithm && claimed !== digest) {
      throw unreadable(target, `it sent a manifest with digest ${digest} for ${claimed}`);
    }
    const image = await this.ensureImage(target);
    const tag = 'tag' in reference ? reference.tag : undefined;
    const record = manifestRecord(digest, parsed, body.length);
    const { blobs, metadata, clock } = this.context;
    const keepExistingTag = tag !== undefined && (await tagsAreImmutable(metadata, target.name));
    const stored = await storeBytes({
      place: () => blobs.put(digest, body),
      record: async () => {
        const outcome = await metadata.content.putManifest(image.id, record, tag, clock.now(), {
          keepExistingTag,
          referencesFetchedLater: true,
        });
        return outcome.outcome === 'deleting' ? 'deleting' : outcome;
      },
      present: async () => (await blobs.stat(digest)) !== undefined,
    });
    if (stored.outcome === 'no-image') {
      throw new RegistryError('NAME_UNKNOWN', `${name} was deleted while its manifest was cached`);
    }
    if (stored.outcome === 'over-quota') throw quotaRefusal(stored);
    if (tag !== undefined) await metadata.remotes.recordTagCheck(image.id, tag, clock.now());
    if (stored.outcome === 'stored') await this.onStored?.({ name, digest, manifest: parsed });
    // A tag kept (immutable tags) still answers with what it points at.
    const found = await metadata.content.findManifest(
      name,
      stored.outcome === 'tag-kept' ? reference : { digest },
    );
    if (!found) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${text} is not in ${name}`);
    return found;
  }

  /** The remote repository an image is under, or undefined for a local repository. */
  private async remoteImage(nameText: string): Promise<RemoteImage | undefined> {
    const name = parseImageName(nameText);
    const remote = await this.context.metadata.remotes.find(name.project, name.repository);
    if (!remote) return undefined;
    return {
      name,
      remote,
      upstream: upstreamName(remote, name.image),
      endpoint: {
        url: remote.url,
        username: remote.username,
        password:
          remote.sealedPassword === undefined ? undefined : this.openPassword(name, remote.sealedPassword),
      },
    };
  }

  private openPassword(name: ImageName, sealed: string): string {
    try {
      return this.secrets.open(sealed);
    } catch {
      throw new RegistryError(
        'UNKNOWN',
        `the upstream password of ${name.project}/${name.repository} cannot be read with this instance's secret key ` +
          '(keys/instance-secret.key in the data directory): restore that key, or set the password again with ' +
          '`mistrive repos update --remote-password-stdin`',
        { status: 502 },
      );
    }
  }

  /** The image's record, created on its first pull (the remote repository exists: it was just read). */
  private async ensureImage(target: RemoteImage): Promise<ImageRecord> {
    const { catalog } = this.context.metadata;
    const { project, repository, full } = target.name;
    const now = this.context.clock.now();
    const existing = await catalog.findImage(full);
    if (existing) {
      if (existing.touchedAt < this.context.promises.refreshAfter(now))
        await catalog.touchImage(existing.id, now);
      return existing;
    }
    return catalog.ensureImage(project, repository, full, now);
  }

  private async ask(
    target: RemoteImage,
    method: 'GET' | 'HEAD',
    path: string,
    headers: Record<string, string> = {},
  ): Promise<UpstreamResponse> {
    try {
      return await this.upstream.request(target.endpoint, method, path, target.upstream, headers);
    } catch (error) {
      if (error instanceof UpstreamError) throw unreadable(target, error.message);
      throw error;
    }
  }
}

function header(response: UpstreamResponse, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What a pull of something not cached gets when the upstream cannot provide it. */
function unreadable(target: RemoteImage, reason: string): RegistryError {
  return new RegistryError(
    'UNKNOWN',
    `${target.name.full} is a pull-through cache of ${target.remote.url} and its upstream could not be read: ${reason}`,
    { status: 502 },
  );
}

async function readUpTo(response: UpstreamResponse, limit: number, target: RemoteImage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    // Leaving the loop by throwing closes the body through its iterator.
    if (size > limit) throw unreadable(target, `its manifest is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
