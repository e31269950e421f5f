import { writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IssuedCertificate } from '../../src/server/tls/certificates.js';
import { unwrapped } from '../support/cli.js';
import { type Daemon, mistriveBin, startDaemon } from '../support/registry.js';
import { tempDir } from '../support/temp.js';
import { issuedCertificates, servedFingerprint, writeCertificateFiles } from '../support/tls.js';
import { waitFor } from '../support/wait.js';

/** What `mistrive serve` does with its TLS flags as a process: SIGHUP reloads, plain HTTP off loopback refused. */

interface Answer {
  readonly status: number;
  /** The local port of the connection it came on: the same port means the same connection. */
  readonly localPort: number;
  readonly fingerprint: string;
}

function get(url: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v2/`, { agent, servername: 'localhost' }, (res) => {
      const socket = res.socket as TLSSocket;
      res.resume();
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          localPort: socket.localPort ?? 0,
          fingerprint: socket.getPeerCertificate().fingerprint256,
        }),
      );
    });
    req.once('error', reject);
    req.end();
  });
}

describe('mistrive serve with TLS, as a process', { timeout: 120_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon | undefined;
  beforeEach(async () => {
    work = await tempDir('mistrive-e2e-tls-daemon-');
    daemon = undefined;
  });
  afterEach(async () => {
    if (daemon && daemon.process.exitCode === null) await daemon.stop();
    await work.remove();
  });

  it('on SIGHUP serves the replaced certificate to new connections while an open keep-alive connection keeps working', async () => {
    const { ca, servers } = await issuedCertificates(2);
    const [first, second] = servers as [IssuedCertificate, IssuedCertificate];
    const { cert, key } = await writeCertificateFiles(work.path, first);
    daemon = await startDaemon(
      join(work.path, 'data'),
      ['--tls-cert', cert, '--tls-key', key],
      {},
      { signIn: false },
    );
    const url = daemon.url;
    const firstPrint = await servedFingerprint(url, ca.certificate);

    // One connection, kept alive across the reload.
    const kept = new Agent({ keepAlive: true, maxSockets: 1, ca: ca.certificate });
    try {
      const before = await get(url, kept);
      expect(before).toMatchObject({ status: 401, fingerprint: firstPrint });

      await writeCertificateFiles(work.path, second);
      daemon.process.kill('SIGHUP');
      const secondPrint = await waitFor(
        'the new certificate on a new connection',
        async () => {
          const print = await servedFingerprint(url, ca.certificate);
          return print === firstPrint ? undefined : print;
        },
        15_000,
        100,
      );
      expect(secondPrint).not.toBe(firstPrint);

      const after = await get(url, kept);
      expect(after.status).toBe(401);
      expect(after.localPort).toBe(before.localPort);
      expect(after.fingerprint).toBe(firstPrint);
      expect(daemon.process.exitCode).toBeNull();
      expect(daemon.stderr()).toContain('serving a new TLS certificate to new connections');
    } finally {
      kept.destroy();
    }
  });

  it('refuses plain HTTP on 0.0.0.0 without --insecure-http, saying what to do', async () => {
    const result = await execa(
      process.execPath,
      [mistriveBin, 'serve', '--host', '0.0.0.0', '--port', '0', '--data-dir', join(work.path, 'data')],
      { reject: false, timeout: 30_000 },
    );
    expect(result.exitCode).toBe(2);
    expect(unwrapped(result.stderr)).toContain(
      'refusing to serve plain HTTP on 0.0.0.0, which is not a loopback address',
    );
    expect(unwrapped(result.stderr)).toContain('--tls self-signed');
    expect(unwrapped(result.stderr)).toContain('--insecure-http');
  });

  it('refuses to start when the key is not the certificate’s, in one sentence', async () => {
    const { servers } = await issuedCertificates(2);
    const [one, other] = servers as [IssuedCertificate, IssuedCertificate];
    const { cert, key } = await writeCertificateFiles(work.path, one);
    await writeFile(key, other.key);
    const result = await execa(
      process.execPath,
      [
        mistriveBin,
        'serve',
        '--port',
        '0',
        '--data-dir',
        join(work.path, 'data'),
        '--tls-cert',
        cert,
        '--tls-key',
        key,
      ],
      { reject: false, timeout: 30_000 },
    );
    expect(result.exitCode).toBe(1);
    expect(unwrapped(result.stderr)).toContain(
      `cannot serve HTTPS: the TLS key ${key} is not the key of the certificate ${cert}`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
