import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { writePrivateFile } from '../../lib/private-file.js';
import type { IssuedCertificate } from './certificates.js';

/** Issuing loads an X.509 library of ~1 MB; a start that keeps its certificates never loads it. */
const issuing = () => import('./certificates.js');

/**
 * The self-signed mode's files, in `DATA/tls/`: a private CA (`ca.crt`, `ca.key`) made once and kept,
 * and a server certificate (`server.crt`, `server.key`) it signs for the names clients use. The
 * server certificate is issued again when those names change or it nears its expiry; the CA stays, so
 * clients that trust it keep working. Keys are written 0600 in a 0700 directory.
 */

export interface SelfSignedPaths {
  readonly directory: string;
  readonly caCertificate: string;
  readonly caKey: string;
  readonly certificate: string;
  readonly key: string;
}

export function selfSignedPaths(dataDir: string): SelfSignedPaths {
  const directory = join(dataDir, 'tls');
  return {
    directory,
    caCertificate: join(directory, 'ca.crt'),
    caKey: join(directory, 'ca.key'),
    certificate: join(directory, 'server.crt'),
    key: join(directory, 'server.key'),
  };
}

export interface SelfSigned {
  readonly paths: SelfSignedPaths;
  readonly ca: IssuedCertificate;
  readonly server: IssuedCertificate;
  /** What this call did: made the CA (and a server certificate), issued a new server certificate, or kept both. */
  readonly outcome: 'created' | 'renewed' | 'kept';
}

/** A server certificate with less than this left is issued again. */
export const renewBeforeMs = 30 * 86_400_000;

async function readPair(certificate: string, key: string): Promise<IssuedCertificate | undefined> {
  try {
    return { certificate: await readFile(certificate, 'utf8'), key: await readFile(key, 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writePair(certificate: string, key: string, pair: IssuedCertificate): Promise<void> {
  // The key first: a certificate on disk always has its key beside it.
  await writePrivateFile(key, pair.key, 0o600);
  await writePrivateFile(certificate, pair.certificate, 0o644);
}

/** Names as a certificate holds them: lower-case host names, IPv6 without brackets, no repeats. */
export function certificateNames(names: readonly string[]): string[] {
  return [
    ...new Set(
      names.map((name) =>
        name
          .trim()
          .replace(/^\[|\]$/g, '')
          .toLowerCase(),
      ),
    ),
  ].filter((name) => name !== '');
}

/** Whether `server` was signed by `ca`, names exactly `names`, and has more than `renewBeforeMs` left. */
function stillGood(
  server: IssuedCertificate,
  ca: IssuedCertificate,
  names: readonly string[],
  now: Date,
): boolean {
  try {
    const certificate = new X509Certificate(server.certificate);
    const authority = new X509Certificate(ca.certificate);
    if (!certificate.checkIssued(authority) || !certificate.verify(authority.publicKey)) return false;
    if (new Date(certificate.validTo).getTime() - now.getTime() < renewBeforeMs) return false;
    const held = (certificate.subjectAltName ?? '').split(', ').filter(Boolean);
    if (held.length !== names.length) return false;
    return names.every((name) =>
      isIP(name) ? certificate.checkIP(name) !== undefined : certificate.checkHost(name) === name,
    );
  } catch {
    // Unreadable: issue a new one rather than serve something broken.
    return false;
  }
}

/** Makes sure the CA and a good server certificate for `names` are in `DATA/tls/`, making what is missing. */
export async function ensureSelfSigned(
  dataDir: string,
  names: readonly string[],
  now: Date,
): Promise<SelfSigned> {
  const paths = selfSignedPaths(dataDir);
  const wanted = certificateNames(names);
  let ca = await readPair(paths.caCertificate, paths.caKey);
  let outcome: SelfSigned['outcome'] = 'kept';
  if (!ca) {
    ca = await (await issuing()).createCertificateAuthority(`Mistrive ${wanted[0] ?? 'registry'}`, now);
    await writePair(paths.caCertificate, paths.caKey, ca);
    outcome = 'created';
  }
  let server = outcome === 'kept' ? await readPair(paths.certificate, paths.key) : undefined;
  if (!server || !stillGood(server, ca, wanted, now)) {
    server = await (await issuing()).issueServerCertificate(ca, wanted, now);
    await writePair(paths.certificate, paths.key, server);
    if (outcome === 'kept') outcome = 'renewed';
  }
  return { paths, ca, server, outcome };
}
