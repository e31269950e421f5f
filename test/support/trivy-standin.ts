import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Severity } from '../../src/db/scans.js';
import { tempDir } from './temp.js';

/**
 * The Trivy stand-in (test/fixtures/trivy-standin.mjs) installed as a program named `trivy` in a
 * temporary bin directory, with its mode baked into a small wrapper script: usable on PATH or as
 * `scanning.trivy.path`, by the registry in this process or by a daemon.
 */

const standinScript = fileURLToPath(new URL('../fixtures/trivy-standin.mjs', import.meta.url));

/** Real Trivy reports from Trivy's own test suite, kept in the repository so a clone tests on its own. */
export const trivyFixtures = fileURLToPath(new URL('../fixtures/trivy/', import.meta.url));

/** What each fixture holds, by severity: the table of the fixtures' README. */
export const fixtureCounts: Record<string, Partial<Record<Severity, number>>> = {
  'alpine-310.json': { MEDIUM: 4 },
  'busybox-with-lockfile.json': { HIGH: 1, MEDIUM: 1 },
  'centos-7.json': { MEDIUM: 1, LOW: 2 },
  'debian-buster.json': { CRITICAL: 1, LOW: 1 },
  'distroless-base.json': { MEDIUM: 2, LOW: 2 },
};

/** A fixture's counts with every severity present, as the registry reports them. */
export function fullCounts(fixture: string): Record<Severity, number> {
  return { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0, ...fixtureCounts[fixture] };
}

export type StandinMode = 'ok' | 'fail' | 'garbage' | 'hang' | 'slow' | 'crash';

export interface StandinOptions {
  /** A file of `test/fixtures/trivy/`, printed as the report. */
  readonly report?: string;
  readonly mode?: StandinMode;
  readonly delayMs?: number;
  /** Image scans that fail (exit 1) before `mode` applies. */
  readonly failFirst?: number;
  readonly version?: string;
}

export interface StandinLogEntry {
  readonly event: 'start' | 'layout' | 'end' | 'orphaned';
  readonly pid: number;
  readonly at: number;
  readonly args?: string[];
  readonly exitCode?: number;
  readonly error?: string;
  readonly server?: string;
  readonly blobs?: { digest: string; what: string; inode: number; links: number; size: number }[];
}

export interface Standin {
  /** A directory holding only `trivy`, to put first on PATH. */
  readonly binDir: string;
  /** The `trivy` program. */
  readonly path: string;
  /** Rewrites the program with other options (a daemon restarted with another behaviour). */
  configure(options: StandinOptions): Promise<void>;
  /** Every line the stand-in logged, in order. */
  log(): Promise<StandinLogEntry[]>;
  /** The `trivy image` runs so far. */
  scans(): Promise<StandinLogEntry[]>;
  remove(): Promise<void>;
}

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

export async function installStandin(options: StandinOptions = {}): Promise<Standin> {
  const dir = await tempDir('mistrive-trivy-');
  const binDir = join(dir.path, 'bin');
  const path = join(binDir, 'trivy');
  const logFile = join(dir.path, 'standin.log');
  await writeFile(logFile, '');
  const configure = async (settings: StandinOptions) => {
    const variables: Record<string, string | undefined> = {
      TRIVY_STANDIN_REPORT: settings.report ? join(trivyFixtures, settings.report) : undefined,
      TRIVY_STANDIN_MODE: settings.mode ?? 'ok',
      TRIVY_STANDIN_DELAY_MS: settings.delayMs?.toString(),
      TRIVY_STANDIN_FAIL_FIRST: settings.failFirst?.toString(),
      TRIVY_STANDIN_VERSION: settings.version,
      TRIVY_STANDIN_LOG: logFile,
    };
    const exports = Object.entries(variables)
      .filter(([, value]) => value !== undefined)
      .map(([name, value]) => `export ${name}=${quote(value as string)}`);
    const script = [
      '#!/bin/sh',
      ...exports,
      `exec ${quote(process.execPath)} ${quote(standinScript)} "$@"`,
      '',
    ];
    const staging = `${path}.new`;
    await mkdir(binDir, { recursive: true });
    await writeFile(staging, script.join('\n'), { mode: 0o755 });
    await chmod(staging, 0o755);
    // Renamed into place, so a scan starting meanwhile never runs half a script.
    await rename(staging, path);
  };
  await configure(options);
  const log = async () =>
    (await readFile(logFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as StandinLogEntry);
  return {
    binDir,
    path,
    configure,
    log,
    scans: async () => (await log()).filter((entry) => entry.event === 'start'),
    remove: () => dir.remove(),
  };
}
