import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/registry.js';
import { tokenRequest } from './support/flows.js';
import { get, getWithHost, postForm } from './support/http.js';
import {
  type ClockedRegistry,
  cliClientId,
  startClockedRegistry,
  startConfiguredRegistry,
} from './support/oauth-registry.js';

/** Server metadata (RFC 8414), the key set, and how the token endpoint refuses what it does not take. */
describe('OAuth endpoints', () => {
  let registry: ClockedRegistry;

  beforeAll(async () => {
    registry = await startClockedRegistry();
  });

  afterAll(async () => {
    await registry?.close();
  });

  it('publishes its metadata, with the issuer taken from the Host the client used', async () => {
    const metadata = await get(`${registry.url}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    const issuer = registry.url;
    expect(metadata.json).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      device_authorization_endpoint: `${issuer}/oauth/device_authorization`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
    });
    expect(metadata.json.grant_types_supported).toEqual(
      expect.arrayContaining([
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
        'password',
      ]),
    );
    const port = new URL(registry.url).port;
    const viaLocalhost = await getWithHost(
      `${registry.url}/.well-known/oauth-authorization-server`,
      `localhost:${port}`,
    );
    expect(viaLocalhost.json.issuer).toBe(`http://localhost:${port}`);
    const badHost = await getWithHost(
      `${registry.url}/.well-known/oauth-authorization-server`,
      'attacker.example/x?',
    );
    // Refused before any endpoint reads it, with the registry's error body, as on every path.
    expect(badHost.status).toBe(400);
    const [refusal] = (badHost.json as { errors: { code: string; message: string }[] }).errors;
    expect(refusal?.code).toBe('INVALID_ARGUMENT');
    expect(refusal?.message).toMatch(/invalid Host header/);
  });

  it('takes the issuer from publicUrl when one is configured', async () => {
    const proxied = await startConfiguredRegistry({ publicUrl: 'https://registry.example.test/' });
    try {
      const metadata = await get(`${proxied.url}/.well-known/oauth-authorization-server`);
      expect(metadata.json.issuer).toBe('https://registry.example.test');
      expect(metadata.json.token_endpoint).toBe('https://registry.example.test/oauth/token');
      const device = await postForm(`${proxied.url}/oauth/device_authorization`, { client_id: cliClientId });
      expect(device.json.verification_uri).toBe('https://registry.example.test/device');
    } finally {
      await proxied.close();
    }
  });

  it('publishes the public signing key, and only the public half', async () => {
    const jwks = await get(`${registry.url}/.well-known/jwks.json`);
    const keys = jwks.json.keys as Array<Record<string, string>>;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(keys[0]).not.toHaveProperty('d');
  });

  it.each([
    [
      'an unknown grant type',
      { grant_type: 'client_credentials', client_id: cliClientId },
      400,
      'unsupported_grant_type',
    ],
    ['no grant type', { client_id: cliClientId }, 400, 'invalid_request'],
    [
      'the password grant for another client',
      { grant_type: 'password', client_id: 'other', username: 'admin', password: testAdminPassword },
      401,
      'invalid_client',
    ],
    [
      'the password grant without a client',
      { grant_type: 'password', username: 'admin', password: testAdminPassword },
      401,
      'invalid_client',
    ],
    [
      'a client secret',
      {
        grant_type: 'password',
        client_id: cliClientId,
        client_secret: 's',
        username: 'admin',
        password: testAdminPassword,
      },
      401,
      'invalid_client',
    ],
    [
      'an unknown scope',
      {
        grant_type: 'password',
        client_id: cliClientId,
        username: 'admin',
        password: testAdminPassword,
        scope: 'root',
      },
      400,
      'invalid_scope',
    ],
  ])('refuses %s with an RFC 6749 error', async (_name, fields, status, error) => {
    const reply = await tokenRequest(registry.url, fields as Record<string, string>);
    expect(reply.status).toBe(status);
    expect(reply.json.error).toBe(error);
    expect(reply.json.error_description).toBeTypeOf('string');
    expect(reply.headers.get('cache-control')).toBe('no-store');
  });

  it('refuses repeated parameters and bodies that are not forms', async () => {
    const repeated = await fetch(`${registry.url}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&client_id=mistrive-cli&username=admin&username=other&password=x',
    });
    expect(repeated.status).toBe(400);
    expect(await repeated.json()).toMatchObject({ error: 'invalid_request' });

    const json = await fetch(`${registry.url}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"grant_type":"password"}',
    });
    expect(json.status).toBe(415);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
  });
});
