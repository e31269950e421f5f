import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/**
 * A throwaway S3 server: Ceph's RADOS Gateway on a single-node cluster, started by
 * `scripts/ceph-s3-up.sh` (about 1.5 s, 150 MB of memory) and removed by `ceph-s3-down.sh`. Used by
 * the tests and the S3 benchmark.
 */

export interface S3Server {
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly region: string;
  readonly bucket: string;
  /** The directory `ceph-s3-down.sh` removes; undefined for the run's shared server. */
  readonly cephDir?: string;
}

const scripts = fileURLToPath(new URL('../../scripts/', import.meta.url));

export interface S3ServerOptions {
  /** Created once the server answers. */
  readonly bucket: string;
  /** `memstore` (objects in RAM, the default) or `bluestore` (a sparse file on disk, for big transfers). */
  readonly objectStore?: 'memstore' | 'bluestore';
}

/** Starts RGW with `bucket`; stop it with `stopS3Server`. */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const started = await execa(`${scripts}ceph-s3-up.sh`, [], {
    env: { S3_BUCKET: options.bucket, CEPH_OBJECTSTORE: options.objectStore ?? 'memstore' },
    reject: false,
    timeout: 120_000,
  });
  if (started.exitCode !== 0) throw new Error(`ceph-s3-up.sh failed:\n${started.stderr}`);
  const vars = Object.fromEntries(
    String(started.stdout)
      .split('\n')
      .map((line) => line.split('=', 2))
      .filter((pair): pair is [string, string] => pair.length === 2),
  );
  return {
    endpoint: vars.S3_ENDPOINT as string,
    accessKey: vars.S3_ACCESS_KEY as string,
    secretKey: vars.S3_SECRET_KEY as string,
    region: vars.S3_REGION as string,
    bucket: options.bucket,
    cephDir: vars.CEPH_DIR as string,
  };
}

export async function stopS3Server(server: S3Server): Promise<void> {
  if (server.cephDir) await execa(`${scripts}ceph-s3-down.sh`, [server.cephDir], { reject: false });
}
