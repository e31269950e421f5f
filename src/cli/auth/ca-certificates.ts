import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { trustedCaPath } from '../../client/trusted-cas.js';
import { writePrivateFile } from '../../lib/private-file.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

/**
 * Installs a registry's CA certificate where its clients read it, per registry host:
 * - the CLI and its credential helper: `CONFIG/certs.d/HOST/ca.crt`;
 * - podman, skopeo and buildah: `~/.config/containers/certs.d/HOST/ca.crt` (they read it for any user);
 * - Docker: `/etc/docker/certs.d/HOST/ca.crt`, which the Docker engine reads and only root may write;
 *   for anyone else, the command to run with sudo.
 */

export const dockerCertsRoot = '/etc/docker/certs.d';

export interface InstalledCaCertificate {
  readonly host: string;
  /** Files written. */
  readonly written: string[];
  /** The command that installs it for Docker, when this user cannot (not root). */
  readonly dockerCommand: string | undefined;
}

/** Reads a CA certificate file, refusing anything that is not one PEM certificate of a CA. */
export async function readCaCertificate(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError('LOCAL_FILE', `cannot read ${file} (${(error as NodeJS.ErrnoException).code})`, {
      hint: "give the registry's CA certificate, e.g. DATA/tls/ca.crt of `mistrive serve --tls self-signed`",
    });
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(text);
  } catch {
    throw new CliError('INVALID_ARGUMENT', `${file} is not a PEM certificate`, {
      hint: 'it should start with -----BEGIN CERTIFICATE-----',
    });
  }
  if (!certificate.ca) {
    throw new CliError(
      'INVALID_ARGUMENT',
      `${file} is not a CA certificate (${certificate.subject.trim()})`,
      {
        hint: "give the CA that signed the registry's certificate (ca.crt), not the server certificate",
      },
    );
  }
  return text;
}

/** Makes the CLI and the credential helper trust `ca` for the registry `host`. */
export async function trustForCli(context: CliContext, host: string, ca: string): Promise<string> {
  const path = trustedCaPath(context.configDir, host);
  await writePrivateFile(path, ca, 0o644);
  return path;
}

/** Installs `ca` for the CLI, the containers tools and (as root) Docker, for each host. */
export async function installCaCertificate(
  context: CliContext,
  hosts: readonly string[],
  ca: string,
  isRoot = process.getuid?.() === 0,
): Promise<InstalledCaCertificate[]> {
  const home = context.env.HOME || homedir();
  const installed: InstalledCaCertificate[] = [];
  for (const host of [...new Set(hosts)]) {
    const written = [await trustForCli(context, host, ca)];
    const containers = join(home, '.config', 'containers', 'certs.d', host, 'ca.crt');
    await writePrivateFile(containers, ca, 0o644);
    written.push(containers);
    const docker = join(dockerCertsRoot, host, 'ca.crt');
    let dockerCommand: string | undefined;
    if (isRoot) {
      await writePrivateFile(docker, ca, 0o644);
      written.push(docker);
    } else dockerCommand = `sudo mkdir -p ${join(dockerCertsRoot, host)} && sudo cp ${containers} ${docker}`;
    installed.push({ host, written, dockerCommand });
  }
  return installed;
}
