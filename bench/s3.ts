import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type S3Server, startS3Server, stopS3Server } from '../test/support/ceph-s3.js';
import { Cleanup } from './cleanup.js';
import { type RunningServer, startMistrive } from './daemons.js';
import { pullBigBlobWithCurl, pushBigBlob, type TransferResult } from './scenarios/big-blob.js';
import { median } from './stats.js';
import { BigBlobSource } from './test-data.js';

/**
 * `npm run bench:s3 [GIB] [ROUNDS]`: a 1 GiB blob pushed (one PUT) and pulled (curl) through one
 * `mistrive serve` with its blobs in S3 (Ceph RGW on a file-backed OSD, on this machine) and one on
 * the filesystem store, in the same run, alternating which goes first each round. Prints medians and
 * the ratio S3 / filesystem.
 */
async function main(cleanup: Cleanup): Promise<void> {
  const gib = Number(process.argv[2] ?? 1);
  const rounds = Number(process.argv[3] ?? 3);
  const size = Math.round(gib * 1024 ** 3);
  const work = await cleanup.tempDir('mistrive-bench-s3-');
  let s3: S3Server | undefined;
  try {
    const progress = (message: string) =>
      console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
    progress('starting Ceph RGW (bluestore on a sparse file)');
    s3 = await startS3Server({ bucket: 'mistrive-bench', objectStore: 'bluestore' });
    const config = join(work, 's3.json');
    await writeFile(
      config,
      JSON.stringify({
        blobs: {
          s3: {
            endpoint: s3.endpoint,
            bucket: s3.bucket,
            region: s3.region,
            forcePathStyle: true,
            prefix: 'bench/',
          },
        },
      }),
    );
    const servers: Record<'filesystem' | 's3', RunningServer> = {
      filesystem: await startMistrive(cleanup, join(work, 'fs-data')),
      s3: await startMistrive(cleanup, join(work, 's3-data'), {
        args: ['--config', config],
        env: { AWS_ACCESS_KEY_ID: s3.accessKey, AWS_SECRET_ACCESS_KEY: s3.secretKey },
      }),
    };
    progress(`writing a ${gib} GiB random blob`);
    const source = await BigBlobSource.create(work, 'big.bin', size);
    const results: Record<'filesystem' | 's3', { push: TransferResult[]; pull: TransferResult[] }> = {
      filesystem: { push: [], pull: [] },
      s3: { push: [], pull: [] },
    };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? (['filesystem', 's3'] as const) : (['s3', 'filesystem'] as const);
      for (const store of order) {
        const blob = await source.nextVariant();
        const push = await pushBigBlob(servers[store], `bench/${store}/big`, blob);
        const pull = await pullBigBlobWithCurl(servers[store], `bench/${store}/big`, blob);
        results[store].push.push(push);
        results[store].pull.push(pull);
        progress(
          `round ${round + 1} ${store}: push ${push.mbPerSecond.toFixed(0)} MB/s, pull ${pull.mbPerSecond.toFixed(0)} MB/s`,
        );
      }
    }
    const figure = (store: 'filesystem' | 's3', kind: 'push' | 'pull', field: keyof TransferResult) =>
      median(results[store][kind].map((result) => result[field]));
    console.log(`\n${gib} GiB blob through one mistrive serve, medians of ${rounds} rounds (same run)\n`);
    console.log('                      filesystem        S3   S3/filesystem');
    for (const kind of ['push', 'pull'] as const) {
      for (const [field, label] of [
        ['mbPerSecond', 'MB/s'],
        ['cpuSecondsPerGb', 'CPU s/GB'],
        ['peakRssMb', 'peak RSS MB'],
      ] as const) {
        const fs = figure('filesystem', kind, field);
        const onS3 = figure('s3', kind, field);
        console.log(
          `${`${kind} ${label}`.padEnd(20)} ${fs.toFixed(field === 'cpuSecondsPerGb' ? 2 : 0).padStart(11)} ${onS3
            .toFixed(field === 'cpuSecondsPerGb' ? 2 : 0)
            .padStart(9)} ${(onS3 / fs).toFixed(2).padStart(14)}`,
        );
      }
    }
    console.log(
      '\nCPU and RSS are the registry process only; RGW and its OSD run on the same 2 cores and disk.',
    );
  } finally {
    await cleanup.run();
    if (s3) await stopS3Server(s3);
  }
}

const cleanup = new Cleanup();
cleanup.install();
await main(cleanup);
