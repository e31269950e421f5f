import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { adminFetch } from './admin-session.js';

/**
 * Helpers for the web console's tests: signing a browser or a plain HTTP client in through the
 * login page, and screenshots at a phone's and a desktop's width, in light and dark mode.
 */

/** Where screenshots are written (ignored by git; a few are copied to docs/screenshots). */
export const screenshotDir = fileURLToPath(new URL('../../test-results/console/', import.meta.url));

export const viewports = {
  phone: { width: 390, height: 844 },
  desktop: { width: 1280, height: 860 },
} as const;

export type Viewport = keyof typeof viewports;
export type Scheme = 'light' | 'dark';

/** Signs the browser in through the login page and waits for where it lands. */
export async function signInWithBrowser(
  page: Page,
  url: string,
  login: string,
  password: string,
  next = '/',
) {
  await page.goto(`${url}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Login').fill(login);
  await page.getByLabel('Password').fill(password);
  await Promise.all([
    page.waitForURL((target) => target.pathname !== '/login'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

export async function signOutWithBrowser(page: Page): Promise<void> {
  await Promise.all([page.waitForURL(/\/login/), page.getByRole('button', { name: 'Sign out' }).click()]);
}

/**
 * Shoots the page as it is at both widths in both colour schemes; returns the files. Also returns
 * whether the page overflowed sideways at each width (a layout that does not fit a phone).
 */
export async function shoot(
  page: Page,
  name: string,
): Promise<{ files: string[]; overflow: Record<string, number> }> {
  await mkdir(screenshotDir, { recursive: true });
  const files: string[] = [];
  const overflow: Record<string, number> = {};
  for (const [viewport, size] of Object.entries(viewports)) {
    await page.setViewportSize(size);
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const file = join(screenshotDir, `${name}-${viewport}-${scheme}.png`);
      await page.screenshot({ path: file, fullPage: true });
      files.push(file);
    }
    overflow[viewport] = (await page.evaluate(
      'document.documentElement.scrollWidth - window.innerWidth',
    )) as number;
  }
  await page.setViewportSize(viewports.desktop);
  await page.emulateMedia({ colorScheme: 'light' });
  return { files, overflow };
}

export interface HttpSession {
  readonly cookie: string;
  /** The session's CSRF token, read from a page's form. */
  readonly csrfToken: string;
}

const cookieOf = (response: Response) =>
  response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(';')[0] as string)
    .filter((pair) => !pair.endsWith('='))
    .join('; ');

/** Signs a plain HTTP client in through the login form (double-submit CSRF), as a browser would. */
export async function signInOverHttp(url: string, login: string, password: string): Promise<HttpSession> {
  const form = await fetch(`${url}/login`);
  const loginCookie = cookieOf(form);
  const token = /name="csrf_token" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const signedIn = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: loginCookie },
    body: new URLSearchParams({ csrf_token: token, login, password }),
  });
  if (signedIn.status !== 303) throw new Error(`sign-in failed: ${signedIn.status} ${await signedIn.text()}`);
  const cookie = cookieOf(signedIn);
  const home = await fetch(`${url}/`, { headers: { Cookie: cookie } });
  const csrfToken = /name="csrf_token" value="([^"]+)"/.exec(await home.text())?.[1];
  if (!csrfToken) throw new Error('no CSRF token on the signed-in home page');
  return { cookie, csrfToken };
}

/** Posts a console form with the session's cookie; `csrf: false` leaves the token out, as a forged form would. */
export function postConsoleForm(
  url: string,
  session: HttpSession,
  fields: Record<string, string>,
  options: { csrf?: string | false } = {},
): Promise<Response> {
  const token = options.csrf === undefined ? session.csrfToken : options.csrf;
  return fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: session.cookie },
    body: new URLSearchParams({ ...fields, ...(token === false ? {} : { csrf_token: token }) }),
  });
}

/** A management API call as the administrator, to set up what a console test looks at. */
export function adminApi(url: string) {
  return (path: string, method: string, body: unknown) =>
    adminFetch(`${url}/api/v1${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
}
