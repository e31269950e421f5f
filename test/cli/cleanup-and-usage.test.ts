import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, mistrive, mistriveJson } from '../support/cli.js';
import { buildImage, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { pushArgs, pushLayout, runSkopeo } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import { pushUniqueImage } from '../support/unique-images.js';

/**
 * Cleanup policies, usage and quotas end to end: the built CLI against `mistrive serve` running as
 * its own process, and skopeo refused by a quota.
 */

interface Repository {
  id: string;
  cleanupPolicies: { name: string }[];
  cleanupDryRun: boolean;
  usage: { logicalBytes: number; uniqueBytes: number };
}

interface CleanupRun {
  dryRun: boolean;
  deleted: number;
  freedBytes: number;
  items: { image: string; digest: string; outcome: string }[];
}

describe('cleanup, usage and quotas from the CLI', { timeout: 180_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon;
  let admin: CliHome;

  beforeAll(async () => {
    work = await tempDir('mistrive-cli-cleanup-');
    daemon = await startDaemon(join(work.path, 'data'), ['--no-auto-create-repositories']);
    admin = await cliHome();
    const login = await mistrive(
      admin,
      ['auth', 'login', '--registry', daemon.url, '--username', 'admin', '--password-stdin'],
      { input: testAdminPassword },
    );
    expect(login.exitCode, login.stderr).toBe(0);
    for (const args of [
      ['projects', 'create', 'shop'],
      ['repos', 'create', 'app', '--project', 'shop'],
    ]) {
      const result = await mistrive(admin, args);
      expect(result.exitCode, result.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await daemon?.stop();
    await admin?.remove();
    await work?.remove();
  });

  it('sets policies from a file, shows them, lists what a dry run would delete, then deletes it', async () => {
    const kept = await pushUniqueImage(daemon.url, 'shop/app/api', 'v1');
    const doomed = await pushUniqueImage(daemon.url, 'shop/app/api', undefined);
    const file = join(work.path, 'policies.json');
    await writeFile(
      file,
      JSON.stringify([
        { name: 'untagged', action: { type: 'Delete' }, condition: { tagState: 'untagged' } },
        {
          name: 'keep-recent',
          action: { type: 'Keep' },
          mostRecentVersions: { keepCount: 10, imageNamePrefixes: ['web'] },
        },
      ]),
    );
    const updated = await mistriveJson<Repository>(admin, [
      'repos',
      'update',
      'shop/app',
      '--cleanup-policies',
      file,
    ]);
    expect(updated.cleanupPolicies.map((p) => p.name)).toEqual(['untagged', 'keep-recent']);
    expect(updated.cleanupDryRun).toBe(true);

    const described = await mistrive(admin, ['repos', 'describe', 'shop/app']);
    expect(described.stdout).toContain('Cleanup\t2 policies, dry run');
    expect(described.stdout).toContain('Policy untagged\tDelete untagged\n');
    expect(described.stdout).toContain(
      'Policy keep-recent\tKeep the 10 most recent of each image starting web\n',
    );

    const dryRun = await mistriveJson<CleanupRun>(admin, ['repos', 'cleanup', 'shop/app', '--dry-run']);
    expect(dryRun).toMatchObject({ dryRun: true, deleted: 1, freedBytes: doomed.ownBytes });
    expect(dryRun.items.map((item) => [item.image, item.digest, item.outcome])).toEqual([
      ['api', doomed.digest, 'would-delete'],
    ]);
    const piped = await mistrive(admin, ['repos', 'cleanup', 'shop/app']);
    expect(piped.stdout).toBe(`api\t${doomed.digest}\t\tuntagged\twould-delete\n`);

    await mistriveJson(admin, ['repos', 'update', 'shop/app', '--no-cleanup-dry-run']);
    const real = await mistriveJson<CleanupRun>(admin, ['repos', 'cleanup', 'shop/app']);
    expect(real).toMatchObject({ dryRun: false, deleted: 1, freedBytes: doomed.ownBytes });
    const images = await mistriveJson<{ images: { digests: { digest: string }[] }[] }>(admin, [
      'images',
      'list',
      'shop/app',
    ]);
    expect(images.images.flatMap((image) => image.digests.map((d) => d.digest))).toEqual([kept.digest]);
  });

  it('says which file or field is wrong', async () => {
    const notJson = join(work.path, 'broken.json');
    await writeFile(notJson, '[{"name": ');
    const broken = await mistrive(admin, ['repos', 'update', 'shop/app', '--cleanup-policies', notJson]);
    expect(broken.exitCode).toBe(12);
    expect(broken.stderr).toMatch(/broken\.json is not valid JSON/);

    const badField = join(work.path, 'bad.json');
    await writeFile(
      badField,
      JSON.stringify([{ name: 'old', action: { type: 'Delete' }, condition: { olderThan: 'a week' } }]),
    );
    const refused = await mistrive(admin, ['repos', 'update', 'shop/app', '--cleanup-policies', badField]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/cleanupPolicies\.0\.condition\.olderThan.*"a week" is not a duration/);
  });

  it('shows usage in repos list, repos describe and projects describe', async () => {
    const repository = await mistriveJson<Repository>(admin, ['repos', 'describe', 'shop/app']);
    expect(repository.usage.logicalBytes).toBeGreaterThan(0);
    const list = await mistrive(admin, ['repos', 'list', '--project', 'shop']);
    const columns = list.stdout.trim().split('\t');
    expect(columns.slice(-2)).toEqual([
      String(repository.usage.logicalBytes),
      String(repository.usage.uniqueBytes),
    ]);
    const project = await mistrive(admin, ['projects', 'describe', 'shop']);
    expect(project.stdout).toContain(`Logical size\t${repository.usage.logicalBytes}\n`);
    expect(project.stdout).toContain('Storage quota\tnone\n');
  });

  it('sets a project quota that refuses a skopeo push with the quota and the usage', async () => {
    const bad = await mistrive(admin, ['projects', 'update', 'shop', '--storage-quota', 'lots']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/"lots" is not a size/);

    const quota = await mistriveJson<{ storageQuota: number }>(admin, [
      'projects',
      'update',
      'shop',
      '--storage-quota',
      '64KiB',
    ]);
    expect(quota.storageQuota).toBe(65_536);
    expect((await mistrive(admin, ['projects', 'describe', 'shop'])).stdout).toContain(
      'Storage quota\t65536\n',
    );

    // A layer of random bytes does not compress: 100 KiB of it cannot fit in 64 KiB.
    const layout = join(work.path, 'big');
    await writeOciLayout(
      layout,
      'v1',
      buildImage([await tarGzLayer({ 'blob.bin': randomBytes(100 * 1024) })]),
    );
    const push = await runSkopeo(pushArgs(daemon.url, layout, 'v1', 'shop/app/big')).done;
    expect(push.exitCode).not.toBe(0);
    expect(push.all).toMatch(
      /denied: storage quota exceeded: project shop has a quota of 64 KiB and holds [\d.]+ KiB/,
    );

    // Without the quota the same push goes through.
    await mistriveJson(admin, ['projects', 'update', 'shop', '--storage-quota', 'none']);
    await pushLayout(daemon.url, layout, 'v1', 'shop/app/big');
  });
});
