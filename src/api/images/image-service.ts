import { z } from 'zod';
import type { ManifestRecord, MetadataStore } from '../../db/metadata.js';
import type { ImageSummary, TagFilter, TaggedManifest, TagRecord } from '../../db/resources.js';
import { RegistryError } from '../../errors/registry-error.js';
import { emitDeleted, type RegistryEvents } from '../../events/registry-events.js';
import type { Permission } from '../../iam/policy.js';
import { type Caller, subjectOf } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import { immutableTagRefusal } from '../../oci/immutable-tags.js';
import { imageConfigTypes } from '../../oci/media-types.js';
import { type ImageName, parseImageName } from '../../oci/names.js';
import type { PullPolicy } from '../../policies/pull-policy.js';
import { blocksAnything } from '../../policies/security-policy.js';
import { type ApiAccess, repositoryNotFound } from '../access-checks.js';
import {
  collectPage,
  decodePageToken,
  encodePageToken,
  type PageQuery,
  type PageResult,
} from '../pagination.js';
import { iso, platformView, responseSchema, timestamp } from '../schemas.js';
import type {
  ManifestContents,
  ManifestDetails,
  ManifestDetailsReader,
  Platform,
} from './manifest-details.js';
import { type ScanView, type ScanViews, scanView } from './scan-views.js';

export const digestView = responseSchema(
  'Digest',
  z.object({
    digest: z.string(),
    image: z.string().describe('The image name inside its repository, e.g. backend/api'),
    mediaType: z.string(),
    artifactType: z.string().optional(),
    tags: z.array(z.string()),
    size: z.number().int().describe('Bytes of the manifest and everything it references, each counted once'),
    createdAt: timestamp.describe('When it was pushed'),
    imageCreatedAt: timestamp.optional().describe("The image config's created time, when it has one"),
    platforms: z.array(platformView).optional().describe('For an index: the platforms of its images'),
    subject: z.string().optional().describe('The digest this artifact refers to (signatures, SBOMs)'),
    scan: scanView,
    pullPolicy: z
      .object({ pullable: z.boolean(), reason: z.string().optional() })
      .optional()
      .describe(
        "Present when the repository's security policy can block pulls: whether this digest may be pulled (owners and exempt principals aside), and why not",
      ),
  }),
  'One manifest of an image, by digest',
);

const digestSummary = z.object({
  digest: z.string(),
  mediaType: z.string(),
  tags: z.array(z.string()),
  size: z
    .number()
    .int()
    .describe(
      'Bytes of the manifest and everything it references, each counted once: for an image, the manifest, its config and layers; for an index, its own bytes and its platform images',
    ),
  createdAt: timestamp,
  platform: platformView
    .optional()
    .describe('For an image an index of the image lists: its platform, as the index names it'),
  indexes: z
    .array(z.string())
    .optional()
    .describe('For an image an index of the image lists: the digests of those indexes'),
  scan: scanView,
});

export const imageView = responseSchema(
  'Image',
  z.object({
    name: z.string().describe('The image name inside its repository, e.g. backend/api'),
    fullName: z.string().describe('PROJECT/REPOSITORY/IMAGE, as in image references'),
    createdAt: timestamp,
    updatedAt: timestamp.describe('The latest push or tag change'),
    digests: z.array(digestSummary),
  }),
);

export const tagView = responseSchema(
  'Tag',
  z.object({ name: z.string(), digest: z.string(), updatedAt: timestamp }),
);

export type DigestView = z.input<typeof digestView>;
export type ImageView = z.input<typeof imageView>;
export type TagView = z.input<typeof tagView>;

/** One image of a repository at a glance. */
export interface ImageListing {
  readonly name: string;
  readonly fullName: string;
  readonly digests: number;
  readonly tags: number;
  readonly latestTag: string | undefined;
  /** Bytes of its latest push, the manifest and all it references; 0 when it has none. */
  readonly size: number;
  readonly updatedAt: string;
}

export interface PushTimeListing extends PageQuery {
  readonly newestFirst: boolean;
  readonly tags: TagFilter;
}

/** A manifest that refers to another (a signature, an SBOM). */
export interface ReferrerView {
  readonly digest: string;
  readonly mediaType: string;
  readonly artifactType: string | undefined;
  readonly createdAt: string;
}

/** Everything known of one digest: its summary, what its manifest lists, and what refers to it. */
export interface DigestInspection {
  readonly digest: DigestView;
  readonly contents: ManifestContents;
  readonly annotations: Record<string, string>;
  readonly referrers: ReferrerView[];
}

interface ResolvedImage {
  readonly name: ImageName;
  readonly record: ImageSummary;
  readonly immutableTags: boolean;
}

const viewTag = (tag: TagRecord): TagView => ({
  name: tag.name,
  digest: tag.digest,
  updatedAt: iso(tag.updatedAt),
});

/** Images, their digests and their tags, inside one repository. */
export class ImageService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly details: ManifestDetailsReader,
    private readonly clock: Clock,
    private readonly scans: ScanViews,
    private readonly events: RegistryEvents,
    private readonly pulls: PullPolicy,
  ) {}

  async list(
    caller: Caller,
    project: string,
    repository: string,
    query: PageQuery,
  ): Promise<PageResult<ImageView>> {
    await this.repository(caller, project, repository, 'read');
    const page = await collectPage(
      `images ${project}/${repository}`,
      query,
      (after, limit) => this.metadata.images.list(project, repository, after, limit),
      (image) => image.name,
    );
    const items: ImageView[] = [];
    for (const image of page.items) items.push(await this.viewImage(image));
    return { items, nextPageToken: page.nextPageToken };
  }

  /** Every image of the repository with its counts, latest tag, size and last change. */
  async listings(caller: Caller, project: string, repository: string): Promise<ImageListing[]> {
    await this.repository(caller, project, repository, 'read');
    const stats = await this.metadata.images.stats(project, repository);
    return Promise.all(
      stats.map(async (image) => {
        const name = parseImageName(image.name);
        const latest = image.latestDigest
          ? await this.metadata.content.findManifest(image.name, { digest: image.latestDigest })
          : undefined;
        return {
          name: name.image,
          fullName: name.full,
          digests: image.digests,
          tags: image.tags,
          latestTag: image.latestTag,
          size: latest ? (await this.details.describe(name.full, latest)).size : 0,
          updatedAt: iso(image.updatedAt),
        };
      }),
    );
  }

  /** An image's digests by push time, newest or oldest first, all or only the tagged or untagged ones. */
  async listDigestsByPushTime(
    caller: Caller,
    project: string,
    repository: string,
    image: string,
    query: PushTimeListing,
  ): Promise<PageResult<DigestView>> {
    const { name, record } = await this.image(caller, project, repository, image, 'read');
    const listing = `digests ${name.full} ${query.newestFirst ? 'newest' : 'oldest'} ${query.tags}`;
    const position = decodePageToken(listing, query.pageToken);
    const separator = position?.indexOf(' ') ?? -1;
    const after =
      position !== undefined && separator > 0
        ? { createdAt: new Date(Number(position.slice(0, separator))), digest: position.slice(separator + 1) }
        : undefined;
    const page = await this.metadata.images.manifestsByPushTime(record.id, {
      newestFirst: query.newestFirst,
      tags: query.tags,
      after,
      limit: query.pageSize,
    });
    const last = page.items.at(-1);
    return {
      items: await this.viewDigests(name, page.items),
      nextPageToken:
        page.more && last
          ? encodePageToken(listing, `${last.createdAt.getTime()} ${last.digest}`)
          : undefined,
    };
  }

  /** A digest with what its manifest lists (config, layers, platforms, annotations) and its referrers. */
  async inspect(
    caller: Caller,
    project: string,
    repository: string,
    image: string,
    digest: string,
  ): Promise<DigestInspection> {
    const { name, record } = await this.image(caller, project, repository, image, 'read');
    const manifest = await this.metadata.content.findManifest(name.full, { digest });
    if (!manifest) throw digestNotFound(name, digest);
    const tagged = { ...manifest, tags: await this.metadata.images.tagsOf(record.id, digest) };
    const referrers = await this.metadata.content.listReferrers(record.id, digest, undefined);
    return {
      digest: await this.viewDigest(name, tagged),
      contents: await this.details.contents(manifest),
      annotations: manifest.annotations ?? {},
      referrers: referrers.map((referrer) => ({
        digest: referrer.digest,
        mediaType: referrer.mediaType,
        artifactType: referrer.artifactType,
        createdAt: iso(referrer.createdAt),
      })),
    };
  }

  async get(caller: Caller, project: string, repository: string, image: string): Promise<ImageView> {
    const resolved = await this.image(caller, project, repository, image, 'read');
    return this.viewImage(resolved.record);
  }

  /** Deletes an image with all its digests and tags; refused while tagged in an immutable repository. */
  async delete(caller: Caller, project: string, repository: string, image: string): Promise<void> {
    const { name, record, immutableTags } = await this.image(caller, project, repository, image, 'delete');
    const outcome = await this.metadata.images.delete(record.id, { keepTagged: immutableTags });
    if (outcome === 'tagged') throw immutableTagRefusal(name, { kind: 'delete-image' });
    if (outcome === 'missing') throw imageNotFound(name);
    await emitDeleted(this.events, name, { target: 'image' }, subjectOf(caller));
  }

  async listDigests(
    caller: Caller,
    project: string,
    repository: string,
    image: string,
    query: PageQuery,
  ): Promise<PageResult<DigestView>> {
    const { name, record } = await this.image(caller, project, repository, image, 'read');
    const page = await collectPage(
      `digests ${name.full}`,
      query,
      (after, limit) => this.metadata.images.manifests(record.id, after, limit),
      (manifest) => manifest.digest,
    );
    return { items: await this.viewDigests(name, page.items), nextPageToken: page.nextPageToken };
  }

  async getDigest(
    caller: Caller,
    project: string,
    repository: string,
    image: string,
    digest: string,
  ): Promise<DigestView> {
    const { name, record } = await this.image(caller, project, repository, image, 'read');
    const manifest = await this.metadata.content.findManifest(name.full, { digest });
    if (!manifest) throw digestNotFound(name, digest);
    return this.viewDigest(name, { ...manifest, tags: await this.metadata.images.tagsOf(record.id, digest) });
  }

  /**
   * A manifest of the image, after checking the caller's access to its repository: what is known
   * of a digest (its scan) is only shown through an image that holds it.
   */
  async manifest(
    caller: Caller,
    project: string,
    repository: string,
    image: string,
    digest: string,
    need: Permission,
  ): Promise<{ readonly name: ImageName; readonly manifest: ManifestRecord }> {
    const { name } = await this.image(caller, project, repository, image, need);
    const manifest = await this.metadata.content.findManifest(name.full, { digest });
    if (!manifest) throw digestNotFound(name, digest);
    return { name, manifest };
  }

  /** Deletes a manifest and the tags pointing at it (refused for tagged ones when tags are immutable). */
  async deleteDigest(
    caller: Caller,
    project: string,
    repository: string,
    image: string,
    digest: string,
  ): Promise<void> {
    const { name, record, immutableTags } = await this.image(caller, project, repository, image, 'delete');
    const outcome = await this.metadata.images.deleteManifest(record.id, digest, {
      keepTagged: immutableTags,
    });
    if (outcome === 'missing') throw digestNotFound(name, digest);
    if (outcome === 'referenced') {
      // As on /v2/: deleting what an index still lists would leave that index unpullable.
      const indexes = await this.metadata.content.manifestsReferencing(record.id, digest, 5);
      throw new RegistryError(
        'FAILED_PRECONDITION',
        `${digest} is listed by index ${indexes.join(', ')} of ${name.full}; delete the index first`,
        { detail: { manifests: indexes } },
      );
    }
    if (outcome === 'tagged') {
      const tags = await this.metadata.images.tagsOf(record.id, digest);
      throw immutableTagRefusal(name, { kind: 'delete-tagged', digest, tags });
    }
    await emitDeleted(this.events, name, { target: 'manifest', digest }, subjectOf(caller));
  }

  async listTags(
    caller: Caller,
    project: string,
    repository: string,
    image: string,
    query: PageQuery,
  ): Promise<PageResult<TagView>> {
    const { name, record } = await this.image(caller, project, repository, image, 'read');
    const page = await collectPage(
      `tags ${name.full}`,
      query,
      (after, limit) => this.metadata.images.tags(record.id, after, limit),
      (tag) => tag.name,
    );
    return { items: page.items.map(viewTag), nextPageToken: page.nextPageToken };
  }

  /** Points a tag at a digest of the image: creates it, or moves it unless tags are immutable. */
  async setTag(
    caller: Caller,
    project: string,
    repository: string,
    image: string,
    tag: string,
    digest: string,
  ): Promise<TagView> {
    const { name, record, immutableTags } = await this.image(caller, project, repository, image, 'write');
    const outcome = await this.metadata.images.setTag(record.id, tag, digest, this.clock.now(), {
      keepExisting: immutableTags,
    });
    if (outcome === 'no-manifest') throw digestNotFound(name, digest);
    if (outcome === 'kept') throw immutableTagRefusal(name, { kind: 'move', tag });
    const stored = await this.metadata.images.findTag(record.id, tag);
    if (!stored) throw tagNotFound(name, tag);
    return viewTag(stored);
  }

  async deleteTag(
    caller: Caller,
    project: string,
    repository: string,
    image: string,
    tag: string,
  ): Promise<void> {
    const { name, record, immutableTags } = await this.image(caller, project, repository, image, 'delete');
    if (immutableTags && (await this.metadata.images.findTag(record.id, tag))) {
      throw immutableTagRefusal(name, { kind: 'delete', tag });
    }
    if (!(await this.metadata.content.deleteTag(record.id, tag))) throw tagNotFound(name, tag);
    await emitDeleted(this.events, name, { target: 'tag', tag }, subjectOf(caller));
  }

  private async repository(caller: Caller, project: string, repository: string, need: Permission) {
    await this.access.repository(caller, project, repository, need);
    const found = await this.metadata.repositories.find(project, repository);
    if (!found) throw repositoryNotFound(project, repository);
    return found;
  }

  private async image(
    caller: Caller,
    project: string,
    repository: string,
    image: string,
    need: Permission,
  ): Promise<ResolvedImage> {
    const found = await this.repository(caller, project, repository, need);
    const name = parseImageName(`${project}/${repository}/${image}`);
    const record = await this.metadata.images.find(name.full);
    if (!record) throw imageNotFound(name);
    return { name, record, immutableTags: found.immutableTags };
  }

  private async viewImage(image: ImageSummary): Promise<ImageView> {
    const name = parseImageName(image.name);
    const manifests = await this.metadata.images.allManifests(image.id);
    const scans = await this.scans.ofAll(manifests);
    const details = await Promise.all(manifests.map((m) => this.details.describe(name.full, m)));
    // Platform images are listed by an index: say which, and the platform the index gives them.
    const listedBy = new Map<string, { platform: Platform | undefined; indexes: string[] }>();
    manifests.forEach((m, position) => {
      for (const child of details[position]?.children ?? []) {
        const entry = listedBy.get(child.digest) ?? { platform: child.platform, indexes: [] };
        entry.indexes.push(m.digest);
        listedBy.set(child.digest, { ...entry, platform: entry.platform ?? child.platform });
      }
    });
    return {
      name: name.image,
      fullName: name.full,
      createdAt: iso(image.createdAt),
      updatedAt: iso(image.updatedAt),
      digests: manifests.map((m, position) => {
        const parent = listedBy.get(m.digest);
        return {
          digest: m.digest,
          mediaType: m.mediaType,
          tags: m.tags,
          size: details[position]?.size ?? m.size,
          createdAt: iso(m.createdAt),
          ...(parent?.platform ? { platform: parent.platform } : {}),
          ...(parent ? { indexes: parent.indexes } : {}),
          scan: scans.get(m.digest) as ScanView,
        };
      }),
    };
  }

  private async viewDigest(name: ImageName, manifest: TaggedManifest): Promise<DigestView> {
    return (await this.viewDigests(name, [manifest]))[0] as DigestView;
  }

  /** Views of several digests: their details read side by side, their scans together. */
  private async viewDigests(name: ImageName, manifests: readonly TaggedManifest[]): Promise<DigestView[]> {
    const [details, scans, verdicts] = await Promise.all([
      Promise.all(manifests.map((manifest) => this.details.describe(name.full, manifest))),
      this.scans.ofAll(manifests),
      this.pullVerdicts(name, manifests),
    ]);
    return manifests.map((manifest, index) => {
      const verdict = verdicts?.[index];
      return {
        ...this.digestOf(
          name,
          manifest,
          details[index] as ManifestDetails,
          scans.get(manifest.digest) as ScanView,
        ),
        ...(verdict
          ? {
              pullPolicy: verdict.pullable ? { pullable: true } : { pullable: false, reason: verdict.reason },
            }
          : {}),
      };
    });
  }

  /** What the repository's security policy says of each manifest; undefined when it blocks nothing. */
  private async pullVerdicts(name: ImageName, manifests: readonly TaggedManifest[]) {
    const policy = await this.pulls.effective(name.project, name.repository);
    if (!blocksAnything(policy)) return undefined;
    return Promise.all(manifests.map((m) => this.pulls.judge(policy, m.digest, m.mediaType)));
  }

  private digestOf(
    name: ImageName,
    manifest: TaggedManifest,
    details: ManifestDetails,
    scan: ScanView,
  ): DigestView {
    return {
      digest: manifest.digest,
      image: name.image,
      mediaType: manifest.mediaType,
      ...(manifest.artifactType && !imageConfigTypes.has(manifest.artifactType)
        ? { artifactType: manifest.artifactType }
        : {}),
      tags: manifest.tags,
      size: details.size,
      createdAt: iso(manifest.createdAt),
      ...(details.imageCreatedAt ? { imageCreatedAt: iso(details.imageCreatedAt) } : {}),
      ...(details.platforms ? { platforms: details.platforms } : {}),
      ...(manifest.subjectDigest ? { subject: manifest.subjectDigest } : {}),
      scan,
    };
  }
}

function imageNotFound(name: ImageName): RegistryError {
  return new RegistryError('NOT_FOUND', `image ${name.full} not found`);
}

function digestNotFound(name: ImageName, digest: string): RegistryError {
  return new RegistryError('NOT_FOUND', `${digest} is not a manifest of ${name.full}`);
}

function tagNotFound(name: ImageName, tag: string): RegistryError {
  return new RegistryError('NOT_FOUND', `tag ${tag} of ${name.full} not found`);
}
