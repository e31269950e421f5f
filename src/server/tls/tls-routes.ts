import { send } from '../http.js';
import type { Route } from '../router.js';

/** Where the self-signed mode serves its CA certificate. */
export const caCertificatePath = '/tls/ca.crt';

/**
 * The self-signed mode's CA certificate, for anyone to fetch: it is public (it lets clients check
 * the registry, not sign anything). Fetched over a connection not yet trusted, it is only as good as
 * its fingerprint, which `serve` prints at start for comparing.
 */
export function tlsRoutes(caCertificate: string): Route[] {
  return [
    {
      name: 'tls-ca-certificate',
      pattern: /^\/tls\/ca\.crt$/,
      methods: {
        GET: {
          action: 'none',
          handler: async ({ res }) => {
            send(
              res,
              200,
              {
                'Content-Type': 'application/x-pem-file',
                'Content-Length': Buffer.byteLength(caCertificate),
                'Content-Disposition': 'attachment; filename="ca.crt"',
              },
              caCertificate,
            );
          },
        },
      },
    },
  ];
}
