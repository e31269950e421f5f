import { createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { testAdminPassword } from '../support/registry.js';
import { passwordTokens, tokenEndpointAccepts, tokenRequest } from './support/flows.js';
import { get } from './support/http.js';
import { type ClockedRegistry, cliClientId, startClockedRegistry } from './support/oauth-registry.js';

/**
 * The access tokens' contract: ES256 JWTs of type at+jwt for audience `mistrive`, accepted as
 * Bearer on /v2/ and as `oauth2accesstoken` at the Docker token endpoint, and nothing else is.
 */
describe('access tokens', () => {
  let registry: ClockedRegistry;

  beforeAll(async () => {
    registry = await startClockedRegistry();
  });

  afterAll(async () => {
    await registry?.close();
  });

  /** How /v2/ and the Docker token endpoint (Bearer and Basic) answer a token. */
  async function answers(token: string) {
    const v2 = await get(`${registry.url}/v2/`, { Authorization: `Bearer ${token}` });
    const bearer = await get(`${registry.url}/auth/token?service=mistrive`, {
      Authorization: `Bearer ${token}`,
    });
    return {
      v2: v2.status,
      v2Body: v2.text,
      bearer: bearer.status,
      basic: await tokenEndpointAccepts(registry.url, token),
    };
  }

  const signWith = (audience: string, type: string) =>
    registry.registry.auth.signer.sign(
      { client_id: cliClientId, scope: 'mistrive' },
      { audience, type, subject: 'user:admin', ttlSeconds: 3600 },
    );

  it('is accepted as Bearer on /v2/ (200 {}) and by the token endpoint', async () => {
    const tokens = await passwordTokens(registry.url);
    expect(await answers(tokens.access_token)).toEqual({ v2: 200, v2Body: '{}', bearer: 200, basic: 200 });
  });

  it('verifies against the published JWKS, with the claims of RFC 9068', async () => {
    const tokens = await passwordTokens(registry.url);
    const jwks = (await get(`${registry.url}/.well-known/jwks.json`)).json as { keys: [] };
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), {
      audience: 'mistrive',
      typ: 'at+jwt',
      currentDate: registry.clock.now(),
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: 'user:admin', client_id: cliClientId, scope: 'mistrive' });
    expect(payload.jti).toBeTypeOf('string');
    expect((payload.exp as number) - (payload.iat as number)).toBe(3600);
  });

  it('refuses a token signed by another key, even with the server key ID', async () => {
    const genuine = (await passwordTokens(registry.url)).access_token;
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ client_id: cliClientId, scope: 'mistrive' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: decodeProtectedHeader(genuine).kid as string })
      .setIssuer('mistrive')
      .setAudience('mistrive')
      .setSubject('user:admin')
      .setIssuedAt(Math.floor(registry.clock.now().getTime() / 1000))
      .setExpirationTime('1h')
      .setJti('forged')
      .sign(privateKey);
    expect(await answers(forged)).toMatchObject({ v2: 401, bearer: 401, basic: 401 });
  });

  it('refuses a token for another audience', async () => {
    const { token } = await signWith('another-service', 'at+jwt');
    expect(await answers(token)).toMatchObject({ v2: 401, bearer: 401, basic: 401 });
  });

  it('refuses a token of another type', async () => {
    const { token } = await signWith('mistrive', 'JWT');
    expect(await answers(token)).toMatchObject({ v2: 401, bearer: 401, basic: 401 });
  });

  it('refuses a registry token where an access token is expected', async () => {
    const password = Buffer.from(`admin:${testAdminPassword}`).toString('base64');
    const issued = await get(`${registry.url}/auth/token?service=mistrive`, {
      Authorization: `Basic ${password}`,
    });
    expect(issued.status).toBe(200);
    expect(await tokenEndpointAccepts(registry.url, issued.json.token as string)).toBe(401);
  });

  it("stops working with its user's account", async () => {
    const users = registry.registry.context.metadata.users;
    await users.create({
      login: 'dev@example.com',
      passwordHash: await hashPassword('dev-password-1'),
      admin: false,
      disabled: false,
      createdAt: registry.clock.now(),
    });
    const issued = await tokenRequest(registry.url, {
      grant_type: 'password',
      client_id: cliClientId,
      username: 'dev@example.com',
      password: 'dev-password-1',
    });
    const access_token = issued.json.access_token as string;
    expect(await tokenEndpointAccepts(registry.url, access_token)).toBe(200);
    await users.setDisabled('dev@example.com', true);
    expect(await answers(access_token)).toMatchObject({ v2: 401, bearer: 401, basic: 401 });
  });

  it('expires after accessTokenTtl (one hour by default)', async () => {
    const tokens = await passwordTokens(registry.url);
    registry.clock.advance(3_599_000);
    expect(await tokenEndpointAccepts(registry.url, tokens.access_token)).toBe(200);
    registry.clock.advance(2_000);
    const expired = await answers(tokens.access_token);
    expect(expired).toMatchObject({ v2: 401, bearer: 401, basic: 401 });
    const challenge = await get(`${registry.url}/v2/`, { Authorization: `Bearer ${tokens.access_token}` });
    expect(challenge.headers.get('www-authenticate')).toMatch(/^Bearer realm="/);
  });
});
