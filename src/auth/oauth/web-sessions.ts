import type { IncomingMessage } from 'node:http';
import type { OAuthStore } from '../../db/oauth.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import { notePrincipal } from '../../server/request-identity.js';
import { type CredentialService, tokenSeconds } from '../credential-service.js';
import { expiredCookie, readCookies, serializeCookie } from './cookies.js';
import { randomSecret, secretHash, secretsEqual } from './secrets.js';

/** How long a browser stays signed in. */
export const webSessionTtlMs = 12 * 3_600_000;
/** How long a login form may sit open before it is submitted. */
const loginFormTtlSeconds = 3_600;
const secretShape = /^[A-Za-z0-9_-]{43}$/;

export interface WebSession {
  readonly login: string;
  readonly caller: Caller;
  /** The synchronizer token the session's forms carry. */
  readonly csrfToken: string;
  readonly idHash: string;
}

/** The field every form carries its CSRF token in. */
export const csrfField = 'csrf_token';

export const csrfRefused = () =>
  new RegistryError(
    'DENIED',
    'This form has expired or was not sent from this site. Go back, reload the page and try again.',
  );

/**
 * Browser sign-in for the login, consent and device pages: an HttpOnly, SameSite=Lax session cookie
 * whose hash is stored with an expiry, a synchronizer CSRF token per session, and a double-submit
 * token for the login form, which is sent before any session exists.
 */
export class WebSessions {
  private readonly sessionCookie: string;
  private readonly loginCookie: string;

  constructor(
    private readonly store: OAuthStore,
    private readonly clock: Clock,
    private readonly credentials: CredentialService,
    private readonly secure: boolean,
  ) {
    // Over HTTPS the __Host- prefix pins the cookies to this host: no sibling domain can set them.
    const prefix = secure ? '__Host-' : '';
    this.sessionCookie = `${prefix}mistrive_session`;
    this.loginCookie = `${prefix}mistrive_login_csrf`;
  }

  /** The request's live session: unexpired, of a user who still exists and is not disabled. */
  async current(req: IncomingMessage): Promise<WebSession | undefined> {
    const id = readCookies(req).get(this.sessionCookie);
    if (!id || !secretShape.test(id)) return undefined;
    const record = await this.store.findSession(secretHash(id), this.clock.now());
    if (!record) return undefined;
    const caller = await this.credentials.principal(`user:${record.login}`, tokenSeconds(record.createdAt));
    if (!caller) return undefined;
    notePrincipal(req, caller);
    return { login: record.login, caller, csrfToken: record.csrfToken, idHash: record.idHash };
  }

  /** Signs a user in with a fresh session ID (never one the browser had before); returns the Set-Cookie headers. */
  async start(req: IncomingMessage, login: string): Promise<string[]> {
    await this.endCurrent(req);
    const id = randomSecret();
    const now = this.clock.now();
    await this.store.createSession({
      idHash: secretHash(id),
      login,
      csrfToken: randomSecret(),
      expiresAt: new Date(now.getTime() + webSessionTtlMs),
      createdAt: now,
    });
    return [
      serializeCookie(this.sessionCookie, id, { maxAgeSeconds: webSessionTtlMs / 1000, secure: this.secure }),
      expiredCookie(this.loginCookie, this.secure),
    ];
  }

  /** Signs the browser out; returns the Set-Cookie header that clears the cookie. */
  async end(req: IncomingMessage): Promise<string> {
    await this.endCurrent(req);
    return expiredCookie(this.sessionCookie, this.secure);
  }

  /** Throws unless the form carries the session's CSRF token. */
  checkCsrf(session: WebSession, form: URLSearchParams): void {
    const sent = form.get(csrfField);
    if (!sent || !secretsEqual(sent, session.csrfToken)) throw csrfRefused();
  }

  /** The login form's token, and the cookie to set when the browser has none yet. */
  loginToken(req: IncomingMessage): { token: string; setCookie: string | undefined } {
    const existing = readCookies(req).get(this.loginCookie);
    if (existing && secretShape.test(existing)) return { token: existing, setCookie: undefined };
    const token = randomSecret();
    return {
      token,
      setCookie: serializeCookie(this.loginCookie, token, {
        maxAgeSeconds: loginFormTtlSeconds,
        secure: this.secure,
      }),
    };
  }

  /** Throws unless the login form's token matches the cookie set with it (double submit). */
  checkLoginCsrf(req: IncomingMessage, form: URLSearchParams): void {
    const cookie = readCookies(req).get(this.loginCookie);
    const sent = form.get(csrfField);
    if (!cookie || !sent || !secretShape.test(cookie) || !secretsEqual(sent, cookie)) throw csrfRefused();
  }

  private async endCurrent(req: IncomingMessage): Promise<void> {
    const id = readCookies(req).get(this.sessionCookie);
    if (id && secretShape.test(id)) await this.store.deleteSession(secretHash(id));
  }
}
