import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  loadServeConfig,
  refusePlainHttpOffLoopback,
  type ServeOverrides,
} from '../../src/config/config.js';
import { type RunningRegistry, startRegistry } from '../../src/server/app.js';
import type { IssuedCertificate } from '../../src/server/tls/certificates.js';
import { defaultTlsNames } from '../../src/server/tls/names.js';
import { certificateNames, ensureSelfSigned, selfSignedPaths } from '../../src/server/tls/self-signed.js';
import { testAdminPassword } from '../support/admin-password.js';
import { tempDir } from '../support/temp.js';
import {
  fetchTrusting,
  issuedCertificates,
  servedFingerprint,
  writeCertificateFiles,
} from '../support/tls.js';

const names = ['localhost', '127.0.0.1'];

function config(dataDir: string, overrides: ServeOverrides = {}) {
  return loadServeConfig(
    undefined,
    { port: 0, logLevel: 'silent', dataDir, ...overrides },
    { MISTRIVE_ADMIN_PASSWORD: testAdminPassword },
  );
}

describe('HTTPS', { timeout: 60_000 }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function dataDir(): Promise<string> {
    const dir = await tempDir('mistrive-tls-');
    cleanups.push(dir.remove);
    return dir.path;
  }

  async function start(dir: string, overrides: ServeOverrides): Promise<RunningRegistry> {
    const registry = await startRegistry(config(dir, overrides));
    cleanups.push(() => registry.close());
    return registry;
  }

  it('in the self-signed mode, makes a CA and a certificate in DATA/tls (keys 0600) and serves HTTPS with HSTS and https URLs', async () => {
    const dir = await dataDir();
    const registry = await start(dir, { tls: { selfSigned: true, names } });
    expect(registry.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const paths = selfSignedPaths(dir);
    expect((await stat(paths.directory)).mode & 0o777).toBe(0o700);
    expect((await stat(paths.caKey)).mode & 0o777).toBe(0o600);
    expect((await stat(paths.key)).mode & 0o777).toBe(0o600);
    const ca = await readFile(paths.caCertificate, 'utf8');
    const authority = new X509Certificate(ca);
    expect(authority.ca).toBe(true);
    const served = new X509Certificate(await readFile(paths.certificate, 'utf8'));
    expect(served.checkIssued(authority)).toBe(true);
    // Loopback is always among the names, whatever was given.
    expect(served.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(served.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    const base = await fetchTrusting(ca, `${registry.url}/v2/`);
    expect(base.status).toBe(401);
    expect(base.headers.get('strict-transport-security')).toBe('max-age=31536000');
    expect(base.headers.get('www-authenticate')).toContain(`realm="${registry.url}/auth/token"`);

    const metadata = await fetchTrusting(ca, `${registry.url}/.well-known/oauth-authorization-server`);
    expect(((await metadata.json()) as { issuer: string }).issuer).toBe(registry.url);

    // The CA certificate is served for clients to fetch (and check against the printed fingerprint).
    const servedCa = await fetchTrusting(ca, `${registry.url}/tls/ca.crt`);
    expect(servedCa.status).toBe(200);
    expect(servedCa.headers.get('content-type')).toBe('application/x-pem-file');
    expect(await servedCa.text()).toBe(ca);

    // The sign-in pages' cookies are Secure once served over HTTPS.
    const login = await fetchTrusting(ca, `${registry.url}/login`);
    expect(login.headers.get('set-cookie')).toMatch(/; Secure/);
  });

  it('over plain HTTP sends no HSTS and keeps http URLs', async () => {
    const registry = await start(await dataDir(), {});
    const base = await fetch(`${registry.url}/v2/`);
    expect(base.headers.get('strict-transport-security')).toBeNull();
    expect(base.headers.get('www-authenticate')).toContain('realm="http://');
    expect((await fetch(`${registry.url}/login`)).headers.get('set-cookie')).not.toMatch(/Secure/);
  });

  it('keeps the CA and certificate across restarts; the names changing issues a new certificate under the same CA', async () => {
    const dir = await dataDir();
    const paths = selfSignedPaths(dir);
    const first = await startRegistry(config(dir, { tls: { selfSigned: true, names } }));
    expect(first.tls?.selfSigned?.outcome).toBe('created');
    const ca = await readFile(paths.caCertificate, 'utf8');
    const certificate = await readFile(paths.certificate, 'utf8');
    await first.close();

    const again = await startRegistry(config(dir, { tls: { selfSigned: true, names } }));
    expect(again.tls?.selfSigned?.outcome).toBe('kept');
    expect(await readFile(paths.certificate, 'utf8')).toBe(certificate);
    await again.close();

    const renamed = await start(dir, {
      tls: { selfSigned: true, names: [...names, 'registry.example.com'] },
    });
    expect(renamed.tls?.selfSigned?.outcome).toBe('renewed');
    expect(await readFile(paths.caCertificate, 'utf8')).toBe(ca);
    const reissued = new X509Certificate(await readFile(paths.certificate, 'utf8'));
    expect(reissued.subjectAltName).toContain('DNS:registry.example.com');
    expect(reissued.checkIssued(new X509Certificate(ca))).toBe(true);
    // The new certificate is the one served.
    expect((await fetchTrusting(ca, `${renamed.url}/v2/`)).status).toBe(401);
  });

  it('issues the certificate again when it has less than 30 days left, keeping the CA', async () => {
    const dir = await dataDir();
    const now = new Date();
    const made = await ensureSelfSigned(dir, names, now);
    const later = new Date(now.getTime() + 370 * 86_400_000);
    const kept = await ensureSelfSigned(dir, names, new Date(now.getTime() + 300 * 86_400_000));
    expect(kept.outcome).toBe('kept');
    const renewed = await ensureSelfSigned(dir, names, later);
    expect(renewed.outcome).toBe('renewed');
    expect(renewed.ca.certificate).toBe(made.ca.certificate);
    expect(new Date(new X509Certificate(renewed.server.certificate).validTo).getTime()).toBeGreaterThan(
      later.getTime() + 300 * 86_400_000,
    );
  });

  it('serves a given certificate and key, and says clearly when the key is not the certificate’s', async () => {
    const dir = await dataDir();
    const { ca, servers } = await issuedCertificates(2, names);
    const [one, other] = servers as [IssuedCertificate, IssuedCertificate];
    const { cert, key } = await writeCertificateFiles(dir, one);
    const registry = await start(join(dir, 'data'), { tls: { cert, key } });
    expect((await fetchTrusting(ca.certificate, `${registry.url}/v2/`)).status).toBe(401);
    // No CA of its own to hand out.
    expect((await fetchTrusting(ca.certificate, `${registry.url}/tls/ca.crt`)).status).toBe(404);

    await writeFile(key, other.key);
    const refused = startRegistry(config(join(dir, 'data2'), { tls: { cert, key } }));
    await expect(refused).rejects.toThrow(`the TLS key ${key} is not the key of the certificate ${cert}`);
    const missing = startRegistry(config(join(dir, 'data3'), { tls: { cert: join(dir, 'nope.crt'), key } }));
    await expect(missing).rejects.toThrow(/cannot read the TLS certificate .*nope\.crt \(ENOENT\)/);
  });

  it('refuses plain HTTP on an address that is not loopback unless insecureHttp is set', () => {
    const refusal = (overrides: ServeOverrides) => () =>
      refusePlainHttpOffLoopback(config('/tmp/unused', overrides));
    expect(refusal({ host: '0.0.0.0' })).toThrow(ConfigError);
    expect(refusal({ host: '0.0.0.0' })).toThrow(
      /refusing to serve plain HTTP on 0\.0\.0\.0, which is not a loopback address.*--tls self-signed.*--insecure-http/,
    );
    expect(refusal({ host: '192.0.2.2' })).toThrow(ConfigError);
    expect(refusal({ host: '0.0.0.0', insecureHttp: true })).not.toThrow();
    expect(refusal({ host: '0.0.0.0', tls: { selfSigned: true } })).not.toThrow();
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2'])
      expect(refusal({ host })).not.toThrow();
  });

  it('on reload serves a replaced pair, and keeps serving the old one when the new files do not match', async () => {
    const dir = await dataDir();
    const { ca, servers } = await issuedCertificates(3, names);
    const [one, two, three] = servers as [IssuedCertificate, IssuedCertificate, IssuedCertificate];
    const { cert, key } = await writeCertificateFiles(dir, one);
    const registry = await start(join(dir, 'data'), { tls: { cert, key } });
    const print = (pem: string) => new X509Certificate(pem).fingerprint256;
    expect(await servedFingerprint(registry.url, ca.certificate)).toBe(print(one.certificate));

    // Half-replaced files (a new certificate beside the old key) are refused; the old pair stays served.
    await writeFile(cert, two.certificate);
    expect((await registry.reloadTls())?.cert).toBe(one.certificate);
    expect(await servedFingerprint(registry.url, ca.certificate)).toBe(print(one.certificate));

    await writeCertificateFiles(dir, three);
    expect((await registry.reloadTls())?.cert).toBe(three.certificate);
    expect(await servedFingerprint(registry.url, ca.certificate)).toBe(print(three.certificate));
  });

  it('takes TLS settings from the config file, refined by flags', async () => {
    const dir = await dataDir();
    const file = join(dir, 'serve.yaml');
    await writeFile(file, 'host: 0.0.0.0\ntls:\n  selfSigned: true\n  names: [from-file.example]\n');
    const fromFile = loadServeConfig(file, {}, {});
    expect(fromFile.tls).toEqual({ selfSigned: true, names: ['from-file.example'] });
    const refined = loadServeConfig(file, { tls: { names: ['flag.example'], selfSigned: undefined } }, {});
    expect(refined.tls).toEqual({ selfSigned: true, names: ['flag.example'] });
  });

  it('names by default the host name, loopback and the bound address, or every address for a wildcard', () => {
    const interfaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [
        { address: '10.0.0.5', family: 'IPv4', internal: false },
        { address: 'fe80::1', family: 'IPv6', internal: false },
        { address: '2001:db8::5', family: 'IPv6', internal: false },
      ],
    } as unknown as Parameters<typeof defaultTlsNames>[2];
    expect(defaultTlsNames('10.0.0.5', 'build-1', interfaces)).toEqual([
      'build-1',
      'localhost',
      '127.0.0.1',
      '::1',
      '10.0.0.5',
    ]);
    expect(certificateNames(defaultTlsNames('0.0.0.0', 'build-1', interfaces))).toEqual([
      'build-1',
      'localhost',
      '127.0.0.1',
      '::1',
      '10.0.0.5',
    ]);
    expect(certificateNames(defaultTlsNames('::', 'Build-1', interfaces))).toEqual([
      'build-1',
      'localhost',
      '127.0.0.1',
      '::1',
      '10.0.0.5',
      '2001:db8::5',
    ]);
  });

  it('refuses TLS settings that do not go together', () => {
    expect(() => config('/tmp/unused', { tls: { cert: '/c.crt' } })).toThrow(
      /give both --tls-cert and --tls-key/,
    );
    expect(() => config('/tmp/unused', { tls: { selfSigned: true, cert: '/c', key: '/k' } })).toThrow(
      /not both/,
    );
    expect(() => config('/tmp/unused', { tls: { names: ['a.example'] } })).toThrow(/self-signed mode only/);
  });
});
