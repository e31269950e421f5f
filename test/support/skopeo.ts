import { execa } from 'execa';
import { testAdminPassword } from './admin-password.js';
import { tempDir } from './temp.js';

/**
 * Runs skopeo, the real registry client, against a registry on loopback.
 *
 * Each run gets a fresh HOME, XDG_DATA_HOME and XDG_RUNTIME_DIR: skopeo's blob-info cache
 * otherwise remembers earlier pushes and mounts blobs instead of uploading them, which would hide
 * what a test means to exercise. `_CONTAINERS_ROOTLESS_UID` keeps it off the system-wide cache when
 * the tests run as root.
 */
export interface SkopeoResult {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** stdout and stderr interleaved. */
  readonly all: string;
}

export interface SkopeoRun {
  /** Resolves when skopeo exits, whatever its exit code. */
  readonly done: Promise<SkopeoResult>;
}

export function runSkopeo(args: readonly string[], timeoutMs = 120_000): SkopeoRun {
  const done = (async () => {
    const home = await tempDir('mistrive-skopeo-');
    try {
      const result = await execa('skopeo', ['--insecure-policy', ...args], {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home.path,
          XDG_DATA_HOME: `${home.path}/data`,
          XDG_CONFIG_HOME: `${home.path}/config`,
          XDG_RUNTIME_DIR: home.path,
          _CONTAINERS_ROOTLESS_UID: '65534',
        },
        extendEnv: false,
        timeout: timeoutMs,
        all: true,
        reject: false,
      });
      return { exitCode: result.exitCode, signal: result.signal, all: result.all };
    } finally {
      await home.remove();
    }
  })();
  return { done };
}

/** Runs skopeo to completion; a non-zero exit throws with everything it printed. */
export async function skopeo(args: readonly string[]): Promise<string> {
  const result = await runSkopeo(args).done;
  if (result.exitCode !== 0) {
    throw new Error(`skopeo ${args.join(' ')} failed (${result.exitCode ?? result.signal}):\n${result.all}`);
  }
  return result.all;
}

/** `docker://HOST:PORT/NAME:TAG` for a registry at `url`. */
export function dockerReference(url: string, name: string, tag: string): string {
  return `docker://${new URL(url).host}/${name}:${tag}`;
}

export interface CopyOptions {
  /** Copy every image of an index, not just the one for this machine's platform. */
  readonly all?: boolean;
  /**
   * `USER:PASSWORD` skopeo signs in with (through the Docker token flow); the administrator by
   * default, `false` for none (anonymous, or a credential helper from the Docker config).
   */
  readonly credentials?: string | false;
}

function credentialArgs(flag: '--dest-creds' | '--src-creds', options: CopyOptions): string[] {
  const credentials = options.credentials ?? `admin:${testAdminPassword}`;
  return credentials === false ? [] : [flag, credentials];
}

/** The arguments that push `oci:DIR:TAG` to the registry, keeping every digest as in the layout. */
export function pushArgs(
  url: string,
  layoutDir: string,
  tag: string,
  name: string,
  options: CopyOptions = {},
) {
  return [
    'copy',
    '--preserve-digests',
    '--dest-tls-verify=false',
    '--retry-times=0',
    ...credentialArgs('--dest-creds', options),
    ...(options.all ? ['--all'] : []),
    `oci:${layoutDir}:${tag}`,
    dockerReference(url, name, tag),
  ];
}

export function pushLayout(
  url: string,
  layoutDir: string,
  tag: string,
  name: string,
  options: CopyOptions = {},
): Promise<string> {
  return skopeo(pushArgs(url, layoutDir, tag, name, options));
}

/** Copies `NAME:TAG` from the registry into an OCI layout at `layoutDir`. */
export function pullLayout(
  url: string,
  name: string,
  tag: string,
  layoutDir: string,
  options: CopyOptions = {},
): Promise<string> {
  return skopeo([
    'copy',
    '--preserve-digests',
    '--src-tls-verify=false',
    '--retry-times=0',
    ...credentialArgs('--src-creds', options),
    ...(options.all ? ['--all'] : []),
    dockerReference(url, name, tag),
    `oci:${layoutDir}:${tag}`,
  ]);
}
