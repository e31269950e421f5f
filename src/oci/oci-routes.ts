import { RegistryError } from '../errors/registry-error.js';
import type { SecretBox } from '../lib/secret-box.js';
import { PullThrough } from '../remote/pull-through.js';
import type { UpstreamClient } from '../remote/upstream-client.js';
import {
  bodyChunks,
  contentLength,
  type Headers,
  hasBody,
  notModified,
  readLimited,
  send,
  sendJson,
} from '../server/http.js';
import { principalOf } from '../server/request-identity.js';
import type { Handler, RequestContext, Route } from '../server/router.js';
import { type BlobInfo, BlobService, parseByteRange } from './blob-service.js';
import { ListingService, parsePageRequest } from './listing-service.js';
import { maxManifestBytes } from './manifest.js';
import { type ManifestListener, ManifestService } from './manifest-service.js';
import { parseImageName } from './names.js';
import type { RegistryContext } from './registry-context.js';
import { UploadService, type UploadState } from './upload-service.js';

/** Names may contain `/`, so routes are anchored on the fixed segments after them. */
const name = '(?<name>[^?#]+?)';

/**
 * The chunk size clients should send at least, except for the last chunk (`OCI-Chunk-Min-Length`
 * on every upload session answer). Smaller chunks are still accepted; below about a MiB each
 * chunk's request costs more than its bytes.
 */
export const chunkMinLength = 1024 * 1024;

/** Whether the caller may read another image (for mounts and the catalog); the auth layer supplies it. */
export type ReadCheck = (req: RequestContext['req'], name: string) => Promise<boolean>;

/**
 * Throws when the caller may not receive a manifest's content (a security policy); asked before a
 * manifest GET answers, once the reference is resolved to a digest.
 */
export type ManifestPullCheck = (
  req: RequestContext['req'],
  name: string,
  manifest: { readonly digest: string; readonly mediaType: string },
) => Promise<void>;

export interface OciServices {
  readonly blobs: BlobService;
  readonly uploads: UploadService;
  readonly manifests: ManifestService;
  readonly listings: ListingService;
  /** Remote repositories: what a pull finds missing there is fetched from their upstream. */
  readonly pullThrough?: PullThrough;
}

export interface OciServiceOptions {
  /** Told of every manifest stored (scanning). */
  readonly onManifestStored?: ManifestListener;
  /** Serve remote repositories (pull-through caches) through this upstream client. */
  readonly remotes?: { readonly upstream: UpstreamClient; readonly secrets: SecretBox };
}

export function createOciServices(context: RegistryContext, options: OciServiceOptions = {}): OciServices {
  const manifests = new ManifestService(context, options.onManifestStored);
  const { remotes } = options;
  return {
    blobs: new BlobService(context),
    uploads: new UploadService(context),
    manifests,
    listings: new ListingService(context),
    ...(remotes
      ? {
          pullThrough: new PullThrough(
            context,
            manifests,
            remotes.upstream,
            remotes.secrets,
            options.onManifestStored,
          ),
        }
      : {}),
  };
}

/** The OCI Distribution Spec v1.1 endpoints under /v2/. */
export function ociRoutes(
  services: OciServices,
  canRead: ReadCheck,
  checkPull: ManifestPullCheck = async () => {},
): Route[] {
  const { blobs, uploads, manifests, listings, pullThrough } = services;

  const findManifest = (name: string, reference: string) =>
    pullThrough ? pullThrough.findManifest(name, reference) : manifests.find(name, reference);

  const imageName = ({ params }: RequestContext) => {
    const value = params.name ?? '';
    // Percent-encoding has no place in a name: refusing it here stops `%2F` and `%2E%2E` tricks.
    parseImageName(value);
    return value;
  };

  const uploadLocation = (image: string, upload: UploadState) => ({
    Location: `/v2/${image}/blobs/uploads/${upload.id}`,
    'Docker-Upload-UUID': upload.id,
    Range: `0-${Math.max(upload.size - 1, 0)}`,
    'OCI-Chunk-Min-Length': chunkMinLength,
    'Content-Length': 0,
  });

  const blobCreated = (image: string, digest: string) => ({
    Location: `/v2/${image}/blobs/${digest}`,
    'Docker-Content-Digest': digest,
    'Content-Length': 0,
  });

  const blobHeaders = (digest: string) => ({
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    ETag: `"${digest}"`,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'max-age=31536000',
  });

  /**
   * A blob the image does not hold, from a remote repository's upstream. A whole GET streams it to
   * the client while it is stored; a HEAD or a range waits until it is cached. Rethrows `missing` for
   * a local repository.
   */
  const pullBlobThrough = async (context: RequestContext, missing: unknown) => {
    const { req, res, params } = context;
    const isMissing =
      missing instanceof RegistryError &&
      (missing.code === 'BLOB_UNKNOWN' || missing.code === 'NAME_UNKNOWN');
    if (!pullThrough || !isMissing) throw missing;
    const digest = params.digest ?? '';
    const streams = req.method === 'GET' && !req.headers.range && !req.headers['if-none-match'];
    let fetched: Awaited<ReturnType<typeof pullThrough.fetchBlob>>;
    try {
      fetched = await pullThrough.fetchBlob(
        imageName(context),
        digest,
        streams
          ? (size) => {
              res.writeHead(200, {
                ...blobHeaders(digest),
                ...(size === undefined ? {} : { 'Content-Length': size }),
              });
              return res;
            }
          : undefined,
      );
    } catch (error) {
      // A HEAD is how a pushing client asks whether to upload: with the upstream unreachable, the
      // answer is "not here" (so it goes on to the push and hears why that is refused), not a 502.
      const unreachable = error instanceof RegistryError && error.status === 502;
      if (req.method === 'HEAD' && unreachable) throw missing;
      throw error;
    }
    if (fetched === undefined) throw missing;
    return fetched;
  };

  const getBlob: Handler = async (context) => {
    const { req, res, params } = context;
    let blob: BlobInfo;
    try {
      blob = await blobs.stat(imageName(context), params.digest ?? '');
    } catch (missing) {
      const fetched = await pullBlobThrough(context, missing);
      if (fetched === 'streamed') return;
      blob = fetched;
    }
    const headers = blobHeaders(blob.digest);
    if (notModified(req, headers.ETag)) {
      send(res, 304, headers);
      return;
    }
    const range = parseByteRange(req.headers.range, blob.size);
    if (req.method === 'HEAD') {
      send(res, 200, { ...headers, 'Content-Length': blob.size });
      return;
    }
    // An object store may serve the bytes itself (a presigned URL); the client repeats its Range there.
    const location = await blobs.readUrl(blob);
    if (location) {
      send(res, 307, { Location: location, 'Docker-Content-Digest': blob.digest, 'Content-Length': 0 });
      return;
    }
    if (range) {
      res.writeHead(206, {
        ...headers,
        'Content-Length': range.end - range.start + 1,
        'Content-Range': `bytes ${range.start}-${range.end}/${blob.size}`,
      });
    } else {
      res.writeHead(200, { ...headers, 'Content-Length': blob.size });
    }
    await blobs.send(blob, res, range);
  };

  const startUpload: Handler = async (context) => {
    const { req, res, query } = context;
    const image = imageName(context);
    const digest = query.get('digest');
    const mount = query.get('mount');
    if (mount !== null) {
      const from = query.get('from') ?? undefined;
      if (await uploads.mount(image, mount, from, (source) => canRead(req, source))) {
        send(res, 201, blobCreated(image, mount));
        return;
      }
    } else if (digest !== null) {
      const stored = await uploads.uploadWhole(image, digest, bodyChunks(req));
      send(res, 201, blobCreated(image, stored));
      return;
    }
    const upload = await uploads.start(image);
    send(res, 202, uploadLocation(image, upload));
  };

  const uploadStatus: Handler = async (context) => {
    const upload = await uploads.status(imageName(context), context.params.id ?? '');
    send(context.res, 204, uploadLocation(imageName(context), upload));
  };

  const appendChunk: Handler = async (context) => {
    const { req, res, params } = context;
    const image = imageName(context);
    const range = req.headers['content-range'];
    const upload = await uploads.append(image, params.id ?? '', range, contentLength(req), bodyChunks(req));
    send(res, 202, uploadLocation(image, upload));
  };

  const finishUpload: Handler = async (context) => {
    const { req, res, params, query } = context;
    const image = imageName(context);
    const digest = query.get('digest');
    if (digest === null) {
      throw new RegistryError('DIGEST_INVALID', 'finishing an upload needs ?digest=ALGORITHM:HEX');
    }
    const range = req.headers['content-range'];
    const body = hasBody(req) ? bodyChunks(req) : undefined;
    const stored = await uploads.finish(image, params.id ?? '', digest, range, body, contentLength(req));
    send(res, 201, blobCreated(image, stored));
  };

  const getManifest: Handler = async (context) => {
    const { req, res, params } = context;
    const manifest = await findManifest(imageName(context), params.reference ?? '');
    // HEAD delivers no content (clients check a digest with it), so a policy only blocks GET.
    if (req.method === 'GET') await checkPull(req, imageName(context), manifest);
    const headers = {
      'Content-Type': manifest.mediaType,
      'Docker-Content-Digest': manifest.digest,
      ETag: `"${manifest.digest}"`,
      'Content-Length': manifest.size,
    };
    if (notModified(req, headers.ETag)) {
      const { 'Content-Length': _, ...unchanged } = headers;
      send(res, 304, unchanged);
      return;
    }
    if (req.method === 'HEAD') {
      send(res, 200, headers);
      return;
    }
    send(res, 200, headers, await manifests.bytes(manifest));
  };

  const putManifest: Handler = async (context) => {
    const { req, res, params } = context;
    const image = imageName(context);
    const body = await readLimited(req, maxManifestBytes, 'manifest');
    const stored = await manifests.put(
      image,
      params.reference ?? '',
      req.headers['content-type'],
      body,
      principalOf(req),
    );
    send(res, 201, {
      Location: `/v2/${image}/manifests/${stored.digest}`,
      'Docker-Content-Digest': stored.digest,
      'Content-Length': 0,
      ...(stored.subjectDigest ? { 'OCI-Subject': stored.subjectDigest } : {}),
    });
  };

  const pageLink = (path: string, n: number | undefined, last: string | undefined) =>
    `<${path}?${new URLSearchParams({ ...(n === undefined ? {} : { n: String(n) }), last: last ?? '' })}>; rel="next"`;

  return [
    {
      name: 'base',
      pattern: /^\/v2\/?$/,
      methods: {
        GET: { action: 'none', handler: async ({ res }) => sendJson(res, 200, {}) },
        HEAD: { action: 'none', handler: async ({ res }) => send(res, 200, { 'Content-Length': 2 }) },
      },
    },
    {
      name: 'catalog',
      pattern: /^\/v2\/_catalog$/,
      methods: {
        GET: {
          action: 'catalog',
          handler: async ({ req, res, query }) => {
            const request = parsePageRequest(query.get('n'), query.get('last'));
            const page = await listings.catalog(request, (image) => canRead(req, image));
            const headers: Headers = page.more
              ? { Link: pageLink('/v2/_catalog', request.n, page.items.at(-1)) }
              : {};
            sendJson(res, 200, { repositories: page.items }, headers);
          },
        },
      },
    },
    {
      name: 'tags',
      pattern: new RegExp(`^/v2/${name}/tags/list$`),
      methods: {
        GET: {
          action: 'pull',
          handler: async (context) => {
            const image = imageName(context);
            const request = parsePageRequest(context.query.get('n'), context.query.get('last'));
            const page = await listings.tags(image, request);
            const headers: Headers = page.more
              ? { Link: pageLink(`/v2/${image}/tags/list`, request.n, page.items.at(-1)) }
              : {};
            sendJson(context.res, 200, { name: image, tags: page.items }, headers);
          },
        },
      },
    },
    {
      name: 'manifest',
      pattern: new RegExp(`^/v2/${name}/manifests/(?<reference>[^/]+)$`),
      methods: {
        GET: { action: 'pull', handler: getManifest },
        HEAD: { action: 'pull', handler: getManifest },
        PUT: { action: 'push', handler: putManifest },
        DELETE: {
          action: 'delete',
          handler: async (context) => {
            await manifests.delete(
              imageName(context),
              context.params.reference ?? '',
              principalOf(context.req),
            );
            send(context.res, 202, { 'Content-Length': 0 });
          },
        },
      },
    },
    {
      name: 'upload-start',
      pattern: new RegExp(`^/v2/${name}/blobs/uploads/?$`),
      methods: { POST: { action: 'push', handler: startUpload } },
    },
    {
      name: 'upload',
      pattern: new RegExp(`^/v2/${name}/blobs/uploads/(?<id>[^/]+)$`),
      methods: {
        GET: { action: 'push', handler: uploadStatus },
        PATCH: { action: 'push', handler: appendChunk },
        PUT: { action: 'push', handler: finishUpload },
        DELETE: {
          action: 'push',
          handler: async (context) => {
            await uploads.cancel(imageName(context), context.params.id ?? '');
            send(context.res, 204, {});
          },
        },
      },
    },
    {
      name: 'blob',
      pattern: new RegExp(`^/v2/${name}/blobs/(?<digest>[^/]+)$`),
      methods: {
        GET: { action: 'pull', handler: getBlob },
        HEAD: { action: 'pull', handler: getBlob },
        DELETE: {
          action: 'delete',
          handler: async (context) => {
            await blobs.delete(imageName(context), context.params.digest ?? '');
            send(context.res, 202, { 'Content-Length': 0 });
          },
        },
      },
    },
    {
      name: 'referrers',
      pattern: new RegExp(`^/v2/${name}/referrers/(?<digest>[^/]+)$`),
      methods: {
        GET: {
          action: 'pull',
          handler: async (context) => {
            // An empty `artifactType=` filters nothing; treated as a filter it would hide every referrer.
            const artifactType = context.query.get('artifactType') || undefined;
            const index = await listings.referrers(
              imageName(context),
              context.params.digest ?? '',
              artifactType,
            );
            sendJson(context.res, 200, index, {
              'Content-Type': index.mediaType,
              ...(artifactType ? { 'OCI-Filters-Applied': 'artifactType' } : {}),
            });
          },
        },
      },
    },
  ];
}
