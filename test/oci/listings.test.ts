import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import {
  expectError,
  followPages,
  type PushedImage,
  pushBlob,
  pushImage,
  pushManifest,
  randomBlob,
} from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
const name = 'lists/tags/app';
// Mixed case, digits and separators, so byte order and natural order disagree.
const tags = [
  'v1.0',
  'v1.10',
  'v1.2',
  'latest',
  'Latest',
  '_private',
  'a',
  'a-b',
  'a.b',
  'a_b',
  'b10',
  'b2',
  '9',
  '10',
  'z'.repeat(128),
  'main',
  'stable',
  'v2',
  'v2.0.0-rc.1',
  'x',
  'y',
  'release-2024',
];
const sorted = [...tags].sort();
const images = Array.from({ length: 13 }, (_, i) => `lists/catalog/image-${String(i).padStart(2, '0')}`);
let image: PushedImage;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: true });
  image = await pushImage(registry.url, name, tags[0]);
  for (const tag of tags.slice(1)) await pushManifest(registry.url, name, tag, image.manifest);
  for (const other of images) await pushImage(registry.url, other, 'v1', [8]);
});
afterAll(() => registry.close());

async function tagList(query = '') {
  const response = await adminFetch(`${registry.url}/v2/${name}/tags/list${query}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  const body = (await response.json()) as { name: string; tags: string[] };
  expect(body.name).toBe(name);
  return { tags: body.tags, link: response.headers.get('link') };
}

describe('tag list', () => {
  it('lists every tag in lexical order without a Link header', async () => {
    const { tags: listed, link } = await tagList();
    expect(listed).toEqual(sorted);
    expect(link).toBeNull();
  });

  it.each([1, 3, 5, 7, 21])('pages n=%i at a time through the Link headers to the end', async (n) => {
    const pages = await followPages(registry.url, `/v2/${name}/tags/list?n=${n}`, 'tags');
    expect(pages.flat()).toEqual(sorted);
    expect(pages).toHaveLength(Math.ceil(sorted.length / n));
    for (const page of pages.slice(0, -1)) expect(page).toHaveLength(n);
  });

  it('points Link at the next page with the same n and the last tag returned', async () => {
    const { tags: page, link } = await tagList('?n=4');
    expect(page).toEqual(sorted.slice(0, 4));
    const target = new URL(/^<([^>]+)>; rel="next"$/.exec(link ?? '')?.[1] ?? '', registry.url);
    expect(target.pathname).toBe(`/v2/${name}/tags/list`);
    expect(target.searchParams.get('n')).toBe('4');
    expect(target.searchParams.get('last')).toBe(sorted[3]);
  });

  it('returns every tag, without Link, when n equals or exceeds their number', async () => {
    for (const n of [sorted.length, sorted.length + 1, 10_000]) {
      const { tags: listed, link } = await tagList(`?n=${n}`);
      expect(listed).toEqual(sorted);
      expect(link).toBeNull();
    }
  });

  it('returns an empty list and no Link for n=0', async () => {
    expect(await tagList('?n=0')).toEqual({ tags: [], link: null });
    expect(await tagList('?n=0&last=a')).toEqual({ tags: [], link: null });
  });

  it.each([
    ['a tag in the list', 'a.b'],
    ['a value between tags', 'c'],
    ['a value before every tag', '0'],
    ['the last tag', sorted.at(-1) ?? ''],
    ['a value after every tag', '~'],
  ])('returns the tags after last= when it is %s', async (_, last) => {
    const { tags: listed } = await tagList(`?last=${encodeURIComponent(last)}`);
    expect(listed).toEqual(sorted.filter((tag) => tag > last));
  });

  it('combines n and last', async () => {
    const { tags: listed } = await tagList('?n=2&last=b10');
    expect(listed).toEqual(sorted.filter((tag) => tag > 'b10').slice(0, 2));
  });

  it('lists no tags for an image that holds only untagged content', async () => {
    await pushBlob(registry.url, 'lists/tags/untagged', randomBlob(4));
    expect(await (await adminFetch(`${registry.url}/v2/lists/tags/untagged/tags/list`)).json()).toEqual({
      name: 'lists/tags/untagged',
      tags: [],
    });
  });

  it('drops a deleted tag from the list', async () => {
    await pushManifest(registry.url, name, 'short-lived', image.manifest);
    expect((await tagList()).tags).toContain('short-lived');
    const deleted = await adminFetch(`${registry.url}/v2/${name}/manifests/short-lived`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(202);
    expect((await tagList()).tags).toEqual(sorted);
  });

  it('answers NAME_UNKNOWN for a repository that does not exist', async () => {
    const response = await adminFetch(`${registry.url}/v2/lists/tags/missing/tags/list`);
    await expectError(response, 404, 'NAME_UNKNOWN', /repository not found/);
  });
});

describe('catalog', () => {
  async function catalog(query = '') {
    const response = await adminFetch(`${registry.url}/v2/_catalog${query}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { repositories: string[] };
    return { repositories: body.repositories, link: response.headers.get('link') };
  }

  it('lists every image in lexical order', async () => {
    const { repositories } = await catalog();
    expect(repositories).toEqual([...repositories].sort());
    for (const pushed of [name, ...images]) expect(repositories).toContain(pushed);
  });

  it('leaves out an image whose push never got as far as a manifest', async () => {
    const started = await adminFetch(`${registry.url}/v2/lists/catalog/abandoned/blobs/uploads/`, {
      method: 'POST',
    });
    expect(started.status).toBe(202);
    expect((await catalog()).repositories).not.toContain('lists/catalog/abandoned');
  });

  it.each([1, 4, 13])('pages n=%i at a time through the Link headers to the end', async (n) => {
    const { repositories: all } = await catalog();
    const pages = await followPages(registry.url, `/v2/_catalog?n=${n}`, 'repositories');
    expect(pages.flat()).toEqual(all);
    for (const page of pages.slice(0, -1)) expect(page).toHaveLength(n);
  });

  it('points Link at the next page of the catalog', async () => {
    const { repositories, link } = await catalog('?n=2');
    const target = new URL(/^<([^>]+)>; rel="next"$/.exec(link ?? '')?.[1] ?? '', registry.url);
    expect(target.pathname).toBe('/v2/_catalog');
    expect(target.searchParams.get('n')).toBe('2');
    expect(target.searchParams.get('last')).toBe(repositories[1]);
  });

  it('returns the images after last=, and nothing with n=0', async () => {
    const { repositories: all } = await catalog();
    for (const last of [images[9] ?? '', 'lists/catalog/image-05x', 'a', 'zzz']) {
      const { repositories } = await catalog(`?last=${encodeURIComponent(last)}`);
      expect(repositories).toEqual(all.filter((repository) => repository > last));
    }
    expect((await catalog(`?last=${images[9]}`)).repositories.slice(0, 3)).toEqual(images.slice(10));
    expect(await catalog('?n=0')).toEqual({ repositories: [], link: null });
  });
});
