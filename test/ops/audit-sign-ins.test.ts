import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/client/management-api.js';
import { ApiClient, authorization, basic } from '../support/api-client.js';
import { cliHome, mistrive } from '../support/cli.js';
import { postConsoleForm, signInOverHttp } from '../support/console.js';
import { FakeClock } from '../support/fake-clock.js';
import { startTestRegistry, type TestRegistry, testAdminPassword } from '../support/registry.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

/**
 * The sign-ins the CLI test does not make (the token endpoint with a password and with a key, the
 * service-account key exchange, the login page), a change made in the console, and retention.
 */
describe('audit entries of sign-ins and console changes', { timeout: 120_000 }, () => {
  const clock = new FakeClock();
  let registry: TestRegistry;
  let admin: ApiClient;

  /** The newest entries first, read as the administrator with a password (tokens expire as the clock moves). */
  const entries = async (query = ''): Promise<AuditEntry[]> =>
    (await admin.ok('GET', `/api/v1/audit/entries?pageSize=1000${query}`, undefined, 200)).entries;

  beforeAll(async () => {
    registry = await startTestRegistry(
      { audit: { retention: '1d' }, uploads: { purgeEvery: '100ms' } },
      { clock },
    );
    admin = new ApiClient(registry.url, basic('admin', testAdminPassword));
    await admin.ok('POST', '/api/v1/projects', { projectId: 'ci' });
  });

  afterAll(async () => {
    await registry?.close();
  });

  it('records the token endpoint’s Basic sign-ins, refused or not', async () => {
    const token = (credentials: ReturnType<typeof basic>) =>
      fetch(`${registry.url}/auth/token?service=mistrive&scope=repository:ci/apps/web:pull`, {
        headers: authorization(credentials),
      });
    expect((await token(basic('Someone@Example.com', 'wrong'))).status).toBe(401);
    expect((await token(basic('admin', testAdminPassword))).status).toBe(200);
    const [succeeded, failed] = await entries('&action=signIn&pageSize=2');
    expect(failed).toMatchObject({
      actor: 'user:someone@example.com',
      resource: 'user:someone@example.com',
      outcome: 'failed',
      details: { method: 'registry-token', reason: 'UNAUTHORIZED: invalid username or password' },
    });
    expect(succeeded).toMatchObject({
      actor: 'user:admin',
      outcome: 'success',
      details: { method: 'registry-token' },
    });
  });

  it('records a service-account key exchanged by the CLI, and a key used at the token endpoint', async () => {
    await admin.ok('POST', '/api/v1/projects/ci/serviceAccounts', { accountId: 'builder' });
    const created = await admin.ok(
      'POST',
      '/api/v1/projects/ci/serviceAccounts/builder@ci.iam.mistrive/keys',
      {},
    );
    // The CLI signs its assertion with the real time, and an assertion issued in the future is refused:
    // the registry's clock moves a minute past the real time first.
    clock.advance(Date.now() + 60_000 - clock.now().getTime());
    const work = await tempDir('mistrive-audit-key-');
    const home = await cliHome();
    try {
      const keyFile = join(work.path, 'key.json');
      await writeFile(keyFile, JSON.stringify(created.keyFile));
      const activated = await mistrive(home, [
        'auth',
        'activate-service-account',
        '--key-file',
        keyFile,
        '--registry',
        registry.url,
      ]);
      expect(activated.exitCode, activated.stderr).toBe(0);
      const base64 = Buffer.from(JSON.stringify(created.keyFile)).toString('base64');
      const viaToken = await fetch(`${registry.url}/auth/token?service=mistrive`, {
        headers: authorization(basic('_json_key_base64', base64)),
      });
      expect(viaToken.status).toBe(200);
    } finally {
      await home.remove();
      await work.remove();
    }
    const account = 'serviceAccount:builder@ci.iam.mistrive';
    const byAccount = await entries(`&actor=${encodeURIComponent(account)}`);
    expect(byAccount.map((entry) => [entry.action, entry.outcome, entry.details?.method])).toEqual([
      ['signIn', 'success', 'registry-token'],
      ['signIn', 'success', 'service-account-assertion'],
    ]);
    const keyCreation = (await entries('&action=createServiceAccountKey'))[0];
    expect(keyCreation?.resource).toMatch(
      /^projects\/ci\/serviceAccounts\/builder@ci\.iam\.mistrive\/keys\/\S+$/,
    );
    // The key file the response carried is never on record.
    expect(JSON.stringify(await entries())).not.toContain('PRIVATE KEY');
  });

  it('records the login page’s sign-ins and the console’s changes', async () => {
    await expect(signInOverHttp(registry.url, 'admin', 'wrong-password')).rejects.toThrow(
      /sign-in failed: 401/,
    );
    const session = await signInOverHttp(registry.url, 'admin', testAdminPassword);
    const posted = await postConsoleForm(`${registry.url}/projects`, session, { projectId: 'web' });
    expect(posted.status).toBe(303);
    const [change, signIn, failedSignIn] = await entries('&pageSize=3');
    expect(failedSignIn).toMatchObject({
      actor: 'user:admin',
      action: 'signIn',
      outcome: 'failed',
      details: { method: 'login-page' },
    });
    expect(signIn).toMatchObject({
      actor: 'user:admin',
      action: 'signIn',
      outcome: 'success',
      details: { method: 'login-page' },
    });
    expect(change).toMatchObject({
      actor: 'user:admin',
      action: 'console.projects',
      resource: 'projects',
      outcome: 'success',
      details: { projectId: 'web' },
    });
    const forged = await postConsoleForm(
      `${registry.url}/projects`,
      session,
      { projectId: 'web2' },
      { csrf: 'x' },
    );
    expect(forged.status).toBe(403);
  });

  it('deletes entries older than audit.retention with the periodic purge, and keeps newer ones', async () => {
    const before = await entries();
    expect(before.length).toBeGreaterThan(3);
    clock.advance(2 * 86_400_000);
    await admin.ok('POST', '/api/v1/projects', { projectId: 'later' });
    const kept = await waitFor('the old entries to be pruned', async () => {
      const now = await entries();
      return now.length < before.length ? now : undefined;
    });
    expect(kept.map((entry) => entry.action)).toEqual(['createProject']);
    expect(kept[0]?.resource).toBe('projects/later');
  });
});
