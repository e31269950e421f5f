import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { generateServiceAccountKey } from '../../src/auth/service-account-keys.js';
import type { MetadataStore } from '../../src/db/metadata.js';
import {
  type BuiltImage,
  buildImage,
  readOciLayout,
  tarGzLayer,
  writeOciLayout,
} from '../support/oci-layout.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { pullLayout, pushArgs, pushLayout, runSkopeo } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';

/** skopeo through the Docker token flow: a local user, a service-account key, anonymous pulls, a refused Viewer. */
describe('skopeo with authentication', { timeout: 180_000 }, () => {
  let registry: TestRegistry;
  let metadata: MetadataStore;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let image: BuiltImage;
  let layoutDir: string;
  let serviceAccountKey: string;

  beforeAll(async () => {
    registry = await startTestRegistry();
    metadata = registry.registry.context.metadata;
    work = await tempDir('mistrive-e2e-auth-');
    const now = new Date();
    await metadata.catalog.ensureRepository('shop', 'images', now);
    await metadata.catalog.ensureRepository('shop', 'public', now);
    for (const [login, role] of [
      ['dev@example.com', 'editor'],
      ['auditor@example.com', 'viewer'],
    ] as const) {
      await metadata.users.create({
        login,
        passwordHash: await hashPassword(`${login}-password`),
        admin: false,
        disabled: false,
        createdAt: now,
      });
      await metadata.iam.add({ kind: 'repository', id: 'shop/images' }, { member: `user:${login}`, role });
    }
    await metadata.iam.add({ kind: 'repository', id: 'shop/public' }, { member: 'allUsers', role: 'viewer' });

    const email = 'ci@shop.iam.mistrive';
    await metadata.serviceAccounts.create({ email, project: 'shop', displayName: 'CI', createdAt: now });
    const key = await generateServiceAccountKey(email, 'shop', `${registry.url}/oauth/token`);
    await metadata.serviceAccounts.createKey({
      id: key.id,
      email,
      publicKey: key.publicKey,
      disabled: false,
      createdAt: now,
    });
    await metadata.iam.add(
      { kind: 'project', id: 'shop' },
      { member: `serviceAccount:${email}`, role: 'artifactstore.editor' },
    );
    serviceAccountKey = Buffer.from(JSON.stringify(key.keyFile)).toString('base64');

    image = buildImage([await tarGzLayer({ 'bin/tool': randomBytes(64 * 1024) })]);
    layoutDir = join(work.path, 'layout');
    await writeOciLayout(layoutDir, 'v1', image);
  });

  afterAll(async () => {
    await registry?.close();
    await work?.remove();
  });

  it('pushes as a local user with its login and password, and pulls back the same digest', async () => {
    await pushLayout(registry.url, layoutDir, 'v1', 'shop/images/tool', {
      credentials: 'dev@example.com:dev@example.com-password',
    });
    const copy = join(work.path, 'copy-user');
    await pullLayout(registry.url, 'shop/images/tool', 'v1', copy, {
      credentials: 'auditor@example.com:auditor@example.com-password',
    });
    expect((await readOciLayout(copy, 'v1')).root.digest).toBe(image.manifest.descriptor.digest);
  });

  it('pushes with a service-account key as _json_key_base64', async () => {
    await pushLayout(registry.url, layoutDir, 'v1', 'shop/images/from-ci', {
      credentials: `_json_key_base64:${serviceAccountKey}`,
    });
    const copy = join(work.path, 'copy-ci');
    await pullLayout(registry.url, 'shop/images/from-ci', 'v1', copy);
    expect((await readOciLayout(copy, 'v1')).root.digest).toBe(image.manifest.descriptor.digest);
  });

  it('pulls anonymously from a repository allUsers may view', async () => {
    await pushLayout(registry.url, layoutDir, 'v1', 'shop/public/tool');
    const copy = join(work.path, 'copy-anonymous');
    await pullLayout(registry.url, 'shop/public/tool', 'v1', copy, { credentials: false });
    expect((await readOciLayout(copy, 'v1')).root.digest).toBe(image.manifest.descriptor.digest);
  });

  it('refuses a Viewer’s push', async () => {
    const result = await runSkopeo(
      pushArgs(registry.url, layoutDir, 'v1', 'shop/images/by-auditor', {
        credentials: 'auditor@example.com:auditor@example.com-password',
      }),
    ).done;
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/denied|unauthorized/i);
    const listed = await metadata.catalog.findImage('shop/images/by-auditor');
    expect(
      listed === undefined || (await metadata.content.listTags(listed.id, undefined, 10)).items.length === 0,
    ).toBe(true);
  });

  it('refuses an anonymous push to a public repository', async () => {
    const result = await runSkopeo(
      pushArgs(registry.url, layoutDir, 'v1', 'shop/public/anonymous', { credentials: false }),
    ).done;
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/unauthorized|authentication required/i);
  });
});
