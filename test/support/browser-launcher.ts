import { appendFile } from 'node:fs/promises';
import { authorizeInBrowser, type BrowserPerson } from './browser.js';

/**
 * What MISTRIVE_BROWSER runs in the browser-login tests: called with the authorization URL, it
 * signs in and answers the consent page in headless Chromium. Who signs in and what they answer
 * comes from the environment the CLI passes down; what happened is appended to a log file.
 */
const url = process.argv[2];
const log = process.env.MISTRIVE_TEST_BROWSER_LOG;
const person: BrowserPerson = {
  login: process.env.MISTRIVE_TEST_LOGIN ?? '',
  password: process.env.MISTRIVE_TEST_PASSWORD ?? '',
  decision: (process.env.MISTRIVE_TEST_DECISION ?? 'allow') as BrowserPerson['decision'],
};
try {
  if (!url) throw new Error('no URL given');
  if (log) await appendFile(log, `opened ${url}\n`);
  const text = await authorizeInBrowser(url, person);
  if (log) await appendFile(log, `ended on: ${text.replace(/\s+/g, ' ').trim()}\n`);
} catch (error) {
  if (log) await appendFile(log, `failed: ${(error as Error).stack}\n`);
  process.exitCode = 1;
}
