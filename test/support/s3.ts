import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { inject } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { connectS3, type S3Commands } from '../../src/storage/s3/s3-client.js';
import { type S3Server, startS3Server, stopS3Server } from './ceph-s3.js';

export type { S3Server };

/**
 * A real S3 server for the tests (Ceph RGW, see `ceph-s3.ts`).
 *
 * With `MISTRIVE_TEST_BLOBS=s3` (`npm run test:s3`), one server runs for the whole run (the global
 * setup) and every registry the tests start keeps its blobs in it. Otherwise the few suites that
 * test the S3 store itself start one per file.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    s3: S3Server | null;
  }
}

export const testBucket = 'mistrive-test';

/** Whether this run keeps every test registry's blobs in S3. */
export function blobsOnS3(): boolean {
  return process.env.MISTRIVE_TEST_BLOBS === 's3';
}

let ownServer: Promise<S3Server> | undefined;

/**
 * The run's S3 server, or one started for this test file (stopped by `releaseS3Server`). Sets the
 * AWS credential variables in this process, as an operator would for the daemon: the store reads
 * them through the standard AWS chain.
 */
export async function useS3Server(): Promise<S3Server> {
  const shared = inject('s3');
  if (!shared) ownServer ??= startS3Server({ bucket: testBucket });
  const server = shared ?? (await (ownServer as Promise<S3Server>));
  process.env.AWS_ACCESS_KEY_ID = server.accessKey;
  process.env.AWS_SECRET_ACCESS_KEY = server.secretKey;
  return server;
}

/** Stops the server `useS3Server` started for this file, if it did. */
export async function releaseS3Server(): Promise<void> {
  const own = ownServer;
  ownServer = undefined;
  if (own) await stopS3Server(await own);
}

/** The environment a daemon needs to reach `server` with the standard AWS chain. */
export function s3Env(server: S3Server): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: server.accessKey, AWS_SECRET_ACCESS_KEY: server.secretKey };
}

/**
 * The key prefix of the registry whose data directory is `dataDir`: each test registry has its own
 * corner of the one bucket, and helpers that look at stored blobs find it from the data directory.
 */
export function prefixFor(dataDir: string): string {
  return `registries/${basename(dataDir)}/`;
}

/** What `blobs.s3` says in a test registry's configuration. */
export interface S3Settings {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
  readonly prefix: string;
  readonly redirect?: boolean;
}

/** `blobs.s3` settings for a registry on `server` under `prefix`. */
export function s3Settings(server: S3Server, prefix: string): S3Settings {
  return {
    endpoint: server.endpoint,
    bucket: server.bucket,
    region: server.region,
    forcePathStyle: true,
    prefix,
  };
}

/** A client for looking into the bucket from outside, as an operator would with the AWS CLI. */
export function s3Client(server: S3Server): Promise<S3Commands> {
  process.env.AWS_ACCESS_KEY_ID = server.accessKey;
  process.env.AWS_SECRET_ACCESS_KEY = server.secretKey;
  return connectS3(s3Settings(server, ''));
}

/**
 * What puts a daemon's blobs in the run's S3 server: its config file (the one `args` names, with
 * `blobs.s3` added) and the AWS credentials in its environment.
 */
export async function daemonOnS3(
  dataDir: string,
  args: readonly string[],
): Promise<{ args: string[]; env: Record<string, string> }> {
  const server = await useS3Server();
  const at = args.indexOf('--config');
  const given = at >= 0 ? (parseYaml(await readFile(args[at + 1] as string, 'utf8')) ?? {}) : {};
  const file = join(tmpdir(), `mistrive-s3-${basename(dataDir)}-${randomBytes(4).toString('hex')}.json`);
  // Settings the test gave for blobs.s3 (redirects) are kept; the server and prefix are the run's.
  const own = (given as { blobs?: { s3?: object } }).blobs?.s3;
  const s3 = { ...own, ...s3Settings(server, prefixFor(dataDir)) };
  await writeFile(file, JSON.stringify({ ...given, blobs: { s3 } }));
  const rest = at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : [...args];
  return { args: [...rest, '--config', file], env: s3Env(server) };
}
