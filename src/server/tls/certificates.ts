import { randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

/**
 * Issues the certificates of the self-signed mode: a private CA, and server certificates signed by
 * it. Node's crypto reads X.509 but cannot issue it, so issuing goes through @peculiar/x509 on
 * Node's WebCrypto. Keys are ECDSA P-256: small, fast, and accepted by every client we serve.
 */

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
// The library is typed against the DOM's WebCrypto, which Node's is at run time.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const dayMs = 86_400_000;

/** A certificate and its private key, both PEM (the key PKCS #8), as Node's TLS and the files take them. */
export interface IssuedCertificate {
  readonly certificate: string;
  readonly key: string;
}

export const caValidityDays = 3650;
/** Under 398 days: the longest server certificate browsers and Apple's clients accept. */
export const serverValidityDays = 397;

function serialNumber(): string {
  // Positive (top bit clear), 16 random bytes as RFC 5280 §4.1.2.2 allows.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function pemKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, algorithm, true, ['sign']);
}

/** A name for the certificate's subject: letters, digits and the few punctuation marks names use. */
function commonName(name: string): string {
  return name.replace(/[^A-Za-z0-9.\-: ]/g, '');
}

/** A private certificate authority, valid ten years, that may sign server certificates only. */
export async function createCertificateAuthority(label: string, now: Date): Promise<IssuedCertificate> {
  const keys = await keyPair();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName(label)} CA, O=Mistrive`,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + caValidityDays * dayMs),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate: certificate.toString('pem'), key: await pemKey(keys.privateKey) };
}

/** A server certificate for `names` (host names and IP addresses), signed by `ca`. */
export async function issueServerCertificate(
  ca: IssuedCertificate,
  names: readonly string[],
  now: Date,
): Promise<IssuedCertificate> {
  if (names.length === 0) throw new Error('a server certificate needs at least one name');
  const authority = new x509.X509Certificate(ca.certificate);
  const keys = await keyPair();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${commonName(names[0] as string)}`,
    issuer: authority.subject,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + serverValidityDays * dayMs),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: await importKey(ca.key),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((name) => ({ type: isIP(name) ? 'ip' : 'dns', value: name })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(authority.publicKey),
    ],
  });
  return { certificate: certificate.toString('pem'), key: await pemKey(keys.privateKey) };
}
