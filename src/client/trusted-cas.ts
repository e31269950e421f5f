import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The CA certificates the CLI and the credential helper trust, per registry, beside the system's:
 * `CONFIG/certs.d/HOST:PORT/ca.crt`, the layout Docker and the containers tools use for theirs.
 * `mistrive auth login --ca-cert` and `auth configure-docker --ca-cert` put them there. Only Node
 * built-ins: the credential helper sets it up on its hot path.
 */

let directory: string | undefined;

/** Where this process looks for registries' CA certificates: set once by each entry point. */
export function trustCertificatesIn(configDir: string): void {
  directory = certsDirectory(configDir);
}

export function certsDirectory(configDir: string): string {
  return join(configDir, 'certs.d');
}

/** The CA certificate file the CLI trusts for a registry `HOST[:PORT]`. */
export function trustedCaPath(configDir: string, host: string): string {
  return join(certsDirectory(configDir), host, 'ca.crt');
}

/** The PEM CA certificate trusted for an https URL's host, if one was installed. */
export function trustedCaFor(url: URL): string | undefined {
  if (!directory || url.protocol !== 'https:') return undefined;
  try {
    return readFileSync(join(directory, url.host, 'ca.crt'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
