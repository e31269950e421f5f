import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/client/management-api.js';
import { authorization, basic, pushImageAs } from '../support/api-client.js';
import { type CliHome, cliHome, mistrive, mistriveJson, signIn } from '../support/cli.js';
import { type Daemon, startDaemon, testAdminPassword } from '../support/registry.js';
import { tempDir } from '../support/temp.js';

/** What an entry says, without the time and ID that differ each run. */
const gist = (entry: AuditEntry) => ({
  actor: entry.actor,
  client: entry.client,
  action: entry.action,
  resource: entry.resource,
  outcome: entry.outcome,
});

/**
 * A scripted sequence of changes, sign-ins and deletes through the CLI, the API and /v2/ of a real
 * daemon behind a trusted proxy, read back with `mistrive audit list --json`.
 */
describe('the audit log', { timeout: 240_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon;
  let admin: CliHome;
  let dev: CliHome;
  let entries: AuditEntry[];
  let imageDigest: string;

  const audit = (home: CliHome, args: string[] = []) =>
    mistriveJson<{ entries: AuditEntry[] }>(home, ['audit', 'list', '--registry', daemon.url, ...args]);

  beforeAll(async () => {
    work = await tempDir('mistrive-audit-');
    const config = join(work.path, 'serve.yaml');
    // The test's own loopback connections stand for a proxy: X-Forwarded-For names the client.
    await writeFile(config, 'trustedProxies: ["127.0.0.1"]\n');
    daemon = await startDaemon(join(work.path, 'data'), ['--config', config]);
    admin = await cliHome();
    dev = await cliHome();
    const url = daemon.url;
    const run = async (home: CliHome, args: string[], input?: string) => {
      const result = await mistrive(home, [...args, '--registry', url], input === undefined ? {} : { input });
      return result;
    };
    const ok = async (home: CliHome, args: string[], input?: string) => {
      const result = await run(home, args, input);
      expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    };

    await signIn(admin, url, 'admin', testAdminPassword);
    await ok(admin, ['projects', 'create', 'shop']);
    await ok(admin, ['repos', 'create', 'apps', '--project', 'shop']);
    await ok(admin, ['users', 'create', 'dev@example.com', '--password-stdin'], 'dev-password-1');
    await ok(admin, [
      'repos',
      'add-iam-policy-binding',
      'apps',
      '--project',
      'shop',
      '--member',
      'user:dev@example.com',
      '--role',
      'viewer',
    ]);
    const wrong = await run(
      dev,
      ['auth', 'login', '--username', 'dev@example.com', '--password-stdin'],
      'nope',
    );
    expect(wrong.exitCode).not.toBe(0);
    await signIn(dev, url, 'dev@example.com', 'dev-password-1');
    const refused = await run(dev, ['repos', 'delete', 'apps', '--project', 'shop', '--yes']);
    expect(refused.exitCode).toBe(4);
    const adminCredentials = basic('admin', testAdminPassword);
    imageDigest = (await pushImageAs(url, 'shop/apps/web', 'v1', adminCredentials)).digest;
    await pushImageAs(url, 'shop/apps/web', 'v2', adminCredentials);
    // A tag deleted through /v2/, by a client behind the proxy.
    const deleted = await fetch(`${url}/v2/shop/apps/web/manifests/v2`, {
      method: 'DELETE',
      headers: { ...authorization(adminCredentials), 'X-Forwarded-For': '203.0.113.7' },
    });
    expect(deleted.status).toBe(202);
    await ok(admin, ['images', 'delete', `shop/apps/web@${imageDigest}`, '--delete-tags', '--yes']);
    entries = (await audit(admin, ['--limit', '1000'])).entries;
  });

  afterAll(async () => {
    await daemon?.stop();
    await admin?.remove();
    await dev?.remove();
    await work?.remove();
  });

  it('records every change, sign-in, refusal and delete, newest first, with who, from where and how it ended', () => {
    const oldestFirst = [...entries].reverse().map(gist);
    const adminSignIn = {
      actor: 'user:admin',
      client: '127.0.0.1',
      action: 'signIn',
      resource: 'user:admin',
      outcome: 'success',
    };
    expect(oldestFirst).toEqual([
      // The test harness signs the administrator in once as the daemon starts, the CLI a second time.
      adminSignIn,
      adminSignIn,
      {
        actor: 'user:admin',
        client: '127.0.0.1',
        action: 'createProject',
        resource: 'projects/shop',
        outcome: 'success',
      },
      {
        actor: 'user:admin',
        client: '127.0.0.1',
        action: 'createRepository',
        resource: 'projects/shop/repositories/apps',
        outcome: 'success',
      },
      {
        actor: 'user:admin',
        client: '127.0.0.1',
        action: 'createUser',
        resource: 'users/dev@example.com',
        outcome: 'success',
      },
      {
        actor: 'user:admin',
        client: '127.0.0.1',
        action: 'addRepositoryIamBinding',
        resource: 'projects/shop/repositories/apps/iamPolicy/bindings',
        outcome: 'success',
      },
      {
        actor: 'user:dev@example.com',
        client: '127.0.0.1',
        action: 'signIn',
        resource: 'user:dev@example.com',
        outcome: 'failed',
      },
      {
        actor: 'user:dev@example.com',
        client: '127.0.0.1',
        action: 'signIn',
        resource: 'user:dev@example.com',
        outcome: 'success',
      },
      {
        actor: 'user:dev@example.com',
        client: '127.0.0.1',
        action: 'deleteRepository',
        resource: 'projects/shop/repositories/apps',
        outcome: 'denied',
      },
      {
        actor: 'user:admin',
        client: '203.0.113.7',
        action: 'deleteTag',
        resource: 'projects/shop/repositories/apps/images/web/tags/v2',
        outcome: 'success',
      },
      {
        actor: 'user:admin',
        client: '127.0.0.1',
        action: 'deleteDigest',
        resource: `projects/shop/repositories/apps/images/web/digests/${imageDigest}`,
        outcome: 'success',
      },
    ]);
  });

  it('keeps what tells the story and never a secret', () => {
    const binding = entries.find((entry) => entry.action === 'addRepositoryIamBinding');
    expect(binding?.details).toEqual({ member: 'user:dev@example.com', role: 'viewer' });
    const created = entries.find((entry) => entry.action === 'createUser');
    expect(created?.details).toEqual({ login: 'dev@example.com' });
    const failed = entries.find((entry) => entry.action === 'signIn' && entry.outcome === 'failed');
    expect(failed?.details).toEqual({
      method: 'cli-password',
      reason: 'UNAUTHORIZED: invalid username or password',
    });
    const denied = entries.find((entry) => entry.outcome === 'denied');
    expect(denied?.details?.reason).toMatch(/^DENIED: /);
    const everything = JSON.stringify(entries) + daemon.stderr();
    for (const secret of ['dev-password-1', testAdminPassword]) expect(everything).not.toContain(secret);
    for (const entry of entries) expect(Date.parse(entry.time)).not.toBeNaN();
  });

  it('filters by actor, resource, action and time, and stops at --limit', async () => {
    const byDev = (await audit(admin, ['--actor', 'user:dev@example.com'])).entries;
    expect(byDev.map((entry) => entry.action)).toEqual(['deleteRepository', 'signIn', 'signIn']);
    const underApps = (await audit(admin, ['--resource', 'projects/shop/repositories/apps'])).entries;
    expect(underApps.map((entry) => entry.action)).toEqual([
      'deleteDigest',
      'deleteTag',
      'deleteRepository',
      'addRepositoryIamBinding',
      'createRepository',
    ]);
    const signIns = (await audit(admin, ['--action', 'signIn'])).entries;
    expect(signIns.map((entry) => [entry.actor, entry.outcome])).toEqual([
      ['user:dev@example.com', 'success'],
      ['user:dev@example.com', 'failed'],
      ['user:admin', 'success'],
      ['user:admin', 'success'],
    ]);
    expect((await audit(admin, ['--limit', '2'])).entries.map((entry) => entry.action)).toEqual([
      'deleteDigest',
      'deleteTag',
    ]);
    expect((await audit(admin, ['--since', '1h'])).entries).toHaveLength(entries.length);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await audit(admin, ['--since', future])).entries).toEqual([]);
  });

  it('reads pages of the management API, newest first', async () => {
    const headers = { Authorization: `Bearer ${daemon.adminToken}` };
    const seen: string[] = [];
    let pageToken = '';
    do {
      const query = new URLSearchParams({ pageSize: '3', ...(pageToken ? { pageToken } : {}) });
      const response = await fetch(`${daemon.url}/api/v1/audit/entries?${query}`, { headers });
      expect(response.status).toBe(200);
      const page = (await response.json()) as { entries: AuditEntry[]; nextPageToken?: string };
      expect(page.entries.length).toBeLessThanOrEqual(3);
      seen.push(...page.entries.map((entry) => entry.id));
      pageToken = page.nextPageToken ?? '';
    } while (pageToken);
    // Entries recorded since the listing above (the admin's own reads are not changes) change nothing.
    expect(seen).toEqual(entries.map((entry) => entry.id).filter((id) => seen.includes(id)));
    expect(seen.length).toBeGreaterThanOrEqual(entries.length);
    expect(seen.map(Number)).toEqual([...seen.map(Number)].sort((a, b) => b - a));
  });

  it('is for the administrator only, and says what is wrong with a bad --since', async () => {
    const refused = await mistrive(dev, ['audit', 'list', '--registry', daemon.url]);
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toMatch(/only the instance administrator can read the audit log/);
    const bad = await mistrive(admin, ['audit', 'list', '--registry', daemon.url, '--since', 'yesterday']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/"yesterday" is neither a duration such as 24h or 7d nor a time/);
  });

  it('writes each entry as a JSON line to the log, and request lines name the principal and the client', () => {
    const lines = daemon
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, Json>);
    const logged = lines.filter((line) => line.msg === 'audit').map((line) => line.audit);
    expect(logged.map((line) => line.action)).toEqual(
      expect.arrayContaining(['createProject', 'deleteTag', 'signIn']),
    );
    const tagDelete = logged.find((line) => line.action === 'deleteTag');
    expect(tagDelete).toMatchObject({ actor: 'user:admin', client: '203.0.113.7', outcome: 'success' });
    const request = lines.find(
      (line) =>
        line.msg === 'request' && line.method === 'DELETE' && line.path === '/v2/shop/apps/web/manifests/v2',
    );
    expect(request).toMatchObject({ status: 202, client: '203.0.113.7', principal: 'user:admin' });
    const signInPage = lines.find(
      (line) => line.msg === 'request' && line.path === '/oauth/token' && line.status === 200,
    );
    expect(signInPage?.principal).toMatch(/^user:/);
  });
});

// biome-ignore lint/suspicious/noExplicitAny: log lines are asserted on, not trusted
type Json = any;
