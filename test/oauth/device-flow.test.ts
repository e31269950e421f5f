import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { testAdminPassword } from '../support/registry.js';
import { deviceGrant, tokenRequest } from './support/flows.js';
import { postForm, WebClient } from './support/http.js';
import { type ClockedRegistry, cliClientId, startClockedRegistry } from './support/oauth-registry.js';

/** The device authorization grant (RFC 8628) over plain HTTP: polling rules, expiry, the /device page's answers. */
describe('device authorization grant', () => {
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

  async function start() {
    const started = await postForm(`${registry.url}/oauth/device_authorization`, { client_id: cliClientId });
    expect(started.status, started.text).toBe(200);
    expect(started.headers.get('cache-control')).toBe('no-store');
    const json = started.json as {
      device_code: string;
      user_code: string;
      expires_in: number;
      interval: number;
    };
    const poll = () =>
      tokenRequest(registry.url, {
        grant_type: deviceGrant,
        client_id: cliClientId,
        device_code: json.device_code,
      });
    return { ...json, poll };
  }

  const answer = (userCode: string, decision?: string) =>
    web.post('/device', { csrf_token: csrf, user_code: userCode, ...(decision ? { decision } : {}) });

  it('starts with a ten-minute device code, an XXXX-XXXX user code and a 5 s interval', async () => {
    const device = await start();
    expect(device.expires_in).toBe(600);
    expect(device.interval).toBe(5);
    expect(device.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(device.device_code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('answers authorization_pending, then slow_down (interval + 5 s) when polled too fast', async () => {
    const device = await start();
    const pending = await device.poll();
    expect(pending.status).toBe(400);
    expect(pending.json.error).toBe('authorization_pending');

    registry.clock.advance(2_000);
    const tooFast = await device.poll();
    expect(tooFast.json.error).toBe('slow_down');
    expect(tooFast.json.error_description).toMatch(/10 s/);

    registry.clock.advance(6_000);
    expect((await device.poll()).json.error).toBe('slow_down');

    registry.clock.advance(15_000);
    expect((await device.poll()).json.error).toBe('authorization_pending');
  });

  it('issues tokens once the user approves, and only once', async () => {
    const device = await start();
    const typed = device.user_code.toLowerCase().replace('-', ' ');
    const confirm = await answer(typed);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain(device.user_code);
    const done = await answer(device.user_code, 'approve');
    expect(done.text).toContain('Device connected');

    registry.clock.advance(5_000);
    const tokens = await device.poll();
    expect(tokens.status, tokens.text).toBe(200);
    expect(tokens.json.refresh_token).toBeTypeOf('string');

    registry.clock.advance(5_000);
    const again = await device.poll();
    expect(again.json.error).toBe('invalid_grant');
    const refreshed = await tokenRequest(registry.url, {
      grant_type: 'refresh_token',
      client_id: cliClientId,
      refresh_token: tokens.json.refresh_token as string,
    });
    expect(refreshed.json.error).toBe('invalid_grant');
  });

  it('answers access_denied once the user denies', async () => {
    const device = await start();
    expect((await answer(device.user_code, 'deny')).text).toContain('Request denied');
    registry.clock.advance(5_000);
    expect((await device.poll()).json.error).toBe('access_denied');
  });

  it('expires the codes after ten minutes, for the device and on the page', async () => {
    const device = await start();
    registry.clock.advance(601_000);
    const expired = await device.poll();
    expect(expired.json.error).toBe('expired_token');
    const page = await answer(device.user_code);
    expect(page.status).toBe(400);
    expect(page.text).toContain('That code has expired');
  });

  it('says so when a code was answered already, or was never issued', async () => {
    const device = await start();
    await answer(device.user_code, 'approve');
    const answered = await answer(device.user_code, 'deny');
    expect(answered.status).toBe(400);
    expect(answered.text).toContain('answered already');
    const unknown = await answer('BCDF-GHJK');
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('No sign-in request has that code');
  });

  it('refuses unknown device codes and clients', async () => {
    const unknown = await tokenRequest(registry.url, {
      grant_type: deviceGrant,
      client_id: cliClientId,
      device_code: 'nope',
    });
    expect(unknown.json.error).toBe('invalid_grant');
    const noClient = await postForm(`${registry.url}/oauth/device_authorization`, {});
    expect(noClient.status).toBe(401);
    expect(noClient.json.error).toBe('invalid_client');
  });

  it('rate limits guessing user codes on the page: 429 with Retry-After after ten wrong codes', async () => {
    await registry.registry.context.metadata.users.create({
      login: 'guesser@example.com',
      passwordHash: await hashPassword('guesser-password'),
      admin: false,
      disabled: false,
      createdAt: registry.clock.now(),
    });
    const guesser = new WebClient(registry.url);
    const token = await guesser.signIn('guesser@example.com', 'guesser-password');
    const guess = () => guesser.post('/device', { csrf_token: token, user_code: 'ZZZZ-ZZZZ' });
    for (let attempt = 0; attempt < 10; attempt++) expect((await guess()).status).toBe(400);
    const refused = await guess();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.text).toContain('Too many wrong codes. Try again in 15 minutes.');
    // Said in words, rounded up: 14 minutes and 59 seconds is still "in 15 minutes".
    registry.clock.advance(1000);
    const later = await guess();
    expect(later.headers.get('retry-after')).toBe('899');
    expect(later.text).toContain('Try again in 15 minutes.');
    expect(later.text).not.toContain('seconds');
    registry.clock.advance(15 * 60_000);
    expect((await guess()).status).toBe(400);
  });
});
