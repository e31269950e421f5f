import { X509Certificate } from 'node:crypto';
import type { SelfSigned } from './self-signed.js';
import { caCertificatePath } from './tls-routes.js';

const outcomeWords: Readonly<Record<SelfSigned['outcome'], string>> = {
  created: 'both made now',
  renewed: 'the certificate was issued again',
  kept: 'both kept from an earlier start',
};

/**
 * What the self-signed mode tells the operator at start: where the CA certificate is, and the exact
 * steps that make each client trust it. `HOST:PORT` is the first name of the certificate and the
 * port served, the way Docker and the containers tools name a registry in their certs.d folders.
 */
export function trustInstructions(selfSigned: SelfSigned, port: number): string[] {
  const ca = selfSigned.paths.caCertificate;
  const authority = new X509Certificate(selfSigned.ca.certificate);
  const names = (new X509Certificate(selfSigned.server.certificate).subjectAltName ?? '')
    .split(', ')
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ''));
  const first = names[0] ?? 'localhost';
  const hostPort = `${first.includes(':') ? `[${first}]` : first}:${port}`;
  return [
    `TLS: a certificate for ${names.join(', ')}, signed by this registry's own CA (${outcomeWords[selfSigned.outcome]}).`,
    `The CA certificate is ${ca} (SHA-256 ${authority.fingerprint256}), also served at https://${hostPort}${caCertificatePath}. Copy it to each client machine as ca.crt (check the fingerprint: openssl x509 -in ca.crt -noout -fingerprint -sha256), then:`,
    `  Docker:                  sudo mkdir -p /etc/docker/certs.d/${hostPort} && sudo cp ca.crt /etc/docker/certs.d/${hostPort}/ca.crt`,
    `  podman, skopeo, buildah: mkdir -p ~/.config/containers/certs.d/${hostPort} && cp ca.crt ~/.config/containers/certs.d/${hostPort}/ca.crt (or /etc/containers/certs.d/${hostPort}/ca.crt for every user)`,
    `  curl:                    curl --cacert ca.crt https://${hostPort}/v2/`,
    `  mistrive:                mistrive auth login --registry https://${hostPort} --ca-cert ca.crt, then mistrive auth configure-docker ${hostPort} --ca-cert ca.crt (which does the Docker and podman steps)`,
  ];
}
