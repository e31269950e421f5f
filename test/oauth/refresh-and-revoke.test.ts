import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { passwordTokens, tokenEndpointAccepts, tokenRequest } from './support/flows.js';
import { postForm } from './support/http.js';
import { type ClockedRegistry, cliClientId, startClockedRegistry } from './support/oauth-registry.js';

/** Rotating refresh tokens with reuse detection (RFC 9700 §4.14.2) and revocation (RFC 7009). */
describe('refresh tokens and revocation', () => {
  let registry: ClockedRegistry;

  beforeAll(async () => {
    registry = await startClockedRegistry();
  });

  afterAll(async () => {
    await registry?.close();
  });

  const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
    tokenRequest(registry.url, {
      grant_type: 'refresh_token',
      client_id: cliClientId,
      refresh_token: refreshToken,
      ...extra,
    });
  const revoke = (token: string) =>
    postForm(`${registry.url}/oauth/revoke`, { token, client_id: cliClientId });

  it('rotates: each refresh returns a new refresh token and a new access token', async () => {
    const first = await passwordTokens(registry.url);
    const second = await refresh(first.refresh_token as string);
    expect(second.status, second.text).toBe(200);
    expect(second.headers.get('cache-control')).toBe('no-store');
    expect(second.json.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.json.refresh_token).not.toBe(first.refresh_token);
    expect(second.json.access_token).not.toBe(first.access_token);
    const third = await refresh(second.json.refresh_token as string);
    expect(third.status).toBe(200);
    expect(await tokenEndpointAccepts(registry.url, third.json.access_token as string)).toBe(200);
  });

  it('detects reuse: a spent refresh token revokes the whole family, the newest tokens included', async () => {
    const first = await passwordTokens(registry.url);
    const second = (await refresh(first.refresh_token as string)).json;
    const third = (await refresh(second.refresh_token as string)).json;
    expect(await tokenEndpointAccepts(registry.url, third.access_token as string)).toBe(200);

    const replay = await refresh(first.refresh_token as string);
    expect(replay.status).toBe(400);
    expect(replay.json.error).toBe('invalid_grant');
    expect(replay.json.error_description).toMatch(/used already.*revoked/);

    const newest = await refresh(third.refresh_token as string);
    expect(newest.json.error).toBe('invalid_grant');
    expect(newest.json.error_description).toMatch(/revoked/);
    for (const tokens of [first, second, third]) {
      expect(await tokenEndpointAccepts(registry.url, tokens.access_token as string)).toBe(401);
    }
  });

  it('leaves other sign-ins of the same user alone', async () => {
    const mine = await passwordTokens(registry.url);
    const other = await passwordTokens(registry.url);
    await refresh(mine.refresh_token as string);
    await refresh(mine.refresh_token as string);
    expect((await refresh(other.refresh_token as string)).status).toBe(200);
  });

  it('expires refresh tokens after refreshTokenTtl (30 days by default)', async () => {
    const tokens = await passwordTokens(registry.url);
    registry.clock.advance(30 * 86_400_000 + 1_000);
    const expired = await refresh(tokens.refresh_token as string);
    expect(expired.json.error).toBe('invalid_grant');
    expect(expired.json.error_description).toMatch(/expired/);
  });

  it('refuses unknown refresh tokens, other clients and wider scopes', async () => {
    expect((await refresh('x'.repeat(43))).json.error).toBe('invalid_grant');
    const tokens = await passwordTokens(registry.url);
    const otherClient = await tokenRequest(registry.url, {
      grant_type: 'refresh_token',
      client_id: 'other',
      refresh_token: tokens.refresh_token as string,
    });
    expect(otherClient.status).toBe(401);
    expect(otherClient.json.error).toBe('invalid_client');
    expect((await refresh(tokens.refresh_token as string, { scope: 'mistrive admin' })).json.error).toBe(
      'invalid_scope',
    );
    expect((await refresh(tokens.refresh_token as string, { scope: 'mistrive' })).status).toBe(200);
  });

  it('revokes a refresh token and its family (RFC 7009)', async () => {
    const first = await passwordTokens(registry.url);
    const second = (await refresh(first.refresh_token as string)).json;
    const revoked = await revoke(second.refresh_token as string);
    expect(revoked.status).toBe(200);
    expect(revoked.text).toBe('');
    expect((await refresh(second.refresh_token as string)).json.error).toBe('invalid_grant');
    expect(await tokenEndpointAccepts(registry.url, second.access_token as string)).toBe(401);
  });

  it('revokes an access token until it would have expired, leaving the refresh token working', async () => {
    const tokens = await passwordTokens(registry.url);
    expect(await tokenEndpointAccepts(registry.url, tokens.access_token as string)).toBe(200);
    expect((await revoke(tokens.access_token as string)).status).toBe(200);
    expect(await tokenEndpointAccepts(registry.url, tokens.access_token as string)).toBe(401);
    expect((await refresh(tokens.refresh_token as string)).status).toBe(200);
  });

  it('answers 200 for tokens it does not know, and refuses malformed requests', async () => {
    expect((await revoke('not-a-token')).status).toBe(200);
    const noToken = await postForm(`${registry.url}/oauth/revoke`, { client_id: cliClientId });
    expect(noToken.status).toBe(400);
    expect(noToken.json.error).toBe('invalid_request');
    const unknownClient = await postForm(`${registry.url}/oauth/revoke`, { token: 'x', client_id: 'other' });
    expect(unknownClient.status).toBe(401);
    expect(unknownClient.json.error).toBe('invalid_client');
  });
});
