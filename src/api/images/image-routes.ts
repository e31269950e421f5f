import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { pageQuery } from '../pagination.js';
import { pathParams, requestSchema, responseSchema } from '../schemas.js';
import { digestView, type ImageService, imageView, tagView } from './image-service.js';

const ociComponent = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const digestPattern = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export const imageParam = z
  .string()
  .max(200)
  .regex(
    new RegExp(`^${ociComponent}(?:/${ociComponent})*$`),
    'must be lowercase letters and digits separated by ".", "_", "__", "-" or "/"',
  )
  .describe(
    'The image name inside the repository, percent-encoded as one segment: backend%2Fapi for backend/api',
  );
export const digestParam = z
  .string()
  .regex(digestPattern, 'must be a digest: sha256: and 64 lowercase hex characters (or sha512: and 128)');
export const tagParam = z
  .string()
  .regex(
    /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/,
    'must be up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"',
  );

const repositoryParams = z.object({ project: pathParams.project, repository: pathParams.repository });
const imageParams = repositoryParams.extend({ image: imageParam });
export const digestParams = imageParams.extend({ digest: digestParam });
const tagParams = imageParams.extend({ tag: tagParam });

const tagTarget = requestSchema(
  'TagTarget',
  z
    .object({ digest: digestParam.describe('The manifest the tag points at, a digest of the same image') })
    .strict(),
);

const imageList = responseSchema(
  'ImageList',
  z.object({ images: z.array(imageView), nextPageToken: z.string().optional() }),
);
const digestList = responseSchema(
  'DigestList',
  z.object({ digests: z.array(digestView), nextPageToken: z.string().optional() }),
);
const tagList = responseSchema(
  'TagList',
  z.object({ tags: z.array(tagView), nextPageToken: z.string().optional() }),
);

export function imageOperations(images: ImageService): ApiOperation[] {
  const base = '/api/v1/projects/{project}/repositories/{repository}/images';
  const image = `${base}/{image}`;
  return [
    operation({
      id: 'listImages',
      method: 'GET',
      path: base,
      tag: 'Images',
      summary: 'List the images of a repository, with their digests and tags',
      params: repositoryParams,
      query: pageQuery,
      response: imageList,
      handle: async ({ caller, params, query }) => {
        const page = await images.list(caller, params.project, params.repository, query);
        return { images: page.items, nextPageToken: page.nextPageToken };
      },
    }),
    operation({
      id: 'getImage',
      method: 'GET',
      path: image,
      tag: 'Images',
      summary: 'Get an image, with its digests and tags',
      params: imageParams,
      response: imageView,
      handle: ({ caller, params }) => images.get(caller, params.project, params.repository, params.image),
    }),
    operation({
      id: 'deleteImage',
      method: 'DELETE',
      path: image,
      tag: 'Images',
      summary: 'Delete an image with all its digests and tags',
      description:
        'Needs the owner role on the repository. Refused while it has tags in a repository with immutable tags.',
      params: imageParams,
      handle: async ({ caller, params }) =>
        images.delete(caller, params.project, params.repository, params.image),
    }),
    operation({
      id: 'listDigests',
      method: 'GET',
      path: `${image}/digests`,
      tag: 'Images',
      summary: 'List the digests (manifests) of an image, with tags, size and platforms',
      params: imageParams,
      query: pageQuery,
      response: digestList,
      handle: async ({ caller, params, query }) => {
        const page = await images.listDigests(caller, params.project, params.repository, params.image, query);
        return { digests: page.items, nextPageToken: page.nextPageToken };
      },
    }),
    operation({
      id: 'getDigest',
      method: 'GET',
      path: `${image}/digests/{digest}`,
      tag: 'Images',
      summary: 'Get one digest of an image',
      params: digestParams,
      response: digestView,
      handle: ({ caller, params }) =>
        images.getDigest(caller, params.project, params.repository, params.image, params.digest),
    }),
    operation({
      id: 'deleteDigest',
      method: 'DELETE',
      path: `${image}/digests/{digest}`,
      tag: 'Images',
      summary: 'Delete a manifest by digest, with the tags pointing at it',
      description:
        'Needs the owner role on the repository. Refused for a tagged manifest when tags are immutable.',
      params: digestParams,
      handle: async ({ caller, params }) =>
        images.deleteDigest(caller, params.project, params.repository, params.image, params.digest),
    }),
    operation({
      id: 'listTags',
      method: 'GET',
      path: `${image}/tags`,
      tag: 'Tags',
      summary: 'List the tags of an image, with the digest each points at',
      params: imageParams,
      query: pageQuery,
      response: tagList,
      handle: async ({ caller, params, query }) => {
        const page = await images.listTags(caller, params.project, params.repository, params.image, query);
        return { tags: page.items, nextPageToken: page.nextPageToken };
      },
    }),
    operation({
      id: 'setTag',
      method: 'PUT',
      path: `${image}/tags/{tag}`,
      tag: 'Tags',
      summary: 'Add a tag, or move it to another digest',
      description:
        'Needs the editor role on the repository. Moving an existing tag is refused when the repository has immutable tags.',
      params: tagParams,
      body: tagTarget,
      response: tagView,
      handle: ({ caller, params, body }) =>
        images.setTag(caller, params.project, params.repository, params.image, params.tag, body.digest),
    }),
    operation({
      id: 'deleteTag',
      method: 'DELETE',
      path: `${image}/tags/{tag}`,
      tag: 'Tags',
      summary: 'Delete a tag (the manifest stays)',
      description: 'Needs the owner role on the repository. Refused when the repository has immutable tags.',
      params: tagParams,
      handle: async ({ caller, params }) =>
        images.deleteTag(caller, params.project, params.repository, params.image, params.tag),
    }),
  ];
}
