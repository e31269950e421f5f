import { type Digest, type Image, ManagementApi, type Tag } from '../../client/management-api.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import {
  checkTag,
  formatReference,
  type ImageReference,
  isFullDigest,
  parseImageReference,
  registryOf,
  resolveDigestPrefix,
} from '../references.js';
import { repositoryTarget } from './repositories.js';

/** `images list|describe|delete` and `tags list|add|delete`. */

export interface ImageList {
  readonly project: string;
  readonly repository: string;
  /** With --untagged, only the untagged digests (and the images that have some). */
  readonly images: Image[];
}

export interface ImageDescription {
  readonly image: Image;
  /** Every digest of the image, or the one the reference named, with size and platforms. */
  readonly digests: Digest[];
}

export interface ImageDeleted {
  readonly reference: string;
  /** The digests deleted, with the tags that pointed at them. */
  readonly deleted: { digest: string; tags: string[] }[];
  /** Every tag deleted with them. */
  readonly tags: string[];
}

export interface TagList {
  readonly image: string;
  readonly tags: Tag[];
}

export interface TagsAdded {
  readonly image: string;
  readonly digest: string;
  readonly tags: Tag[];
}

export interface TagDeleted {
  readonly image: string;
  readonly tag: string;
  readonly deleted: true;
}

export interface ResolvedImage {
  readonly api: ManagementApi;
  readonly reference: ImageReference;
}

/**
 * Parses an image reference and finds the registry it lives on. With `defaultTag`, a reference
 * naming neither tag nor digest means that tag, as `latest` does in Docker.
 */
export function resolveImage(
  context: CliContext,
  text: string,
  registryFlag?: string,
  defaultTag?: string,
): ResolvedImage {
  const parsed = parseImageReference(text);
  const reference = parsed.tag || parsed.digest || !defaultTag ? parsed : { ...parsed, tag: defaultTag };
  return {
    api: new ManagementApi(context.api(registryOf(context, reference.host, registryFlag))),
    reference,
  };
}

/**
 * The digest a reference names: its digest (a prefix of one resolved against the image's digests),
 * or the one its tag points at.
 */
export async function digestOf({ api, reference }: ResolvedImage): Promise<string> {
  if (reference.digest && isFullDigest(reference.digest)) return reference.digest;
  if (reference.digest) return expandDigest(api, reference, reference.digest);
  if (!reference.tag) {
    throw new CliError('USAGE', `"${formatReference(reference)}" names no tag or digest`, {
      hint: 'add :TAG or @sha256:…',
    });
  }
  const tags = await api.listTags(reference.project, reference.repository, reference.image);
  const found = tags.find((tag) => tag.name === reference.tag);
  if (!found) {
    throw new CliError(
      'NOT_FOUND',
      `there is no tag ${reference.tag} on ${formatReference({ ...reference, tag: undefined })}`,
      {
        hint: '`mistrive tags list IMAGE` shows its tags',
      },
    );
  }
  return found.digest;
}

/** The one digest of the image that starts with `prefix`. */
async function expandDigest(api: ManagementApi, reference: ImageReference, prefix: string): Promise<string> {
  const image = await api.getImage(reference.project, reference.repository, reference.image);
  return resolveDigestPrefix(
    prefix,
    image.digests.map((entry) => entry.digest),
    formatReference({ ...reference, tag: undefined, digest: undefined }),
  );
}

export async function listImages(
  context: CliContext,
  repository: string,
  options: { project?: string; registry?: string; untagged: boolean },
): Promise<ImageList> {
  const target = repositoryTarget(context, repository, options.project, options.registry);
  const images = await new ManagementApi(context.api(target.registry)).listImages(
    target.project,
    target.repository,
  );
  const shown = options.untagged
    ? images
        .map((image) => ({ ...image, digests: image.digests.filter((digest) => digest.tags.length === 0) }))
        .filter((image) => image.digests.length > 0)
    : images;
  return { project: target.project, repository: target.repository, images: shown };
}

export async function describeImage(
  context: CliContext,
  text: string,
  registryFlag?: string,
): Promise<ImageDescription> {
  const resolved = resolveImage(context, text, registryFlag);
  const { api, reference } = resolved;
  const image = await api.getImage(reference.project, reference.repository, reference.image);
  if (!reference.tag && !reference.digest) {
    return {
      image,
      digests: await api.listDigests(reference.project, reference.repository, reference.image),
    };
  }
  const digest = await digestOf(resolved);
  return {
    image,
    digests: [await api.getDigest(reference.project, reference.repository, reference.image, digest)],
  };
}

/** What `images delete` is about to delete, worked out before asking. */
export interface ImageDeletionPlan {
  readonly api: ManagementApi;
  readonly reference: ImageReference;
  /** No tag or digest named: the whole image goes. */
  readonly whole: boolean;
  readonly targets: { digest: string; tags: string[] }[];
}

/**
 * Works out what deleting a reference deletes. Deleting a digest deletes every tag pointing at it,
 * so a tag or digest that other tags point at is refused unless `deleteTags` says they may go, as
 * hosted registries' CLIs do; `tags delete` removes one tag and keeps the digest.
 */
export async function planImageDeletion(
  context: CliContext,
  text: string,
  options: { registry?: string; deleteTags: boolean },
): Promise<ImageDeletionPlan> {
  const resolved = resolveImage(context, text, options.registry);
  const { api, reference } = resolved;
  const { project, repository, image } = reference;
  if (!reference.tag && !reference.digest) {
    const found = await api.getImage(project, repository, image);
    const targets = found.digests.map((digest) => ({ digest: digest.digest, tags: digest.tags }));
    return { api, reference, whole: true, targets };
  }
  const digest = await digestOf(resolved);
  const { tags } = await api.getDigest(project, repository, image, digest);
  const others = tags.filter((tag) => tag !== reference.tag);
  if (others.length > 0 && !options.deleteTags) {
    const name = formatReference({ ...reference, tag: undefined, digest: undefined });
    const named = reference.tag
      ? `${name}:${reference.tag} is ${digest}, which ${plural(others, 'tag')} ${others.join(', ')} also point${others.length === 1 ? 's' : ''} at`
      : `${name}@${digest} is tagged ${others.join(', ')}`;
    throw new CliError(
      'FAILED_PRECONDITION',
      `${named}: deleting the digest deletes ${others.length === 1 ? 'that tag' : 'those tags'} too`,
      {
        hint: `add --delete-tags to delete the digest with all its tags (${tags.join(', ')}), or remove one tag with \`mistrive tags delete ${name}:${reference.tag ?? others[0]}\``,
      },
    );
  }
  // A digest prefix is shown whole from here on.
  const named = reference.digest ? { ...reference, digest } : reference;
  return { api, reference: named, whole: false, targets: [{ digest, tags }] };
}

/** The plan in words, for the confirmation: what goes, naming every tag. */
export function describeDeletion(plan: ImageDeletionPlan): string {
  const name = formatReference({ ...plan.reference, tag: undefined, digest: undefined });
  const tags = plan.targets.flatMap((target) => target.tags);
  const tagged = tags.length === 0 ? 'no tags' : `${plural(tags, 'tag')} ${tags.join(', ')}`;
  if (plan.whole) {
    return `image ${name}: ${plan.targets.length} ${plural(plan.targets, 'digest')} and ${tagged}`;
  }
  return `${name}@${plan.targets[0]?.digest} and ${tagged === 'no tags' ? 'no tags (it is untagged)' : tagged}`;
}

/** Deletes what the plan names: the whole image, or one digest with the tags pointing at it. */
export async function deleteImage(plan: ImageDeletionPlan): Promise<ImageDeleted> {
  const { api, reference } = plan;
  const { project, repository, image } = reference;
  if (plan.whole) await api.deleteImage(project, repository, image);
  else for (const target of plan.targets) await api.deleteDigest(project, repository, image, target.digest);
  return {
    reference: formatReference(reference),
    deleted: plan.targets,
    tags: plan.targets.flatMap((target) => target.tags),
  };
}

function plural(items: readonly unknown[], word: string): string {
  return items.length === 1 ? word : `${word}s`;
}

export async function listTags(context: CliContext, text: string, registryFlag?: string): Promise<TagList> {
  const { api, reference } = resolveImage(context, text, registryFlag);
  if (reference.tag || reference.digest) {
    throw new CliError(
      'USAGE',
      `give the image without a tag or digest: ${formatReference({ ...reference, tag: undefined, digest: undefined })}`,
    );
  }
  return {
    image: formatReference(reference),
    tags: await api.listTags(reference.project, reference.repository, reference.image),
  };
}

/** Points each new tag at the digest `source` names (moving a tag that exists). */
export async function addTags(
  context: CliContext,
  source: string,
  newTags: readonly string[],
  registryFlag?: string,
): Promise<TagsAdded> {
  const resolved = resolveImage(context, source, registryFlag);
  const { api, reference } = resolved;
  const names = newTags.map((tag) => {
    // A tag may be written alone or as a full reference to the same image.
    if (!tag.includes('/') && !tag.includes(':')) return checkTag(tag);
    const target = parseImageReference(tag);
    const same =
      target.project === reference.project &&
      target.repository === reference.repository &&
      target.image === reference.image;
    if (!same || !target.tag) {
      throw new CliError(
        'USAGE',
        `"${tag}" is not a tag of ${formatReference({ ...reference, tag: undefined, digest: undefined })}`,
        {
          hint: 'a tag points at a digest of the same image: give TAG or IMAGE:TAG',
        },
      );
    }
    return target.tag;
  });
  const digest = await digestOf(resolved);
  const tags: Tag[] = [];
  for (const name of names)
    tags.push(await api.setTag(reference.project, reference.repository, reference.image, name, digest));
  return { image: formatReference({ ...reference, tag: undefined, digest: undefined }), digest, tags };
}

export async function deleteTag(
  context: CliContext,
  text: string,
  registryFlag?: string,
): Promise<TagDeleted> {
  const { api, reference } = resolveImage(context, text, registryFlag);
  if (!reference.tag || reference.digest) {
    throw new CliError('USAGE', `"${text}" names no tag`, {
      hint: 'write IMAGE:TAG, e.g. my-project/backend/api:v1',
    });
  }
  await api.deleteTag(reference.project, reference.repository, reference.image, reference.tag);
  return { image: formatReference({ ...reference, tag: undefined }), tag: reference.tag, deleted: true };
}
