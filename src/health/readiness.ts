import { randomBytes } from 'node:crypto';
import { statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetadataStore } from '../db/metadata.js';
import { formatBinaryBytes } from '../lib/byte-sizes.js';

/** One readiness check's answer; the message says what is wrong, never a path or a secret. */
export interface CheckResult {
  readonly name: 'metadata' | 'dataDirWritable' | 'freeSpace';
  readonly ok: boolean;
  readonly message?: string;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: readonly CheckResult[];
}

export interface ReadinessDeps {
  readonly metadata: MetadataStore;
  readonly dataDir: string;
  /** Below this many free bytes on the data directory's filesystem, the instance is not ready. */
  readonly minFreeBytes: number;
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'error';

/**
 * Whether this instance can serve: the metadata store answers, the data directory takes a write,
 * and its filesystem has the configured free space. Each check runs every time it is asked: a load
 * balancer asks every few seconds, and each costs a query, a small file and a statfs.
 */
export async function checkReadiness(deps: ReadinessDeps): Promise<Readiness> {
  const checks = await Promise.all([metadataCheck(deps), writableCheck(deps), freeSpaceCheck(deps)]);
  return { ready: checks.every((check) => check.ok), checks };
}

async function metadataCheck({ metadata }: ReadinessDeps): Promise<CheckResult> {
  try {
    await metadata.catalog.projectOrganization('');
    return { name: 'metadata', ok: true };
  } catch (error) {
    return {
      name: 'metadata',
      ok: false,
      message: `the metadata store does not answer (${errorCode(error)})`,
    };
  }
}

async function writableCheck({ dataDir }: ReadinessDeps): Promise<CheckResult> {
  const probe = join(dataDir, `.readyz-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(probe, 'ok', { mode: 0o600 });
    await unlink(probe);
    return { name: 'dataDirWritable', ok: true };
  } catch (error) {
    await unlink(probe).catch(() => {});
    return {
      name: 'dataDirWritable',
      ok: false,
      message: `the data directory cannot be written to (${errorCode(error)})`,
    };
  }
}

async function freeSpaceCheck({ dataDir, minFreeBytes }: ReadinessDeps): Promise<CheckResult> {
  try {
    const stats = await statfs(dataDir);
    const free = stats.bavail * stats.bsize;
    if (free >= minFreeBytes) return { name: 'freeSpace', ok: true };
    return {
      name: 'freeSpace',
      ok: false,
      message: `${formatBinaryBytes(free)} free on the data directory's filesystem, below the ${formatBinaryBytes(minFreeBytes)} required (health.minFreeBytes)`,
    };
  } catch (error) {
    return { name: 'freeSpace', ok: false, message: `free space cannot be read (${errorCode(error)})` };
  }
}
