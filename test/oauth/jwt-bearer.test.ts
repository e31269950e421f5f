import { randomUUID, type webcrypto } from 'node:crypto';
import { generateKeyPair, importPKCS8, type JWTPayload, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateServiceAccountKey, type KeyFile } from '../../src/auth/service-account-keys.js';
import { tokenEndpointAccepts, tokenRequest } from './support/flows.js';
import { get } from './support/http.js';
import {
  type ClockedRegistry,
  startClockedRegistry,
  startConfiguredRegistry,
} from './support/oauth-registry.js';

const jwtBearer = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A service account with one key, made through the stores, as the management API would. */
async function serviceAccountKey(registry: ClockedRegistry, email: string): Promise<KeyFile> {
  const { metadata } = registry.registry.context;
  const now = registry.clock.now();
  await metadata.catalog.ensureRepository('ci-project', 'apps', now);
  await metadata.serviceAccounts.create({ email, project: 'ci-project', displayName: 'CI', createdAt: now });
  const key = await generateServiceAccountKey(email, 'ci-project', `${registry.url}/oauth/token`);
  await metadata.serviceAccounts.createKey({
    id: key.id,
    email,
    publicKey: key.publicKey,
    disabled: false,
    createdAt: now,
  });
  return key.keyFile;
}

interface AssertionShape {
  readonly keyFile: KeyFile;
  readonly audience: string;
  readonly now: Date;
  readonly iss?: string;
  readonly sub?: string;
  readonly kid?: string;
  readonly lifetimeSeconds?: number;
  readonly signingKey?: webcrypto.CryptoKey;
  /** A fresh one by default, as the CLI makes; `null` leaves the claim out. */
  readonly jti?: string | null;
}

/** An RFC 7523 assertion as the CLI signs it with the key file: kid = key ID, iss = sub = the account. */
async function assertion(shape: AssertionShape): Promise<string> {
  const key = shape.signingKey ?? (await importPKCS8(shape.keyFile.private_key, 'ES256'));
  const issuedAt = Math.floor(shape.now.getTime() / 1000);
  const jti = shape.jti === undefined ? randomUUID() : shape.jti;
  return new SignJWT((jti === null ? {} : { jti }) as JWTPayload)
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: shape.kid ?? shape.keyFile.private_key_id })
    .setIssuer(shape.iss ?? shape.keyFile.client_email)
    .setSubject(shape.sub ?? shape.keyFile.client_email)
    .setAudience(shape.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (shape.lifetimeSeconds ?? 300))
    .sign(key);
}

describe('JWT-bearer grant with a service-account key (RFC 7523)', () => {
  let registry: ClockedRegistry;
  let keyFile: KeyFile;
  let otherKeyFile: KeyFile;
  let audience: string;

  beforeAll(async () => {
    registry = await startClockedRegistry();
    keyFile = await serviceAccountKey(registry, 'ci@ci-project.iam.example');
    otherKeyFile = await serviceAccountKey(registry, 'other@ci-project.iam.example');
    audience = `${registry.url}/oauth/token`;
  });

  afterAll(async () => {
    await registry?.close();
  });

  const exchange = (signed: string) =>
    tokenRequest(registry.url, { grant_type: jwtBearer, assertion: signed });

  it('exchanges a signed assertion for an access token of the service account, without a refresh token', async () => {
    const reply = await exchange(await assertion({ keyFile, audience, now: registry.clock.now() }));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'mistrive' });
    expect(reply.json).not.toHaveProperty('refresh_token');
    const token = reply.json.access_token as string;
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
    expect(payload.sub).toBe('serviceAccount:ci@ci-project.iam.example');
    expect(await tokenEndpointAccepts(registry.url, token)).toBe(200);
    expect((await get(`${registry.url}/v2/`, { Authorization: `Bearer ${token}` })).status).toBe(200);
  });

  it('refuses assertions that do not prove the key', async () => {
    const now = registry.clock.now();
    const { privateKey } = await generateKeyPair('ES256');
    const cases: Array<[string, Promise<string>]> = [
      ['another audience', assertion({ keyFile, audience: registry.url, now })],
      ['a key ID that does not exist', assertion({ keyFile, audience, now, kid: 'f'.repeat(40) })],
      ["another account's key ID", assertion({ keyFile, audience, now, kid: otherKeyFile.private_key_id })],
      ['a signature by another key', assertion({ keyFile, audience, now, signingKey: privateKey })],
      ['iss and sub that differ', assertion({ keyFile, audience, now, sub: otherKeyFile.client_email })],
      [
        'an account that is not the key owner',
        assertion({ keyFile, audience, now, iss: otherKeyFile.client_email, sub: otherKeyFile.client_email }),
      ],
    ];
    for (const [name, signed] of cases) {
      const reply = await exchange(await signed);
      expect({ name, status: reply.status, error: reply.json.error }).toEqual({
        name,
        status: 400,
        error: 'invalid_grant',
      });
    }
    expect((await exchange('not-a-jwt')).json.error).toBe('invalid_grant');
    const missing = await tokenRequest(registry.url, { grant_type: jwtBearer });
    expect(missing.json.error).toBe('invalid_request');
  });

  it('takes each assertion once: a replay, even within its lifetime, is refused', async () => {
    const signed = await assertion({ keyFile, audience, now: registry.clock.now() });
    expect((await exchange(signed)).status).toBe(200);
    const replay = await exchange(signed);
    expect(replay.status).toBe(400);
    expect(replay.json).toMatchObject({ error: 'invalid_grant' });
    expect(String(replay.json.error_description)).toMatch(/used before/);
  });

  it('refuses an assertion without a jti, which could not be kept to one use', async () => {
    const signed = await assertion({ keyFile, audience, now: registry.clock.now(), jti: null });
    expect((await exchange(signed)).json.error).toBe('invalid_grant');
  });

  it("keeps each account's jti apart: one account's use does not spend another's", async () => {
    const now = registry.clock.now();
    const jti = randomUUID();
    expect((await exchange(await assertion({ keyFile, audience, now, jti }))).status).toBe(200);
    expect((await exchange(await assertion({ keyFile: otherKeyFile, audience, now, jti }))).status).toBe(200);
  });

  it('refuses an expired assertion', async () => {
    const signed = await assertion({ keyFile, audience, now: registry.clock.now(), lifetimeSeconds: 60 });
    registry.clock.advance(120_000);
    expect((await exchange(signed)).json.error).toBe('invalid_grant');
  });

  it('refuses the key once it is disabled', async () => {
    const { serviceAccounts } = registry.registry.context.metadata;
    await serviceAccounts.setKeyDisabled(otherKeyFile.private_key_id, true);
    const signed = await assertion({ keyFile: otherKeyFile, audience, now: registry.clock.now() });
    expect((await exchange(signed)).json.error).toBe('invalid_grant');
  });
});

describe('JWT-bearer behind a proxy', () => {
  it('wants the public token endpoint URL as the audience', async () => {
    const registry = await startConfiguredRegistry({ publicUrl: 'https://registry.example.test/' });
    try {
      const keyFile = await serviceAccountKey(registry, 'ci@ci-project.iam.example');
      const now = registry.clock.now();
      const exchange = async (audience: string) =>
        tokenRequest(registry.url, {
          grant_type: jwtBearer,
          assertion: await assertion({ keyFile, audience, now }),
        });
      expect((await exchange('https://registry.example.test/oauth/token')).status).toBe(200);
      expect((await exchange(`${registry.url}/oauth/token`)).json.error).toBe('invalid_grant');
    } finally {
      await registry.close();
    }
  });
});
