import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { TlsConfig } from '../../config/config.js';
import { loopbackNames } from './names.js';
import { certificateNames, ensureSelfSigned, type SelfSigned } from './self-signed.js';

/**
 * Where the daemon's certificate and key come from, read again on each reload: the files given
 * (`--tls-cert`, `--tls-key`), which an operator or an ACME client replaces before sending SIGHUP, or
 * the self-signed mode's files under the data directory, renewed when they need to be.
 */

/** A TLS setting the operator must fix: told as one sentence, never as a stack trace. */
export class TlsSetupError extends Error {
  override name = 'TlsSetupError';
}

export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** When the certificate stops being valid. */
  readonly validTo: Date;
  /** The self-signed mode's CA and files. */
  readonly selfSigned?: SelfSigned;
}

/** `Strict-Transport-Security` for every HTTPS answer: browsers keep to HTTPS for this host for a year. */
export const strictTransportSecurity = 'max-age=31536000';

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TlsSetupError(
      `cannot read the TLS ${what} ${path} (${code}); check --tls-${what === 'key' ? 'key' : 'cert'}`,
    );
  }
}

/** Checks that the pair makes a usable TLS context: both PEM, and the key the certificate's. */
function checkPair(cert: string, key: string, where: { cert: string; key: string }): Date {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new TlsSetupError(`the TLS certificate ${where.cert} is not a PEM certificate`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    const message = (error as Error).message;
    throw new TlsSetupError(
      /mismatch/i.test(message)
        ? `the TLS key ${where.key} is not the key of the certificate ${where.cert}`
        : `the TLS key ${where.key} cannot be used: ${message}`,
    );
  }
  return new Date(certificate.validTo);
}

/** Reads (and in the self-signed mode, makes or renews) the certificate and key to serve with. */
export async function loadTlsMaterial(
  config: TlsConfig,
  dataDir: string,
  defaultNames: () => string[],
  now: Date,
): Promise<TlsMaterial> {
  if (config.selfSigned) {
    const given = config.names.length > 0 ? config.names : defaultNames();
    const names = certificateNames([...given, ...loopbackNames]);
    const selfSigned = await ensureSelfSigned(dataDir, names, now);
    const { paths } = selfSigned;
    const validTo = checkPair(selfSigned.server.certificate, selfSigned.server.key, {
      cert: paths.certificate,
      key: paths.key,
    });
    return { cert: selfSigned.server.certificate, key: selfSigned.server.key, validTo, selfSigned };
  }
  if (!config.cert || !config.key) throw new TlsSetupError('TLS needs a certificate and a key');
  const cert = await readPem(config.cert, 'certificate');
  const key = await readPem(config.key, 'key');
  return { cert, key, validTo: checkPair(cert, key, { cert: config.cert, key: config.key }) };
}
