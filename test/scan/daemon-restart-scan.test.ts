import { randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildImage, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { openTestMetadataStore } from '../support/postgres.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { createRepository } from '../support/scanning.js';
import { pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import { fullCounts, installStandin, type Standin } from '../support/trivy-standin.js';
import { waitFor } from '../support/wait.js';

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a daemon killed in the middle of a scan', { timeout: 120_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('finishes the scan after a restart: the queue is in the metadata store', async () => {
    const data = await tempDir('mistrive-scan-restart-');
    cleanups.push(() => data.remove());
    const work = await tempDir('mistrive-scan-restart-work-');
    cleanups.push(() => work.remove());
    // A Trivy that takes a minute: still scanning when the daemon is killed.
    const standin: Standin = await installStandin({
      report: 'distroless-base.json',
      mode: 'slow',
      delayMs: 60_000,
    });
    cleanups.push(() => standin.remove());

    // The store the daemon uses, opened beside it, the way a second instance would see it.
    const store = await openTestMetadataStore(data.path);
    cleanups.push(() => store.close());
    await createRepository(store, 'proj', 'scanned', true);
    const config = join(work.path, 'serve.yaml');
    await writeFile(config, 'scanning:\n  lease: 2s\n  pollInterval: 200ms\n  retryBackoff: 100ms\n');
    // Trivy is found on PATH: the stand-in's bin directory comes first.
    const env = { PATH: `${standin.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}` };
    const started: Daemon[] = [];
    cleanups.push(async () => {
      for (const daemon of started) if (daemon.process.exitCode === null) await daemon.kill();
    });
    const first = await startDaemon(data.path, ['--config', config], env);
    started.push(first);

    const image = buildImage([
      await tarGzLayer({
        'etc/os-release': 'ID=debian\nVERSION_ID="9"\n',
        'lib/libssl.so': randomBytes(32 * 1024),
      }),
      await tarGzLayer({ 'app/server': `server ${randomBytes(8).toString('hex')}` }),
    ]);
    const layout = join(work.path, 'layout');
    await writeOciLayout(layout, 'v1', image);
    await pushLayout(first.url, layout, 'v1', 'proj/scanned/server');
    const digest = image.manifest.descriptor.digest;

    const scanOf = async () => (await store.scans.find([digest])).get(digest);
    const [run] = await waitFor('the stand-in to start scanning', async () => {
      const runs = await standin.scans();
      return runs.length > 0 ? runs : undefined;
    });
    expect((await scanOf())?.status).toBe('scanning');

    await first.kill();
    // Trivy, orphaned, goes too; the job stays claimed by the dead daemon.
    await waitFor('the orphaned scanner to exit', () => (isRunning(run?.pid ?? 0) ? undefined : true));
    expect(await scanOf()).toMatchObject({ status: 'scanning', attempts: 1 });

    await standin.configure({ report: 'distroless-base.json' });
    const second = await startDaemon(data.path, ['--config', config], env);
    started.push(second);
    const scan = await waitFor(
      'the scan to finish after the restart',
      async () => {
        const state = await scanOf();
        return state?.status === 'succeeded' || state?.status === 'failed' ? state : undefined;
      },
      60_000,
      100,
    );
    // Taken back once the dead daemon's lease ran out, and scanned again.
    expect(scan).toMatchObject({ status: 'succeeded', attempts: 2, reason: undefined });
    expect(scan.result?.summary).toEqual(fullCounts('distroless-base.json'));
    expect(await store.scans.findings(digest)).toHaveLength(4);
    expect(await standin.scans()).toHaveLength(2);
    // Neither scan left its image layout behind.
    expect(await readdir(join(data.path, 'scan-work'))).toEqual([]);
    expect(second.stderr()).toMatch(/took back scans whose instance stopped before finishing them/);
    expect(await second.stop()).toBe(0);
  });
});
