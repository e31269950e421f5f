import type { IncomingMessage } from 'node:http';
import { type ServeConfig, servesTls } from '../../config/config.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Scheme } from '../../server/client-urls.js';
import { isValidHost } from '../../server/host-header.js';

/** Where each part of the authorization server lives. */
export const oauthPaths = {
  metadata: '/.well-known/oauth-authorization-server',
  jwks: '/.well-known/jwks.json',
  authorize: '/oauth/authorize',
  token: '/oauth/token',
  deviceAuthorization: '/oauth/device_authorization',
  revoke: '/oauth/revoke',
  login: '/login',
  logout: '/logout',
  account: '/account',
  device: '/device',
} as const;

/**
 * The server's public URL, the OAuth issuer: the configured `publicUrl` when a proxy sits in
 * front, else the scheme the daemon serves (`https` with TLS on) and the Host the client used.
 */
export class PublicUrls {
  private readonly configured: string | undefined;
  /** Whether browsers reach the server over HTTPS, so cookies must be Secure. */
  readonly secure: boolean;

  private readonly scheme: Scheme;

  constructor(publicUrl: string | undefined, scheme: Scheme = 'http') {
    if (publicUrl) {
      const url = new URL(publicUrl);
      this.configured = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    }
    this.scheme = scheme;
    this.secure = this.configured?.startsWith('https:') ?? scheme === 'https';
  }

  /** The public URLs of a daemon configured so: its `publicUrl`, else the scheme it serves. */
  static of(config: Pick<ServeConfig, 'publicUrl' | 'tls'>): PublicUrls {
    return new PublicUrls(config.publicUrl, servesTls(config) ? 'https' : 'http');
  }

  issuer(req: IncomingMessage): string {
    if (this.configured) return this.configured;
    const host = req.headers.host;
    if (!host || !isValidHost(host)) {
      throw new RegistryError('INVALID_ARGUMENT', 'the request has no valid Host header');
    }
    return `${this.scheme}://${host}`;
  }

  /** An absolute URL of one of the server's paths. */
  url(req: IncomingMessage, path: string): string {
    return `${this.issuer(req)}${path}`;
  }
}
