import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { testAdminPassword } from '../support/registry.js';
import { authorizationParameters, deviceGrant, tokenEndpointAccepts, tokenRequest } from './support/flows.js';
import { postForm } from './support/http.js';
import { type LoopbackReceiver, startLoopbackReceiver } from './support/loopback-receiver.js';
import { type ClockedRegistry, cliClientId, startClockedRegistry } from './support/oauth-registry.js';
import { pkcePair } from './support/pkce.js';

/**
 * What a person does: the CLI opens the browser (or prints a code), the person signs in, reads
 * what asks for access and answers. Real Chromium, with JavaScript off: the pages are plain forms.
 */
describe('signing in through the browser', () => {
  let registry: ClockedRegistry;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let receiver: LoopbackReceiver | undefined;

  beforeAll(async () => {
    registry = await startClockedRegistry();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await registry?.close();
  });

  afterEach(async () => {
    await context?.close();
    await receiver?.close();
    receiver = undefined;
  });

  async function openBrowser(url: string): Promise<void> {
    context = await browser.newContext({ javaScriptEnabled: false });
    page = await context.newPage();
    await page.goto(url);
  }

  async function signIn(): Promise<void> {
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Login').fill('admin');
    await page.getByLabel('Password').fill(testAdminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function startAuthorization(host: '127.0.0.1' | '[::1]' = '127.0.0.1') {
    receiver = await startLoopbackReceiver(host);
    const { verifier, challenge } = pkcePair();
    const state = randomBytes(16).toString('hex');
    const authorize = new URL('/oauth/authorize', registry.url);
    for (const [name, value] of Object.entries(
      authorizationParameters({ redirectUri: receiver.redirectUri, challenge, state }),
    )) {
      authorize.searchParams.set(name, value);
    }
    await openBrowser(authorize.href);
    await signIn();
    await page.waitForURL(/\/oauth\/authorize\?/);
    return { verifier, state, redirectUri: receiver.redirectUri, redirect: receiver.next() };
  }

  it.each(['127.0.0.1', '[::1]'] as const)(
    'authorization code with PKCE: login, consent, redirect to %s, tokens',
    async (host) => {
      const flow = await startAuthorization(host);
      expect(await page.locator('h1').textContent()).toBe('Allow Mistrive CLI to use your account?');
      const consent = await page.locator('main').textContent();
      expect(consent).toContain('Signed in as admin');
      expect(consent).toContain(flow.redirectUri);

      await page.getByRole('button', { name: 'Allow' }).click();
      const redirect = await flow.redirect;
      await page.waitForURL(`${flow.redirectUri}?**`);
      expect(await page.locator('h1').textContent()).toBe('You can close this window.');
      expect(redirect.get('state')).toBe(flow.state);
      expect(redirect.get('iss')).toBe(registry.url);
      const code = redirect.get('code');
      expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const tokens = await tokenRequest(registry.url, {
        grant_type: 'authorization_code',
        client_id: cliClientId,
        code: code as string,
        redirect_uri: flow.redirectUri,
        code_verifier: flow.verifier,
      });
      expect(tokens.status, tokens.text).toBe(200);
      expect(tokens.headers.get('cache-control')).toBe('no-store');
      expect(tokens.json).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'mistrive' });
      expect(tokens.json.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await tokenEndpointAccepts(registry.url, tokens.json.access_token as string)).toBe(200);
    },
  );

  it('Deny sends access_denied back to the loopback listener, with the state', async () => {
    const flow = await startAuthorization();
    await page.getByRole('button', { name: 'Deny' }).click();
    const redirect = await flow.redirect;
    expect(redirect.get('error')).toBe('access_denied');
    expect(redirect.get('state')).toBe(flow.state);
    expect(redirect.get('code')).toBeNull();
  });

  async function startDevice() {
    const started = await postForm(`${registry.url}/oauth/device_authorization`, { client_id: cliClientId });
    expect(started.status, started.text).toBe(200);
    const { device_code, user_code, verification_uri, verification_uri_complete } = started.json as {
      [name in 'device_code' | 'user_code' | 'verification_uri' | 'verification_uri_complete']: string;
    };
    expect(user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(verification_uri).toBe(`${registry.url}/device`);
    const poll = () =>
      tokenRequest(registry.url, { grant_type: deviceGrant, client_id: cliClientId, device_code });
    expect((await poll()).json.error).toBe('authorization_pending');

    await openBrowser(verification_uri_complete);
    await signIn();
    await page.waitForURL(/\/device\?user_code=/);
    expect(await page.getByLabel('Code').inputValue()).toBe(user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    expect(await page.locator('h1').textContent()).toBe('Is this the code on your device?');
    expect(await page.locator('.user-code').textContent()).toBe(user_code);
    expect(await page.locator('main').textContent()).toContain('Mistrive CLI');
    return async () => {
      registry.clock.advance(5_000);
      return poll();
    };
  }

  it('device flow: sign in on /device, enter the code, approve; the polling CLI gets tokens', async () => {
    const poll = await startDevice();
    await page.getByRole('button', { name: 'Approve' }).click();
    expect(await page.locator('h1').textContent()).toBe('Device connected');

    const tokens = await poll();
    expect(tokens.status, tokens.text).toBe(200);
    expect(tokens.json).toMatchObject({ token_type: 'Bearer', scope: 'mistrive' });
    expect(tokens.json.refresh_token).toBeTypeOf('string');
    expect(await tokenEndpointAccepts(registry.url, tokens.json.access_token as string)).toBe(200);
  });

  it('device flow: Deny ends the polling with access_denied', async () => {
    const poll = await startDevice();
    await page.getByRole('button', { name: 'Deny' }).click();
    expect(await page.locator('h1').textContent()).toBe('Request denied');

    const answer = await poll();
    expect(answer.status).toBe(400);
    expect(answer.json.error).toBe('access_denied');
  });
});
