import { z } from 'zod';
import type { Page } from '../db/metadata.js';
import { RegistryError } from '../errors/registry-error.js';

export const defaultPageSize = 100;
export const maxPageSize = 1000;

/** `pageSize` and `pageToken`, shared by every list endpoint. */
export const pageQuery = z.object({
  pageSize: z.coerce
    .number()
    .int()
    .min(1)
    .max(maxPageSize)
    .default(defaultPageSize)
    .describe(`How many items to return (1 to ${maxPageSize}, default ${defaultPageSize}).`),
  pageToken: z
    .string()
    .max(2048)
    .optional()
    .describe('The nextPageToken of the previous page, unchanged, to read the page after it.'),
});

export type PageQuery = z.output<typeof pageQuery>;

export interface PageResult<T> {
  readonly items: T[];
  /** Present when more items follow; pass it back as `pageToken`. */
  readonly nextPageToken: string | undefined;
}

/** Page tokens are opaque: the listing they belong to and the key of the last item returned. */
export function encodePageToken(listing: string, after: string): string {
  return Buffer.from(JSON.stringify({ l: listing, a: after })).toString('base64url');
}

export function decodePageToken(listing: string, token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      l?: unknown;
      a?: unknown;
    };
    if (decoded.l === listing && typeof decoded.a === 'string') return decoded.a;
  } catch {
    // fall through to the refusal
  }
  throw new RegistryError(
    'INVALID_ARGUMENT',
    'invalid query parameter "pageToken": pass the nextPageToken of the previous page of this same list, unchanged',
  );
}

/**
 * Reads one page from a keyed listing, keeping only the items `keep` accepts: it reads on until
 * the page is full and one more kept item shows that another page follows.
 */
export async function collectPage<T>(
  listing: string,
  query: PageQuery,
  read: (after: string | undefined, limit: number) => Promise<Page<T>>,
  keyOf: (item: T) => string,
  keep: (item: T) => boolean | Promise<boolean> = () => true,
): Promise<PageResult<T>> {
  const items: T[] = [];
  let after = decodePageToken(listing, query.pageToken);
  for (;;) {
    const batch = await read(after, query.pageSize);
    for (const item of batch.items) {
      if (!(await keep(item))) continue;
      if (items.length === query.pageSize) {
        return { items, nextPageToken: encodePageToken(listing, keyOf(items.at(-1) as T)) };
      }
      items.push(item);
    }
    const last = batch.items.at(-1);
    if (!batch.more || last === undefined) return { items, nextPageToken: undefined };
    after = keyOf(last);
  }
}

/** One page of a list already in memory, sorted by key. */
export function pageOfList<T>(
  listing: string,
  query: PageQuery,
  sorted: readonly T[],
  keyOf: (item: T) => string,
): PageResult<T> {
  const after = decodePageToken(listing, query.pageToken);
  const rest = after === undefined ? sorted : sorted.filter((item) => keyOf(item) > after);
  const items = rest.slice(0, query.pageSize);
  const last = items.at(-1);
  return {
    items,
    nextPageToken:
      rest.length > items.length && last !== undefined ? encodePageToken(listing, keyOf(last)) : undefined,
  };
}
