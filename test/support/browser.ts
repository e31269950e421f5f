import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * Drives real headless Chromium (Debian's) through the registry's sign-in, consent and device
 * pages, as a person would: fill in the login form, then press Allow or Deny (Approve or Deny on
 * the device page).
 */

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface BrowserPerson {
  readonly login: string;
  readonly password: string;
  /** What the person answers on the consent or device page; `close` walks away without answering. */
  readonly decision: 'allow' | 'deny' | 'close';
}

/** Debian's Chromium, headless, with nothing that reaches beyond the loopback registry. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Signs in when the page asks for it. */
async function signInIfAsked(page: Page, person: BrowserPerson): Promise<void> {
  if ((await page.locator('input#password').count()) === 0) return;
  await page.fill('input#login', person.login);
  await page.fill('input#password', person.password);
  await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit].primary')]);
}

/** Answers the consent or device-confirmation page the browser is on. */
async function decide(page: Page, person: BrowserPerson, allowValue: string): Promise<void> {
  const value = person.decision === 'allow' ? allowValue : 'deny';
  await Promise.all([page.waitForLoadState('load'), page.click(`button[name=decision][value=${value}]`)]);
}

/**
 * Opens an authorization URL and goes through sign-in and consent. Resolves with the text of the
 * page the browser ends on (the CLI's loopback page after a redirect).
 */
export async function authorizeInBrowser(url: string, person: BrowserPerson): Promise<string> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await signInIfAsked(page, person);
    await page.waitForSelector('button[name=decision]');
    if (person.decision === 'close') return (await page.textContent('body')) ?? '';
    await decide(page, person, 'allow');
    await page.waitForLoadState('load');
    return (await page.textContent('body')) ?? '';
  } finally {
    await browser.close();
  }
}

/** Opens the device page (with or without the code in the URL), enters the code when asked, signs in and answers. */
export async function approveDeviceInBrowser(
  url: string,
  userCode: string,
  person: BrowserPerson,
): Promise<string> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await signInIfAsked(page, person);
    if ((await page.locator('input#user_code').count()) > 0) {
      await page.fill('input#user_code', userCode);
      await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit].primary')]);
    }
    await page.waitForSelector('button[name=decision]');
    if (person.decision === 'close') return (await page.textContent('body')) ?? '';
    await decide(page, person, 'approve');
    return (await page.textContent('body')) ?? '';
  } finally {
    await browser.close();
  }
}
