import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../src/db/metadata.js';
import type { TagFilter } from '../../src/db/resources.js';
import { sha256 } from '../support/oci-client.js';
import { openTestMetadataStore } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';

/**
 * The console pages an image's digests by push time: keyset pages that, followed to the end, give
 * every digest once, in order, for either order and each tag filter, even when pushes share a time.
 */
describe('listing an image’s digests by push time', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let store: MetadataStore;
  let imageId: number;
  const pushed: { digest: string; at: number; tagged: boolean }[] = [];

  beforeAll(async () => {
    dir = await tempDir('mistrive-listing-');
    store = await openTestMetadataStore(dir.path);
    const start = Date.UTC(2026, 0, 1);
    await store.catalog.ensureRepository('shop', 'backend', new Date(start));
    imageId = (await store.catalog.ensureImage('shop', 'backend', 'shop/backend/api', new Date(start))).id;
    for (let index = 0; index < 250; index++) {
      const digest = sha256(`manifest ${index}`);
      // Three pushes share each millisecond, so the digest must break the ties.
      const at = start + Math.floor(index / 3);
      const tagged = index % 4 === 0;
      const outcome = await store.content.putManifest(
        imageId,
        {
          digest,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: 100,
          artifactType: undefined,
          annotations: undefined,
          subjectDigest: undefined,
          references: [],
        },
        tagged ? `t${index}` : undefined,
        new Date(at),
      );
      expect(outcome.outcome).toBe('stored');
      pushed.push({ digest, at, tagged });
    }
  });

  afterAll(async () => {
    await store?.close();
    await dir?.remove();
  });

  it.each([
    [true, 'all'],
    [true, 'tagged'],
    [true, 'untagged'],
    [false, 'all'],
    [false, 'tagged'],
    [false, 'untagged'],
  ] as const)(
    'newest first %s, %s: pages of 40 cover every digest once, in order',
    async (newestFirst, tags: TagFilter) => {
      const expected = pushed
        .filter((p) => tags === 'all' || p.tagged === (tags === 'tagged'))
        .sort((a, b) => (a.at - b.at || (a.digest < b.digest ? -1 : 1)) * (newestFirst ? -1 : 1))
        .map((p) => p.digest);
      const seen: string[] = [];
      let after: { createdAt: Date; digest: string } | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const page = await store.images.manifestsByPushTime(imageId, { newestFirst, tags, after, limit: 40 });
        seen.push(...page.items.map((m) => m.digest));
        if (tags !== 'all') {
          for (const manifest of page.items) expect(manifest.tags.length > 0).toBe(tags === 'tagged');
        }
        const last = page.items.at(-1);
        if (!page.more || !last) break;
        after = { createdAt: last.createdAt, digest: last.digest };
      }
      expect(seen).toEqual(expected);
    },
  );

  it('sums up the image: digests, tags, latest tag and latest push', async () => {
    const [stats] = await store.images.stats('shop', 'backend');
    expect(stats).toMatchObject({ name: 'shop/backend/api', digests: 250, tags: 63, latestTag: 't248' });
    expect(stats?.latestDigest).toBe(pushed.at(-1)?.digest);
  });
});
