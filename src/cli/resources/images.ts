import { type Digest, type Image, ManagementApi, type Tag } from '../../client/management-api.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { formatReference, type ImageReference, parseImageReference, registryOf } from '../references.js';
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

/** The digest a reference names: its digest, or the one its tag points at. */
export async function digestOf({ api, reference }: ResolvedImage): Promise<string> {
  if (reference.digest) return reference.digest;
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

/** Deletes a whole image, or one digest (named by digest or by a tag pointing at it) with its tags. */
export async function deleteImage(
  context: CliContext,
  text: string,
  registryFlag?: string,
): Promise<ImageDeleted> {
  const resolved = resolveImage(context, text, registryFlag);
  const { api, reference } = resolved;
  const { project, repository, image } = reference;
  if (!reference.tag && !reference.digest) {
    const found = await api.getImage(project, repository, image);
    await api.deleteImage(project, repository, image);
    return {
      reference: formatReference(reference),
      deleted: found.digests.map((digest) => ({ digest: digest.digest, tags: digest.tags })),
    };
  }
  const digest = await digestOf(resolved);
  const found = await api.getDigest(project, repository, image, digest);
  await api.deleteDigest(project, repository, image, digest);
  return { reference: formatReference(reference), deleted: [{ digest, tags: found.tags }] };
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
  const digest = await digestOf(resolved);
  const names = newTags.map((tag) => {
    // A tag may be written alone or as a full reference to the same image.
    if (!tag.includes('/') && !tag.includes(':')) return tag;
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
