import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/registry.js';
import {
  allow,
  authorizationCode,
  authorizationParameters,
  redeem,
  tokenEndpointAccepts,
  tokenRequest,
} from './support/flows.js';
import { WebClient } from './support/http.js';
import { type ClockedRegistry, cliClientId, startClockedRegistry } from './support/oauth-registry.js';
import { pkcePair } from './support/pkce.js';

/** The authorization endpoint and the code grant, over plain HTTP: the security rules of RFC 6749, 7636, 8252 and 9700. */
describe('authorization code grant', () => {
  let registry: ClockedRegistry;
  let web: WebClient;
  let csrf: string;

  beforeAll(async () => {
    registry = await startClockedRegistry();
    web = new WebClient(registry.url);
    csrf = await web.signIn('admin', testAdminPassword);
  });

  afterAll(async () => {
    await registry?.close();
  });

  const authorizeQuery = (overrides: Record<string, string | undefined>) => {
    const params = authorizationParameters({
      redirectUri: 'http://127.0.0.1:50000/callback',
      challenge: pkcePair().challenge,
      state: 'st',
    });
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...params, ...overrides }))
      if (value !== undefined) query.set(name, value);
    return query;
  };

  it('sends a browser that is not signed in to the login page, and back afterwards', async () => {
    const query = authorizeQuery({});
    const stranger = new WebClient(registry.url);
    const first = await stranger.get(`/oauth/authorize?${query}`);
    expect(first.status).toBe(303);
    const login = new URL(first.headers.get('location') as string, registry.url);
    expect(login.pathname).toBe('/login');
    expect(login.searchParams.get('next')).toBe(`/oauth/authorize?${query}`);
  });

  it.each([
    ['127.0.0.1 on any port', 'http://127.0.0.1:1/cb'],
    ['[::1]', 'http://[::1]:65535/cb?x=1'],
    ['localhost', 'http://localhost:8080/'],
  ])('accepts a loopback redirect URI: %s', async (_name, redirectUri) => {
    const consent = await web.get(`/oauth/authorize?${authorizeQuery({ redirect_uri: redirectUri })}`);
    expect(consent.status, consent.text).toBe(200);
    expect(consent.text).toContain('Allow Mistrive CLI to use your account?');
  });

  it.each([
    ['another host', 'https://attacker.example/cb'],
    ['https on loopback', 'https://127.0.0.1:8443/cb'],
    ['a host that only starts like loopback', 'http://127.0.0.1.attacker.example/cb'],
    ['credentials before a loopback host', 'http://attacker.example@127.0.0.1:9/cb'],
    ['a fragment', 'http://127.0.0.1:9/cb#frag'],
    ['a custom scheme', 'mistrive://callback'],
    ['none', undefined],
  ])(
    'refuses a redirect URI that is not loopback (%s) on the page, never redirecting',
    async (_name, redirectUri) => {
      const refused = await web.get(`/oauth/authorize?${authorizeQuery({ redirect_uri: redirectUri })}`);
      expect(refused.status).toBe(400);
      expect(refused.headers.get('location')).toBeNull();
      expect(refused.text).toContain('The redirect URI must be a loopback address');
    },
  );

  it('refuses an unknown client on the page', async () => {
    const refused = await web.get(`/oauth/authorize?${authorizeQuery({ client_id: 'someone-else' })}`);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('location')).toBeNull();
  });

  it.each([
    [
      'no PKCE challenge',
      { code_challenge: undefined, code_challenge_method: undefined },
      'invalid_request',
      /code_challenge is required/,
    ],
    ['the plain method', { code_challenge_method: 'plain' }, 'invalid_request', /plain is not accepted/],
    [
      'no challenge method (plain by default)',
      { code_challenge_method: undefined },
      'invalid_request',
      /must be S256/,
    ],
    ['a malformed challenge', { code_challenge: 'short' }, 'invalid_request', /base64url SHA-256/],
    ['another response type', { response_type: 'token' }, 'unsupported_response_type', /response_type/],
    ['an unknown scope', { scope: 'admin:everything' }, 'invalid_scope', /unknown scope/],
  ])(
    'answers %s with an error on the redirect URI, echoing state',
    async (_name, overrides, error, description) => {
      const refused = await web.get(`/oauth/authorize?${authorizeQuery(overrides)}`);
      expect(refused.status).toBe(303);
      const location = new URL(refused.headers.get('location') as string);
      expect(location.origin).toBe('http://127.0.0.1:50000');
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('error_description')).toMatch(description);
      expect(location.searchParams.get('state')).toBe('st');
      expect(location.searchParams.get('iss')).toBe(registry.url);
    },
  );

  it('issues a code bound to the verifier, the client and the redirect URI', async () => {
    const code = await authorizationCode(web, csrf);
    const wrongVerifier = await redeem(registry.url, { ...code, verifier: pkcePair().verifier });
    expect(wrongVerifier.status).toBe(400);
    expect(wrongVerifier.json).toMatchObject({ error: 'invalid_grant' });
    expect(wrongVerifier.json.error_description).toMatch(/code_verifier does not match/);

    const noVerifier = await tokenRequest(registry.url, {
      grant_type: 'authorization_code',
      client_id: cliClientId,
      code: code.code,
      redirect_uri: code.redirectUri,
    });
    expect(noVerifier.json).toMatchObject({ error: 'invalid_request' });

    const otherRedirect = await redeem(registry.url, {
      ...code,
      redirectUri: 'http://127.0.0.1:49153/callback',
    });
    expect(otherRedirect.json).toMatchObject({ error: 'invalid_grant' });

    const otherClient = await tokenRequest(registry.url, {
      grant_type: 'authorization_code',
      client_id: 'another-client',
      code: code.code,
      redirect_uri: code.redirectUri,
      code_verifier: code.verifier,
    });
    expect(otherClient.status).toBe(401);
    expect(otherClient.json).toMatchObject({ error: 'invalid_client' });

    // None of the failures above spent the code: the rightful holder still redeems it.
    const tokens = await redeem(registry.url, code);
    expect(tokens.status, tokens.text).toBe(200);
  });

  it('refuses a reused code and revokes everything the first redemption issued', async () => {
    const code = await authorizationCode(web, csrf);
    const first = await redeem(registry.url, code);
    expect(first.status).toBe(200);
    expect(await tokenEndpointAccepts(registry.url, first.json.access_token as string)).toBe(200);

    const second = await redeem(registry.url, code);
    expect(second.status).toBe(400);
    expect(second.json).toMatchObject({ error: 'invalid_grant' });
    expect(second.json.error_description).toMatch(/used already/);

    expect(await tokenEndpointAccepts(registry.url, first.json.access_token as string)).toBe(401);
    const refreshed = await tokenRequest(registry.url, {
      grant_type: 'refresh_token',
      client_id: cliClientId,
      refresh_token: first.json.refresh_token as string,
    });
    expect(refreshed.json).toMatchObject({ error: 'invalid_grant' });
  });

  it('lets a code live 60 seconds', async () => {
    const fresh = await authorizationCode(web, csrf);
    registry.clock.advance(59_000);
    expect((await redeem(registry.url, fresh)).status).toBe(200);

    const stale = await authorizationCode(web, csrf);
    registry.clock.advance(61_000);
    const expired = await redeem(registry.url, stale);
    expect(expired.json).toMatchObject({ error: 'invalid_grant' });
    expect(expired.json.error_description).toMatch(/expired/);
  });

  it('refuses codes it never issued', async () => {
    const forged = await redeem(registry.url, {
      code: 'A'.repeat(43),
      verifier: pkcePair().verifier,
      redirectUri: 'http://127.0.0.1:49152/callback',
    });
    expect(forged.json).toMatchObject({ error: 'invalid_grant' });
  });

  it('answers Deny with access_denied and no code', async () => {
    const { challenge } = pkcePair();
    const request = { redirectUri: 'http://localhost:7000/done', challenge, state: 'deny-state' };
    const answer = await web.post('/oauth/authorize', {
      ...authorizationParameters(request),
      csrf_token: csrf,
      decision: 'deny',
    });
    const location = new URL(answer.headers.get('location') as string);
    expect(location.origin).toBe('http://localhost:7000');
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      error: 'access_denied',
      state: 'deny-state',
    });
    expect(location.searchParams.has('code')).toBe(false);
  });

  it('keeps the redirect URI exactly as the client sent it, query included', async () => {
    const { challenge } = pkcePair();
    const location = await allow(web, csrf, {
      redirectUri: 'http://127.0.0.1:6000/cb?session=abc',
      challenge,
      state: 's',
    });
    expect(location.searchParams.get('session')).toBe('abc');
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
