import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GcResult, VerifyResult } from '../../src/cli/resources/admin.js';
import { deleteManifest } from '../gc/support.js';
import { type CliHome, cliHome, mistrive, mistriveJson } from '../support/cli.js';
import { pushImage } from '../support/oci-client.js';
import { type Daemon, startDaemon, testAdminPassword } from '../support/registry.js';
import { overwriteStoredBlob, storedDigests, storeOf } from '../support/stored-blobs.js';
import { tempDir } from '../support/temp.js';

describe('mistrive admin gc and admin verify', { timeout: 180_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon;
  let admin: CliHome;
  let nobody: CliHome;
  let dataDir: string;

  beforeAll(async () => {
    work = await tempDir('mistrive-cli-admin-');
    dataDir = join(work.path, 'data');
    const config = join(work.path, 'config.yaml');
    await writeFile(config, 'autoCreateRepositories: true\ngc:\n  interval: 0s\n  delay: 0s\n');
    daemon = await startDaemon(dataDir, ['--config', config]);
    admin = await cliHome();
    nobody = await cliHome();
    const login = await mistrive(
      admin,
      ['auth', 'login', '--registry', daemon.url, '--username', 'admin', '--password-stdin'],
      { input: testAdminPassword },
    );
    expect(login.exitCode, login.stderr).toBe(0);
    await mistrive(nobody, ['config', 'set', 'registry', daemon.url]);
  });
  afterAll(async () => {
    await daemon?.stop();
    for (const home of [admin, nobody]) await home?.remove();
    await work?.remove();
  });

  it('admin gc --dry-run --wait reports without removing; admin gc --wait removes and reports the bytes', async () => {
    const image = await pushImage(daemon.url, 'p/r/old', 'v1', [4000]);
    await deleteManifest(daemon.url, 'p/r/old', image.digest);

    const dry = await mistriveJson<GcResult>(admin, ['admin', 'gc', '--dry-run', '--wait']);
    expect(dry.status).toBe('succeeded');
    expect(dry.report?.dryRun).toBe(true);
    expect(dry.report?.blobs.items).toEqual(expect.arrayContaining([image.digest, ...image.layers]));
    const before = await storedDigests(dataDir);
    expect(before.has(image.layers[0] as string)).toBe(true);

    const table = await mistrive(admin, ['admin', 'gc', '--wait']);
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toContain('Reclaimed');
    const after = await storedDigests(dataDir);
    expect(after.has(image.layers[0] as string)).toBe(false);
    expect(after.has(image.digest)).toBe(false);

    const started = await mistriveJson<GcResult>(admin, ['admin', 'gc']);
    expect(started.run).toMatch(/\S/);
  });

  it('admin verify finds a corrupt blob and an unknown file; --repair quarantines the blob', async () => {
    const image = await pushImage(daemon.url, 'p/r/kept', 'v1', [2000]);
    const layer = image.layers[0] as string;
    const store = await storeOf(dataDir);
    await overwriteStoredBlob(
      dataDir,
      layer,
      Buffer.concat([await store.readAll(layer), Buffer.from('rot')]),
    );
    // Bytes no metadata names: stored under a digest they do not even have.
    await store.put('sha256:'.padEnd(71, 'a'), randomBytes(100));

    const check = await mistrive(admin, ['admin', 'verify', '--json']);
    expect(check.exitCode).toBe(6);
    const report = (JSON.parse(check.stdout) as VerifyResult).report;
    expect(report?.corrupt.items.map((item) => item.digest)).toEqual([layer]);
    expect(report?.unknown.items.map((item) => item.digest)).toEqual(['sha256:'.padEnd(71, 'a')]);
    expect(report?.healthy).toBe(false);

    const repaired = await mistrive(admin, ['admin', 'verify', '--repair', '--json']);
    expect(repaired.exitCode).toBe(6);
    const fixed = (JSON.parse(repaired.stdout) as VerifyResult).report;
    expect(fixed?.corrupt.items).toEqual([
      { digest: layer, actual: expect.stringMatching(/^sha256:/), quarantined: true },
    ]);
    expect(fixed?.unknown.items[0]?.removed).toBe(true);
    const head = await fetch(`${daemon.url}/v2/p/r/kept/blobs/${layer}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${daemon.adminToken}` },
    });
    expect(head.status).toBe(404);

    const clean = await mistrive(admin, ['admin', 'verify']);
    expect(clean.exitCode, clean.stdout).toBe(6); // the quarantined blob is now missing
    expect(clean.stdout).toMatch(/Missing:\s+1|Missing\t1/);
  });

  it('refuses anyone but the administrator', async () => {
    const refused = await mistrive(nobody, ['admin', 'gc']);
    expect(refused.exitCode).toBe(3);
  });
});
