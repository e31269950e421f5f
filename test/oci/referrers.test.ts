import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import {
  type Descriptor,
  descriptor,
  emptyJson,
  expectError,
  manifestBytes,
  type PushedImage,
  pushBlob,
  pushImage,
  putManifest,
  sha256,
  types,
} from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
const name = 'refs/subject/app';
const sbomType = 'application/vnd.example.sbom.v1+json';
const signatureType = 'application/vnd.example.signature.v1';
let subject: PushedImage;
let subjectDescriptor: Descriptor;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: true });
  subject = await pushImage(registry.url, name, 'v1');
  subjectDescriptor = descriptor(types.ociManifest, subject.manifest);
  await pushBlob(registry.url, name, emptyJson);
});
afterAll(() => registry.close());

interface ReferrersIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
}

async function referrers(digest: string, query = '', image = name) {
  const response = await adminFetch(`${registry.url}/v2/${image}/referrers/${digest}${query}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(types.ociIndex);
  const index = (await response.json()) as ReferrersIndex;
  expect(index.schemaVersion).toBe(2);
  expect(index.mediaType).toBe(types.ociIndex);
  return { index, filters: response.headers.get('oci-filters-applied') };
}

/** Pushes an artifact manifest whose subject is `about`; checks the OCI-Subject answer. */
async function pushReferrer(fields: Record<string, unknown>, about: Descriptor, reference?: string) {
  const bytes = manifestBytes({
    schemaVersion: 2,
    mediaType: types.ociManifest,
    config: descriptor(types.ociEmpty, emptyJson),
    layers: [descriptor(types.ociEmpty, emptyJson)],
    subject: about,
    ...fields,
  });
  const response = await putManifest(registry.url, name, reference ?? sha256(bytes), bytes);
  expect(response.status, await response.clone().text()).toBe(201);
  expect(response.headers.get('oci-subject')).toBe(about.digest);
  return descriptor(types.ociManifest, bytes);
}

describe('referrers', () => {
  let sbom: Descriptor;
  let signature: Descriptor;

  beforeAll(async () => {
    const annotations = { 'org.example.kind': 'sbom' };
    const sbomPushed = await pushReferrer({ artifactType: sbomType, annotations }, subjectDescriptor);
    sbom = { ...sbomPushed, artifactType: sbomType, annotations };
    const signaturePushed = await pushReferrer({ artifactType: signatureType }, subjectDescriptor, 'signed');
    signature = { ...signaturePushed, artifactType: signatureType };
  });

  it('lists the manifests whose subject is the digest, with type, size and annotations', async () => {
    const { index, filters } = await referrers(subject.digest);
    expect(filters).toBeNull();
    expect(index.manifests).toHaveLength(2);
    expect(index.manifests).toEqual(expect.arrayContaining([sbom, signature]));
  });

  it.each([
    [sbomType, () => [sbom]],
    [signatureType, () => [signature]],
    ['application/vnd.example.none', () => []],
  ])('filters on artifactType=%s and says so in OCI-Filters-Applied', async (artifactType, expected) => {
    const { index, filters } = await referrers(
      subject.digest,
      `?artifactType=${encodeURIComponent(artifactType)}`,
    );
    expect(filters).toBe('artifactType');
    expect(index.manifests).toEqual(expected());
  });

  it('treats an empty artifactType= as no filter', async () => {
    const { index, filters } = await referrers(subject.digest, '?artifactType=');
    expect(filters).toBeNull();
    expect(index.manifests).toEqual(expect.arrayContaining([sbom, signature]));
  });

  it('answers 200 with an empty index for a digest nothing refers to', async () => {
    const { index } = await referrers(sha256('nothing refers to this'));
    expect(index.manifests).toEqual([]);
  });

  it('reports the config media type as the artifactType of a manifest that names none', async () => {
    const configType = 'application/vnd.example.config.v1+json';
    const other = await pushImage(registry.url, name, 'other');
    const config = Buffer.from('{"kind":"example"}');
    await pushBlob(registry.url, name, config);
    const pushed = await pushReferrer(
      { config: descriptor(configType, config) },
      descriptor(types.ociManifest, other.manifest),
    );
    const { index } = await referrers(other.digest);
    expect(index.manifests).toEqual([{ ...pushed, artifactType: configType }]);
  });

  it('lists an index that has a subject', async () => {
    const other = await pushImage(registry.url, name, 'indexed');
    const bytes = manifestBytes({
      schemaVersion: 2,
      mediaType: types.ociIndex,
      artifactType: 'application/vnd.example.bundle',
      manifests: [],
      subject: descriptor(types.ociManifest, other.manifest),
    });
    const response = await putManifest(registry.url, name, sha256(bytes), bytes, types.ociIndex);
    expect(response.status).toBe(201);
    expect(response.headers.get('oci-subject')).toBe(other.digest);
    const { index } = await referrers(other.digest);
    expect(index.manifests).toEqual([
      { ...descriptor(types.ociIndex, bytes), artifactType: 'application/vnd.example.bundle' },
    ]);
  });

  it('accepts a referrer before its subject exists and lists it', async () => {
    const future = Buffer.from('{"schemaVersion":2,"not":"pushed yet"}');
    const futureDescriptor = descriptor(types.ociManifest, future);
    const early = await pushReferrer({ artifactType: sbomType }, futureDescriptor);
    const { index } = await referrers(futureDescriptor.digest);
    expect(index.manifests).toEqual([{ ...early, artifactType: sbomType }]);
  });

  it('drops a deleted referrer from the list', async () => {
    const other = await pushImage(registry.url, name, 'short-lived');
    const doomed = await pushReferrer(
      { artifactType: signatureType },
      descriptor(types.ociManifest, other.manifest),
    );
    expect((await referrers(other.digest)).index.manifests).toHaveLength(1);
    const deleted = await adminFetch(`${registry.url}/v2/${name}/manifests/${doomed.digest}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(202);
    expect((await referrers(other.digest)).index.manifests).toEqual([]);
  });

  it('lists only the referrers pushed to the repository asked about', async () => {
    await pushImage(registry.url, 'refs/subject/elsewhere', 'v1');
    const { index } = await referrers(subject.digest, '', 'refs/subject/elsewhere');
    expect(index.manifests).toEqual([]);
  });

  it('refuses a malformed digest with DIGEST_INVALID', async () => {
    const response = await adminFetch(`${registry.url}/v2/${name}/referrers/sha256:abc`);
    await expectError(response, 400, 'DIGEST_INVALID', /sha256:abc/);
  });

  it('answers NAME_UNKNOWN for a repository that does not exist', async () => {
    const response = await adminFetch(`${registry.url}/v2/refs/subject/missing/referrers/${subject.digest}`);
    await expectError(response, 404, 'NAME_UNKNOWN');
  });
});

describe('OCI-Subject', () => {
  it('is absent from the answer to a manifest without a subject', async () => {
    const bytes = manifestBytes({
      schemaVersion: 2,
      mediaType: types.ociManifest,
      artifactType: sbomType,
      config: descriptor(types.ociEmpty, emptyJson),
      layers: [],
    });
    const response = await putManifest(registry.url, name, 'no-subject', bytes);
    expect(response.status).toBe(201);
    expect(response.headers.get('oci-subject')).toBeNull();
  });

  it('refuses a subject whose digest is malformed with MANIFEST_INVALID', async () => {
    const bytes = manifestBytes({
      schemaVersion: 2,
      mediaType: types.ociManifest,
      config: descriptor(types.ociEmpty, emptyJson),
      layers: [],
      subject: { ...subjectDescriptor, digest: 'sha256:tooshort' },
    });
    const response = await putManifest(registry.url, name, 'bad-subject', bytes);
    await expectError(response, 400, 'MANIFEST_INVALID', /invalid digest/);
  });
});
