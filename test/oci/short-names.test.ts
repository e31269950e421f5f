import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { adminFetch } from '../support/admin-session.js';
import { expectError, pushImage, sha256 } from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

/** One- and two-part names (`HOST/myapp`, `HOST/team/myapp`), as local-registry users type them. */

const digest = sha256('some blob');

describe('without --auto-create-repositories', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry({ autoCreateRepositories: false });
  });
  afterAll(() => registry.close());

  it.each(['myapp', 'team/myapp'])(
    'answers a blob HEAD of %s with a bare 404, and the POST that follows with NAME_INVALID saying why',
    async (name) => {
      // Clients start with a HEAD: a 400 there has no body, so the client could show nothing but "400".
      const head = await adminFetch(`${registry.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
      expect(head.status).toBe(404);
      expect(await head.text()).toBe('');
      const message = /names are PROJECT\/REPOSITORY\/IMAGE.*--auto-create-repositories/;
      const post = await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
      await expectError(post, 400, 'NAME_INVALID', message);
      await expectError(
        await adminFetch(`${registry.url}/v2/${name}/manifests/v1`),
        400,
        'NAME_INVALID',
        message,
      );
      const manifestHead = await adminFetch(`${registry.url}/v2/${name}/manifests/v1`, { method: 'HEAD' });
      expect(manifestHead.status).toBe(404);
    },
  );

  it('still answers a malformed name with NAME_INVALID on GET and 404 on HEAD', async () => {
    await expectError(await adminFetch(`${registry.url}/v2/Bad_Name/x/y/manifests/v1`), 400, 'NAME_INVALID');
    expect(
      (await adminFetch(`${registry.url}/v2/Bad_Name/x/y/manifests/v1`, { method: 'HEAD' })).status,
    ).toBe(404);
  });
});

describe('with --auto-create-repositories', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry({ autoCreateRepositories: true });
  });
  afterAll(() => registry.close());

  const manifestDigest = async (name: string, reference: string) => {
    const response = await adminFetch(`${registry.url}/v2/${name}/manifests/${reference}`, {
      method: 'HEAD',
    });
    return response.status === 200 ? response.headers.get('docker-content-digest') : response.status;
  };

  it('pushes and pulls IMAGE as local/library/IMAGE, and NAMESPACE/IMAGE as local/NAMESPACE/IMAGE', async () => {
    const single = await pushImage(registry.url, 'myapp', 'v1');
    const double = await pushImage(registry.url, 'team/myapp', 'v1');
    for (const name of ['myapp', 'library/myapp', 'local/library/myapp']) {
      expect(await manifestDigest(name, 'v1'), name).toBe(single.digest);
    }
    for (const name of ['team/myapp', 'local/team/myapp']) {
      expect(await manifestDigest(name, 'v1'), name).toBe(double.digest);
    }
    const layer = await adminFetch(`${registry.url}/v2/myapp/blobs/${single.layers[0]}`);
    expect(layer.status).toBe(200);
    const tags = await adminFetch(`${registry.url}/v2/team/myapp/tags/list`);
    expect(await tags.json()).toEqual({ name: 'local/team/myapp', tags: ['v1'] });

    // One name per image everywhere else: the catalog and the management API show the full ones.
    const catalog = (await (await adminFetch(`${registry.url}/v2/_catalog`)).json()) as {
      repositories: string[];
    };
    expect(catalog.repositories).toEqual(expect.arrayContaining(['local/library/myapp', 'local/team/myapp']));
    expect(catalog.repositories).not.toContain('myapp');
    const api = `${registry.url}/api/v1/projects/local/repositories`;
    const repositories = (await (await adminFetch(api)).json()) as {
      repositories: { id: string }[];
    };
    expect(repositories.repositories.map((r) => r.id).sort()).toEqual(['library', 'team']);
    const images = (await (await adminFetch(`${api}/library/images`)).json()) as {
      images: { name: string }[];
    };
    expect(images.images.map((image) => image.name)).toContain('myapp');
  });

  it('mounts from a short name, and grants registry tokens under the full name', async () => {
    const source = await pushImage(registry.url, 'mount-source', 'v1');
    const mounted = await adminFetch(
      `${registry.url}/v2/team/mount-target/blobs/uploads/?mount=${source.layers[0]}&from=mount-source`,
      { method: 'POST' },
    );
    expect(mounted.status).toBe(201);
    expect(mounted.headers.get('location')).toBe(`/v2/local/team/mount-target/blobs/${source.layers[0]}`);

    const basic = `Basic ${Buffer.from(`admin:${testAdminPassword}`).toString('base64')}`;
    const tokenResponse = await fetch(
      `${registry.url}/auth/token?service=mistrive&scope=${encodeURIComponent('repository:mount-source:pull')}`,
      { headers: { Authorization: basic } },
    );
    const { token } = (await tokenResponse.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    expect(claims.access).toEqual([
      { type: 'repository', name: 'local/library/mount-source', actions: ['pull'] },
    ]);
    const pulled = await fetch(`${registry.url}/v2/mount-source/manifests/v1`, {
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(pulled.status).toBe(200);
    expect(pulled.headers.get('docker-content-digest')).toBe(source.digest);
  });

  it('still refuses a short name that cannot be an ID, saying which part is wrong', async () => {
    await expectError(
      await adminFetch(`${registry.url}/v2/my_team/app/blobs/uploads/`, { method: 'POST' }),
      400,
      'NAME_INVALID',
      /repository ID "my_team"/,
    );
  });
});
