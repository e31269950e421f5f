import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { pathParams, requestSchema, responseSchema } from '../schemas.js';
import type { ImageCopyService } from './image-copy-service.js';
import { digestParam, imageParam, tagParam } from './image-routes.js';

const copyRequest = requestSchema(
  'ImageCopyRequest',
  z
    .object({
      source: z
        .object({
          project: pathParams.project,
          repository: pathParams.repository,
          image: imageParam.describe('The image name inside the source repository, e.g. backend/api'),
          tag: tagParam.optional().describe('The tag to copy (latest when neither tag nor digest is given)'),
          digest: digestParam.optional().describe('The digest to copy'),
        })
        .strict(),
      tag: tagParam.optional().describe("The destination tag; the source's tag when not given"),
      allTags: z.boolean().optional().describe('Copy every tag of the source image'),
      platform: z
        .string()
        .regex(/^[a-z0-9._-]+\/[a-z0-9._-]+(\/[a-z0-9._-]+)?$/, 'must be OS/ARCH[/VARIANT], e.g. linux/amd64')
        .optional()
        .describe('Copy only this platform of an index'),
      withReferrers: z.boolean().optional().describe('Also copy the manifests whose subject is a copied one'),
    })
    .strict(),
);

const copyResult = responseSchema(
  'ImageCopyResult',
  z.object({
    images: z.array(z.object({ tag: z.string().optional(), digest: z.string(), mediaType: z.string() })),
    manifests: z.array(z.object({ digest: z.string(), action: z.enum(['copied', 'skipped']) })),
    blobsMounted: z.number().int(),
    blobsSkipped: z.number().int(),
  }),
);

export function imageCopyOperations(copies: ImageCopyService): ApiOperation[] {
  return [
    operation({
      id: 'copyImage',
      method: 'POST',
      path: '/api/v1/projects/{project}/repositories/{repository}/images/{image}/copy',
      tag: 'Images',
      summary: 'Copy an image of this instance into this image (server-side: no bytes leave the registry)',
      description:
        'The path names the destination; the body names the source. Blobs are linked as a cross-repository mount ' +
        'does and manifests stored as their exact bytes, so digests are preserved. Needs the viewer role on the ' +
        'source repository and the editor role on the destination.',
      params: z.object({
        project: pathParams.project,
        repository: pathParams.repository,
        image: imageParam,
      }),
      body: copyRequest,
      response: copyResult,
      handle: ({ caller, params, body }) => copies.copy(caller, params, body),
    }),
  ];
}
