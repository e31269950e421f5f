import type { Page } from '../db/metadata.js';
import { RegistryError } from '../errors/registry-error.js';
import { parseDigest } from './digest.js';
import { imageForPull } from './image-resolver.js';
import { mediaTypes } from './media-types.js';
import type { RegistryContext } from './registry-context.js';

export interface PageRequest {
  readonly n: number | undefined;
  readonly last: string | undefined;
}

const maxPage = 10_000;

export function parsePageRequest(n: string | null, last: string | null): PageRequest {
  if (n !== null && !/^\d+$/.test(n)) {
    throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be a whole number, not "${n.slice(0, 40)}"`);
  }
  return { n: n === null ? undefined : Math.min(Number(n), maxPage), last: last ?? undefined };
}

/** Tag lists, the catalog and referrers: read-only listings with `n`/`last` pagination. */
export class ListingService {
  constructor(private readonly context: RegistryContext) {}

  async tags(name: string, request: PageRequest): Promise<Page<string>> {
    const image = await imageForPull(this.context, name);
    if (request.n === 0) return { items: [], more: false };
    return this.context.metadata.content.listTags(image.id, request.last, request.n ?? maxPage);
  }

  /** Image names after `last`; `visible` filters out what the caller may not see. */
  async catalog(request: PageRequest, visible: (name: string) => Promise<boolean>): Promise<Page<string>> {
    const limit = request.n ?? 100;
    if (limit === 0) return { items: [], more: false };
    const items: string[] = [];
    let after = request.last;
    // Filtering may drop names, so keep reading until the page is full or the catalog ends.
    for (;;) {
      const batch = await this.context.metadata.catalog.listImages(after, limit);
      for (const name of batch.items) {
        if (items.length === limit) return { items, more: true };
        if (await visible(name)) items.push(name);
      }
      if (!batch.more) return { items, more: false };
      after = batch.items.at(-1);
    }
  }

  /** The referrers API: an OCI index of the manifests whose subject is `digest`. */
  async referrers(name: string, digestText: string, artifactType: string | undefined) {
    const digest = parseDigest(digestText).value;
    const image = await imageForPull(this.context, name);
    const referrers = await this.context.metadata.content.listReferrers(image.id, digest, artifactType);
    return {
      schemaVersion: 2,
      mediaType: mediaTypes.ociIndex,
      manifests: referrers.map((m) => ({
        mediaType: m.mediaType,
        digest: m.digest,
        size: m.size,
        ...(m.artifactType ? { artifactType: m.artifactType } : {}),
        ...(m.annotations ? { annotations: m.annotations } : {}),
      })),
    };
  }
}
