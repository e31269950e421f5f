import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/registry.js';
import { authorizationParameters } from './support/flows.js';
import { inputValue, postForm, WebClient } from './support/http.js';
import {
  type ClockedRegistry,
  startClockedRegistry,
  startConfiguredRegistry,
} from './support/oauth-registry.js';
import { pkcePair } from './support/pkce.js';

/** The login, consent, device and account pages: CSRF, cookies, security headers, errors, escaping. */
describe('sign-in pages', () => {
  let registry: ClockedRegistry;

  beforeAll(async () => {
    registry = await startClockedRegistry();
  });

  afterAll(async () => {
    await registry?.close();
  });

  const consentQuery = () =>
    new URLSearchParams(
      authorizationParameters({
        redirectUri: 'http://127.0.0.1:51000/cb',
        challenge: pkcePair().challenge,
        state: 's',
      }),
    );

  it('sends the security headers on every page', async () => {
    const web = new WebClient(registry.url);
    const login = await web.get('/login');
    await web.signIn('admin', testAdminPassword);
    const consent = await web.get(`/oauth/authorize?${consentQuery()}`);
    for (const page of [login, consent, await web.get('/device'), await web.get('/account')]) {
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.headers.get('cache-control')).toBe('no-store');
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]+'/);
      expect(page.text).not.toContain('<script');
    }
    expect(consent.headers.get('content-security-policy')).toContain(
      "form-action 'self' http://127.0.0.1:51000",
    );
  });

  it('sets HttpOnly, SameSite=Lax, Path=/ cookies, not Secure over plain HTTP', async () => {
    const web = new WebClient(registry.url);
    const login = await web.get('/login');
    const csrfCookie = login.headers.getSetCookie()[0] ?? '';
    expect(csrfCookie).toMatch(/^mistrive_login_csrf=[A-Za-z0-9_-]{43}; /);
    const signedIn = await web.post('/login', {
      csrf_token: inputValue(login.text, 'csrf_token'),
      login: 'admin',
      password: testAdminPassword,
    });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/account');
    const session =
      signedIn.headers.getSetCookie().find((cookie) => cookie.startsWith('mistrive_session=')) ?? '';
    expect(session.split('; ').slice(1)).toEqual(['Path=/', 'Max-Age=43200', 'HttpOnly', 'SameSite=Lax']);
  });

  it('marks cookies Secure, with the __Host- prefix, when the public URL is https', async () => {
    const proxied = await startConfiguredRegistry({ publicUrl: 'https://registry.example.test' });
    try {
      const web = new WebClient(proxied.url);
      const login = await web.get('/login');
      expect(login.headers.getSetCookie()[0]).toMatch(/^__Host-mistrive_login_csrf=.*; Secure$/);
      const signedIn = await web.post('/login', {
        csrf_token: inputValue(login.text, 'csrf_token'),
        login: 'admin',
        password: testAdminPassword,
      });
      expect(signedIn.headers.getSetCookie()).toContainEqual(
        expect.stringMatching(
          /^__Host-mistrive_session=[A-Za-z0-9_-]{43}; Path=\/; .*HttpOnly; SameSite=Lax; Secure$/,
        ),
      );
    } finally {
      await proxied.close();
    }
  });

  it('refuses a login form without its CSRF token, or with another one', async () => {
    const noCookie = await postForm(`${registry.url}/login`, {
      csrf_token: 'x',
      login: 'admin',
      password: testAdminPassword,
    });
    expect(noCookie.status).toBe(403);
    expect(noCookie.headers.getSetCookie().some((cookie) => cookie.startsWith('mistrive_session='))).toBe(
      false,
    );

    const web = new WebClient(registry.url);
    await web.get('/login');
    for (const fields of [{}, { csrf_token: 'A'.repeat(43) }] as Record<string, string>[]) {
      const refused = await web.post('/login', { ...fields, login: 'admin', password: testAdminPassword });
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('This form has expired or was not sent from this site');
      expect(web.cookies.has('mistrive_session')).toBe(false);
    }
  });

  it('refuses consent, device and sign-out forms whose CSRF token is not the session one', async () => {
    const web = new WebClient(registry.url);
    const csrf = await web.signIn('admin', testAdminPassword);
    const other = new WebClient(registry.url);
    const otherCsrf = await other.signIn('admin', testAdminPassword);
    expect(otherCsrf).not.toBe(csrf);

    for (const token of [undefined, otherCsrf]) {
      const fields: Record<string, string> = token ? { csrf_token: token } : {};
      const consent = await web.post('/oauth/authorize', {
        ...Object.fromEntries(consentQuery()),
        ...fields,
        decision: 'allow',
      });
      expect(consent.status).toBe(403);
      expect(consent.headers.get('location')).toBeNull();
      const device = await web.post('/device', { ...fields, user_code: 'BCDF-GHJK', decision: 'approve' });
      expect(device.status).toBe(403);
      const signOut = await web.post('/logout', fields);
      expect(signOut.status).toBe(403);
    }
    expect((await web.get('/account')).status).toBe(200);
  });

  it('shows a wrong password on the page, escaped, and keeps the login typed', async () => {
    const web = new WebClient(registry.url);
    const form = await web.get('/login');
    const wrong = await web.post('/login', {
      csrf_token: inputValue(form.text, 'csrf_token'),
      login: '"><script>alert(1)</script>',
      password: 'wrong',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong login or password.');
    expect(wrong.text).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(wrong.text).not.toContain('<script>');
  });

  it('escapes what a request carries into the page', async () => {
    const web = new WebClient(registry.url);
    const next = '/device?user_code="><img src=x onerror=alert(1)>';
    const login = await web.get(`/login?next=${encodeURIComponent(next)}`);
    expect(login.text).toContain('value="/device?user_code=&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    expect(login.text).not.toContain('<img');
    await web.signIn('admin', testAdminPassword);
    const device = await web.get(`/device?user_code=${encodeURIComponent('<b>"x"</b>')}`);
    expect(device.text).toContain('value="&lt;b&gt;&quot;x&quot;&lt;/b&gt;"');
  });

  it('goes on only to paths of this server after signing in', async () => {
    for (const [next, expected] of [
      ['/device?user_code=BCDF-GHJK', '/device?user_code=BCDF-GHJK'],
      ['//attacker.example/', '/account'],
      ['https://attacker.example/', '/account'],
      ['/\\attacker.example/', '/account'],
    ]) {
      const web = new WebClient(registry.url);
      const form = await web.get('/login');
      const signedIn = await web.post('/login', {
        csrf_token: inputValue(form.text, 'csrf_token'),
        login: 'admin',
        password: testAdminPassword,
        next: next as string,
      });
      expect(signedIn.headers.get('location')).toBe(expected);
    }
  });

  it('signs out, and forgets sessions after twelve hours', async () => {
    const web = new WebClient(registry.url);
    const csrf = await web.signIn('admin', testAdminPassword);
    const signedOut = await web.post('/logout', { csrf_token: csrf });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('location')).toBe('/login?signed_out=1');
    expect((await web.get('/login?signed_out=1')).text).toContain('You have signed out.');
    expect((await web.get('/account')).headers.get('location')).toBe('/login?next=%2Faccount');

    const later = new WebClient(registry.url);
    await later.signIn('admin', testAdminPassword);
    registry.clock.advance(12 * 3_600_000 - 1_000);
    expect((await later.get('/account')).status).toBe(200);
    registry.clock.advance(2_000);
    expect((await later.get('/account')).status).toBe(303);
  });

  it('sends the device page to sign-in first, keeping the code', async () => {
    const web = new WebClient(registry.url);
    const first = await web.get('/device?user_code=BCDF-GHJK');
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(
      `/login?next=${encodeURIComponent('/device?user_code=BCDF-GHJK')}`,
    );
  });
});

describe('password rate limiting', () => {
  let registry: ClockedRegistry;

  beforeAll(async () => {
    registry = await startConfiguredRegistry({ auth: { failuresPerAccount: 3, failureWindow: '10m' } });
  });

  afterAll(async () => {
    await registry?.close();
  });

  it('answers 429 with Retry-After on the login page once an account has failed too often', async () => {
    const web = new WebClient(registry.url);
    const token = inputValue((await web.get('/login')).text, 'csrf_token');
    const attempt = (password: string) => web.post('/login', { csrf_token: token, login: 'admin', password });
    for (let failure = 0; failure < 3; failure++) expect((await attempt('wrong')).status).toBe(401);
    const limited = await attempt(testAdminPassword);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('600');
    expect(limited.text).toContain('Too many failed sign-in attempts. Try again in 10 minutes.');

    const grant = await postForm(`${registry.url}/oauth/token`, {
      grant_type: 'password',
      client_id: 'mistrive-cli',
      username: 'admin',
      password: testAdminPassword,
    });
    expect(grant.status).toBe(429);
    expect(grant.headers.get('retry-after')).toBe('600');
    expect(grant.json.error).toBe('temporarily_unavailable');

    registry.clock.advance(600_000);
    expect((await attempt(testAdminPassword)).status).toBe(303);
  });

  it('reports a wrong password at the token endpoint as invalid_grant', async () => {
    registry.clock.advance(600_000);
    const wrong = await postForm(`${registry.url}/oauth/token`, {
      grant_type: 'password',
      client_id: 'mistrive-cli',
      username: 'admin',
      password: 'wrong',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json).toEqual({ error: 'invalid_grant', error_description: 'invalid username or password' });
  });
});
