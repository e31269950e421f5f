import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { Cleanup } from './cleanup.js';
import { mistriveAdmin, type RunningServer, startMistrive } from './daemons.js';
import { sha256, withClient } from './registry-client.js';
import { BigBlobSource, imageManifestType } from './test-data.js';

/**
 * `npm run bench:copy`: moving a 1 GiB image (4 random layers) with `mistrive images copy`,
 * `export` and `import`, between two `mistrive serve` on loopback, measured from the CLI's own
 * processes (start-up included):
 * - a copy within one registry (every blob mounted): seconds, of the copy itself (`seconds` in
 *   its --json result) and of the whole CLI run;
 * - a copy across the two registries: MB/s, and the ratio to `skopeo copy` of the same image in the
 *   same run (each run alternately first, to a fresh repository);
 * - export (OCI archive) and import: MB/s and the CLI's peak RSS (GNU time).
 * BENCH_COPY_BYTES changes the image size; BENCH_COPY_ROUNDS the rounds (2).
 */

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const cli = join(repoRoot, 'bin', 'run.js');
const totalBytes = Number(process.env.BENCH_COPY_BYTES ?? 1024 ** 3);
const rounds = Number(process.env.BENCH_COPY_ROUNDS ?? 2);
const layerCount = 4;

const cleanup = new Cleanup();
cleanup.install();

interface Timed {
  readonly seconds: number;
  readonly peakRssMiB: number;
  readonly stdout: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Runs a program under GNU time: wall seconds and peak RSS. */
async function timed(program: string, args: readonly string[], env: Record<string, string>): Promise<Timed> {
  const started = performance.now();
  const result = await execa('/usr/bin/time', ['-f', 'peak-rss-kib=%M', program, ...args], {
    env,
    extendEnv: false,
    reject: false,
    cwd: repoRoot,
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.exitCode !== 0)
    throw new Error(`${program} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  const rss = Number(/peak-rss-kib=(\d+)/.exec(String(result.stderr))?.[1] ?? 0);
  return { seconds, peakRssMiB: rss / 1024, stdout: String(result.stdout) };
}

async function pushSourceImage(server: RunningServer, work: string, name: string): Promise<void> {
  const layers: { digest: string; size: number }[] = [];
  await withClient(server, name, async (client) => {
    for (let i = 0; i < layerCount; i++) {
      const source = await BigBlobSource.create(work, `layer-${i}`, Math.floor(totalBytes / layerCount));
      const blob = await source.nextVariant();
      await client.pushBlob(name, blob.digest, { file: blob.file, size: blob.size });
      layers.push({ digest: blob.digest, size: blob.size });
    }
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    );
    await client.pushBlob(name, sha256(config), config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: imageManifestType,
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: sha256(config),
          size: config.length,
        },
        layers: layers.map((layer) => ({
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          ...layer,
        })),
      }),
    );
    await client.putManifest(name, 'v1', imageManifestType, manifest);
  });
}

async function main(): Promise<void> {
  const work = await cleanup.tempDir('mistrive-bench-copy-');
  const [first, second] = await Promise.all([
    startMistrive(cleanup, join(work, 'a')),
    startMistrive(cleanup, join(work, 'b')),
  ]);
  const hostOf = (server: RunningServer) => new URL(server.url).host;
  const home = join(work, 'home');
  await mkdir(home);
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_RUNTIME_DIR: home,
    _CONTAINERS_ROOTLESS_UID: '65534',
    TMPDIR: work,
  };
  for (const server of [first, second]) {
    const login = ['auth', 'login', '--registry', server.url, '--username', 'admin', '--password-stdin'];
    await execa(process.execPath, [cli, ...login], { env, extendEnv: false, input: mistriveAdmin.password });
  }
  process.stderr.write(`pushing a ${(totalBytes / 1024 ** 3).toFixed(2)} GiB image…\n`);
  const sourceDir = join(work, 'source');
  await mkdir(sourceDir);
  await pushSourceImage(first, sourceDir, 'bench/copy/source');
  await cleanup.removeDir(sourceDir);
  const source = `${hostOf(first)}/bench/copy/source:v1`;
  const node = process.execPath;

  const startup = await timed(node, [cli, '--version'], env);
  const within: number[] = [];
  const withinCopy: number[] = [];
  for (let round = 0; round < 3; round++) {
    const run = await timed(
      node,
      [cli, 'images', 'copy', source, `${hostOf(first)}/bench/copy/within-${round}:v1`, '--json'],
      env,
    );
    const result = JSON.parse(run.stdout) as { mounted: number; copied: number; seconds: number };
    if (result.copied !== 0) throw new Error('a copy within one registry uploaded blobs');
    within.push(run.seconds);
    withinCopy.push(result.seconds);
  }

  const mistriveRates: number[] = [];
  const skopeoRates: number[] = [];
  const creds = `admin:${mistriveAdmin.password}`;
  for (let round = 0; round < rounds; round++) {
    const runMistrive = async () => {
      const run = await timed(
        node,
        [cli, 'images', 'copy', source, `${hostOf(second)}/bench/copy/m-${round}:v1`, '--json'],
        env,
      );
      mistriveRates.push(totalBytes / 1e6 / run.seconds);
    };
    const runSkopeo = async () => {
      const skopeoArgs = [
        '--insecure-policy',
        'copy',
        '--preserve-digests',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        '--src-creds',
        creds,
        '--dest-creds',
        creds,
        `docker://${source}`,
        `docker://${hostOf(second)}/bench/copy/s-${round}:v1`,
      ];
      // A fresh blob-info cache each run: skopeo remembers where it pushed blobs and would mount them.
      const skopeoHome = await cleanup.tempDir('mistrive-bench-skopeo-');
      const run = await timed('skopeo', skopeoArgs, {
        ...env,
        HOME: skopeoHome,
        XDG_DATA_HOME: join(skopeoHome, 'data'),
        XDG_CONFIG_HOME: join(skopeoHome, 'config'),
        XDG_RUNTIME_DIR: skopeoHome,
      });
      await cleanup.removeDir(skopeoHome);
      skopeoRates.push(totalBytes / 1e6 / run.seconds);
    };
    if (round % 2 === 0) {
      await runMistrive();
      await runSkopeo();
    } else {
      await runSkopeo();
      await runMistrive();
    }
  }

  const archive = join(work, 'image.tar');
  const exported = await timed(
    node,
    [cli, 'images', 'export', source, '-o', archive, '--format', 'oci', '--json'],
    env,
  );
  const imported = await timed(
    node,
    [cli, 'images', 'import', archive, `${hostOf(second)}/bench/copy/imported:v1`, '--json'],
    env,
  );

  const lines = [
    `image: ${layerCount} layers, ${(totalBytes / 1e6).toFixed(0)} MB`,
    `CLI start-up (mistrive --version): ${startup.seconds.toFixed(2)} s`,
    `copy within one registry (mounts): the copy itself median ${median(withinCopy).toFixed(2)} s (${withinCopy.map((s) => s.toFixed(2)).join(', ')}); the whole CLI run median ${median(within).toFixed(2)} s`,
    `copy across two registries: mistrive ${median(mistriveRates).toFixed(0)} MB/s (${mistriveRates.map((r) => r.toFixed(0)).join(', ')}), skopeo ${median(skopeoRates).toFixed(0)} MB/s (${skopeoRates.map((r) => r.toFixed(0)).join(', ')}), ratio ${(median(mistriveRates) / median(skopeoRates)).toFixed(2)}×`,
    `export (OCI archive): ${(totalBytes / 1e6 / exported.seconds).toFixed(0)} MB/s, peak RSS ${exported.peakRssMiB.toFixed(0)} MiB`,
    `import (OCI archive): ${(totalBytes / 1e6 / imported.seconds).toFixed(0)} MB/s, peak RSS ${imported.peakRssMiB.toFixed(0)} MiB`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup.run());
