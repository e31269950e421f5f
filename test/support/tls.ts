import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  createCertificateAuthority,
  type IssuedCertificate,
  issueServerCertificate,
} from '../../src/server/tls/certificates.js';

/**
 * HTTPS from the tests to a registry with its own CA (`--tls self-signed`): requests that trust
 * exactly that CA, and a look at which certificate a new connection is served.
 */

const agents = new Map<string, Agent>();

function agentFor(ca: string): Agent {
  let agent = agents.get(ca);
  if (!agent) {
    agent = new Agent({ connect: { ca } });
    agents.set(ca, agent);
  }
  return agent;
}

/** `fetch` that trusts `ca` and nothing else. */
export async function fetchTrusting(
  ca: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  return (await undiciFetch(url, { ...init, dispatcher: agentFor(ca) })) as unknown as Response;
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `url` is served (verified against `ca`). */
export function servedFingerprint(url: string, ca: string, servername = 'localhost'): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca, servername }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.once('error', reject);
  });
}

/** A private CA and `count` server certificates it signed for `names`: what a test serves and swaps. */
export async function issuedCertificates(
  count: number,
  names: readonly string[] = ['localhost', '127.0.0.1'],
): Promise<{ ca: IssuedCertificate; servers: IssuedCertificate[] }> {
  const now = new Date();
  const ca = await createCertificateAuthority('test', now);
  const servers: IssuedCertificate[] = [];
  for (let index = 0; index < count; index++) servers.push(await issueServerCertificate(ca, names, now));
  return { ca, servers };
}

/** Writes `pair` as `server.crt` and `server.key` in `dir` (replacing what is there): `--tls-cert`, `--tls-key`. */
export async function writeCertificateFiles(
  dir: string,
  pair: IssuedCertificate,
): Promise<{ cert: string; key: string }> {
  const files = { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  await writeFile(files.cert, pair.certificate);
  await writeFile(files.key, pair.key);
  return files;
}
