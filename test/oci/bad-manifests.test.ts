import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import {
  type Descriptor,
  expectError,
  expectImageIntact,
  manifestBytes,
  type PushedImage,
  pushImage,
  putManifest,
  randomBlob,
  sha256,
  sha512,
  types,
} from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

/** Manifests the registry must refuse with MANIFEST_INVALID or DIGEST_INVALID, never a 500. */
let registry: TestRegistry;
const name = 'bad/manifests/app';
let image: PushedImage;
let config: Descriptor;
let layer: Descriptor;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: true });
  image = await pushImage(registry.url, name, 'v1', [100]);
  const parsed = JSON.parse(image.manifest.toString()) as { config: Descriptor; layers: Descriptor[] };
  config = parsed.config;
  layer = parsed.layers[0] as Descriptor;
});
afterAll(() => registry.close());

/** A valid image manifest over the pushed blobs, with `changes` applied on top. */
const manifest = (changes: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: types.ociManifest,
  config,
  layers: [layer],
  ...changes,
});
const withLayer = (changes: Record<string, unknown>) => manifest({ layers: [{ ...layer, ...changes }] });
const withoutField = (field: string) => {
  const document: Record<string, unknown> = manifest();
  delete document[field];
  return document;
};

/** Each case builds its body: a Buffer is sent as it is, anything else as JSON. */
type Case = [string, () => unknown, string | null, RegExp];
const text = (value: string) => Buffer.from(value);

const invalid: Case[] = [
  ['truncated JSON', () => text('{"schemaVersion":2,'), types.ociManifest, /not valid JSON/],
  ['an empty body', () => text(''), types.ociManifest, /not valid JSON/],
  ['binary garbage', () => randomBlob(64), types.ociManifest, /not valid JSON/],
  [
    // Valid in every other way: decoded leniently, it would be stored.
    'an otherwise valid manifest with bytes that are not UTF-8',
    () => {
      const [before = '', after = ''] = JSON.stringify(manifest({ annotations: { k: '@@' } })).split('@@');
      return Buffer.concat([text(before), Buffer.from([0xff, 0xfe]), text(after)]);
    },
    types.ociManifest,
    /not UTF-8/,
  ],
  ['JSON with a trailing comma', () => text('{"schemaVersion":2,}'), types.ociManifest, /not valid JSON/],
  ['a JSON array', () => [], types.ociManifest, /must be a JSON object/],
  ['JSON null', () => null, types.ociManifest, /must be a JSON object/],
  ['a JSON string', () => 'manifest', types.ociManifest, /must be a JSON object/],
  ['no schemaVersion', () => withoutField('schemaVersion'), types.ociManifest, /at schemaVersion/],
  ['schemaVersion 3', () => manifest({ schemaVersion: 3 }), types.ociManifest, /at schemaVersion/],
  [
    'schemaVersion as a string',
    () => manifest({ schemaVersion: '2' }),
    types.ociManifest,
    /at schemaVersion/,
  ],
  ['no config', () => withoutField('config'), types.ociManifest, /at config/],
  ['no layers', () => withoutField('layers'), types.ociManifest, /at layers/],
  ['layers that are not a list', () => manifest({ layers: {} }), types.ociManifest, /at layers/],
  [
    'a config without a digest',
    () => manifest({ config: { ...config, digest: undefined } }),
    null,
    /config\.digest/,
  ],
  [
    'a config without a size',
    () => manifest({ config: { ...config, size: undefined } }),
    null,
    /config\.size/,
  ],
  ['a negative layer size', () => withLayer({ size: -1 }), types.ociManifest, /layers\.0\.size/],
  ['a fractional layer size', () => withLayer({ size: 1.5 }), types.ociManifest, /layers\.0\.size/],
  ['a layer size as a string', () => withLayer({ size: '100' }), types.ociManifest, /layers\.0\.size/],
  [
    'a layer media type that is none',
    () => withLayer({ mediaType: 'not a type' }),
    null,
    /layers\.0\.mediaType/,
  ],
  ['a layer without a media type', () => withLayer({ mediaType: undefined }), null, /layers\.0\.mediaType/],
  ['a malformed layer digest', () => withLayer({ digest: 'sha256:xyz' }), null, /invalid digest/],
  [
    'an uppercase layer digest',
    () => withLayer({ digest: layer.digest.toUpperCase() }),
    null,
    /invalid digest/,
  ],
  [
    'a layer digest of an unknown algorithm',
    () => withLayer({ digest: `md5:${'a'.repeat(32)}` }),
    null,
    /md5/,
  ],
  [
    'a config digest with no algorithm',
    () => manifest({ config: { ...config, digest: 'abc' } }),
    null,
    /digest/,
  ],
  ['annotations that are not strings', () => manifest({ annotations: { a: 1 } }), null, /annotations/],
  ['an artifactType that is no media type', () => manifest({ artifactType: 'sbom' }), null, /artifactType/],
  [
    'a subject without a media type',
    () => manifest({ subject: { digest: image.digest, size: 1 } }),
    null,
    /subject\.mediaType/,
  ],
  [
    'an index without manifests',
    () => ({ schemaVersion: 2, mediaType: types.ociIndex }),
    null,
    /at manifests/,
  ],
  [
    'an index child with a malformed digest',
    () => ({ schemaVersion: 2, mediaType: types.ociIndex, manifests: [{ ...layer, digest: 'sha256:1' }] }),
    types.ociIndex,
    /invalid digest/,
  ],
  [
    'an image manifest body sent as an index',
    () => withoutField('mediaType'),
    types.ociIndex,
    /at manifests/,
  ],
  [
    'an unknown media type in Content-Type',
    () => withoutField('mediaType'),
    'application/vnd.example.thing+json',
    /unsupported manifest media type "application\/vnd.example.thing\+json"/,
  ],
  [
    'an unknown media type in the mediaType field',
    () => manifest({ mediaType: 'application/vnd.example.thing+json' }),
    null,
    /unsupported manifest media type/,
  ],
  [
    'a layer media type as the manifest type',
    () => withoutField('mediaType'),
    types.ociLayer,
    /unsupported manifest media type/,
  ],
  ['text/plain as the Content-Type', () => withoutField('mediaType'), 'text/plain', /unsupported manifest/],
  [
    'a Content-Type that contradicts the mediaType field',
    () => manifest(),
    types.dockerManifest,
    /Content-Type "application\/vnd.docker.distribution.manifest.v2\+json" does not match/,
  ],
  [
    'an index Content-Type over an image mediaType field',
    () => manifest(),
    types.ociIndex,
    /does not match the manifest's mediaType/,
  ],
  [
    'a Docker schema 1 manifest',
    () => ({ schemaVersion: 1, name, tag: 'v1', architecture: 'amd64', fsLayers: [], history: [] }),
    null,
    /schema 1 manifests are not supported/,
  ],
  [
    'a signed schema 1 Content-Type',
    () => ({ schemaVersion: 1, name, tag: 'v1', fsLayers: [], signatures: [] }),
    'application/vnd.docker.distribution.manifest.v1+prettyjws',
    /schema 1/,
  ],
  [
    'the schema 1 media type with a schema 2 body',
    () => manifest({ mediaType: 'application/vnd.docker.distribution.manifest.v1+json' }),
    null,
    /schema 1/,
  ],
  [
    'a layer declared one byte longer than the stored blob',
    () => withLayer({ size: 101 }),
    types.ociManifest,
    /is declared as 101 bytes but holds 100/,
  ],
  [
    'a config declared shorter than the stored blob',
    () => manifest({ config: { ...config, size: config.size - 1 } }),
    types.ociManifest,
    /is declared as \d+ bytes but holds \d+/,
  ],
  [
    'an index child declared with the wrong size',
    () => ({
      schemaVersion: 2,
      mediaType: types.ociIndex,
      manifests: [{ mediaType: types.ociManifest, digest: image.digest, size: image.manifest.length + 7 }],
    }),
    types.ociIndex,
    /is declared as \d+ bytes but holds \d+/,
  ],
];

describe('malformed manifests', () => {
  it.each(invalid)('refuses %s with 400 MANIFEST_INVALID', async (_, document, contentType, message) => {
    const value = document();
    const sent = Buffer.isBuffer(value) ? value : manifestBytes(value);
    const response = await putManifest(registry.url, name, 'bad', sent, contentType);
    await expectError(response, 400, 'MANIFEST_INVALID', message);
  });

  it('stored nothing under the tag the refused manifests were pushed to', async () => {
    await expectError(await adminFetch(`${registry.url}/v2/${name}/manifests/bad`), 404, 'MANIFEST_UNKNOWN');
  });

  it('creates no image when refusing a manifest pushed to a new name', async () => {
    const response = await putManifest(registry.url, 'bad/manifests/fresh', 'v1', '{', types.ociManifest);
    await expectError(response, 400, 'MANIFEST_INVALID');
    const tags = await adminFetch(`${registry.url}/v2/bad/manifests/fresh/tags/list`);
    await expectError(tags, 404, 'NAME_UNKNOWN');
  });
});

describe('digest mismatches', () => {
  it.each([
    ['a sha256 digest of other bytes', () => sha256('other bytes')],
    ['a sha512 digest of other bytes', () => sha512('other bytes')],
    ['the sha256 digest of the manifest with one byte changed', () => sha256(`${image.manifest} `)],
  ])('refuses a manifest PUT to %s with DIGEST_INVALID', async (_, digest) => {
    const response = await putManifest(registry.url, name, digest(), image.manifest);
    await expectError(response, 400, 'DIGEST_INVALID', new RegExp(`not the ${digest()} in the URL`));
    await expectError(
      await adminFetch(`${registry.url}/v2/${name}/manifests/${digest()}`),
      404,
      'MANIFEST_UNKNOWN',
    );
  });

  it('accepts the same manifest under its own sha256 and sha512 digests', async () => {
    for (const digest of [sha256(image.manifest), sha512(image.manifest)]) {
      const response = await putManifest(registry.url, name, digest, image.manifest);
      expect(response.status).toBe(201);
      expect(response.headers.get('docker-content-digest')).toBe(digest);
    }
  });
});

describe('after the bad manifests', () => {
  it('still serves the image byte for byte under the same digests', async () => {
    await expectImageIntact(registry.url, name, 'v1', image);
    const tags = await (await adminFetch(`${registry.url}/v2/${name}/tags/list`)).json();
    expect(tags).toEqual({ name, tags: ['v1'] });
  });
});
