import { createHash } from 'node:crypto';
import { execa } from 'execa';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadServeConfig } from '../../src/config/config.js';
import type { MetadataStore } from '../../src/db/metadata.js';
import { PostgresMetadataStore } from '../../src/db/postgres/postgres-metadata-store.js';
import { schema } from '../../src/db/postgres/schema.js';
import { schemaUrl, startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { mistriveBin, startDaemon } from '../support/registry.js';
import { tempDir } from '../support/temp.js';

/**
 * What only the PostgreSQL store has to show: migrations shared by instances, a password that never
 * leaks, and the transactional guarantees the SQLite store gets from its single writer, held with
 * several connections racing. Its own throwaway server, so this runs in every pass of the suite.
 */

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const at = new Date(Date.UTC(2030, 0, 1));
const later = (ms: number) => new Date(at.getTime() + ms);

let server: TestPostgres;
let schemas = 0;

beforeAll(async () => {
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
});

async function freshUrl(): Promise<string> {
  schemas += 1;
  return schemaUrl(server.url, `store_test_${schemas}`);
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

/** A project with one repository and `images` images, each a fresh image ID. */
async function seed(store: MetadataStore, images: number, quota?: number) {
  await store.projects.create({
    id: 'team',
    organization: 'default',
    displayName: 'Team',
    description: '',
    storageQuota: undefined,
    createdAt: at,
    updatedAt: at,
  });
  if (quota !== undefined) await store.projects.update('team', { storageQuota: quota }, at);
  await store.catalog.ensureRepository('team', 'apps', at);
  const ids: number[] = [];
  for (let n = 0; n < images; n++)
    ids.push((await store.catalog.ensureImage('team', 'apps', `team/apps/image-${n}`, at)).id);
  return ids;
}

describe('opening the PostgreSQL metadata store', () => {
  it('migrates once when several instances start at the same time, and records the version', async () => {
    const url = await freshUrl();
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => PostgresMetadataStore.open({ url, poolSize: 2 })),
    );
    try {
      const versions = await query<{ version: number }>(url, 'SELECT version FROM schema_migrations');
      // Every migration once, each recorded once.
      expect(versions.map((row) => row.version)).toEqual(schema.map((_, index) => index + 1));
      expect(await stores[3]?.organizations.find('default')).toMatchObject({ id: 'default' });
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('refuses a schema newer than itself, saying to upgrade', async () => {
    const url = await freshUrl();
    await (await PostgresMetadataStore.open({ url, poolSize: 1 })).close();
    await query(url, 'INSERT INTO schema_migrations (version) VALUES (99)');
    await expect(PostgresMetadataStore.open({ url, poolSize: 1 })).rejects.toThrow(
      /schema version 99, newer than this mistrive .*upgrade mistrive/,
    );
  });

  it('never shows the password when it cannot connect or sign in', async () => {
    const wrong = server.url.replace(/:([^:@/]+)@/, ':not-the-password-42@');
    const error = await PostgresMetadataStore.open({ url: wrong, poolSize: 1 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /cannot open the PostgreSQL metadata store at postgres:\/\/mistrive:\*\*\*\*\*@127\.0\.0\.1/,
    );
    expect((error as Error).message).not.toContain('not-the-password-42');
    const password = new URL(server.url).password;
    const closed = new URL(server.url);
    closed.port = '1';
    const refused = await PostgresMetadataStore.open({ url: closed.toString(), poolSize: 1 }).catch(
      (e: Error) => e,
    );
    expect((refused as Error).message).toMatch(/ECONNREFUSED/);
    expect((refused as Error).message).not.toContain(password);
  });

  it('keeps no more connections open than its pool size', async () => {
    const url = await freshUrl();
    const store = await PostgresMetadataStore.open({ url, poolSize: 3 });
    try {
      const [{ pid }] = (await query<{ pid: number }>(url, 'SELECT pg_backend_pid() AS pid')) as [
        { pid: number },
      ];
      await Promise.all(Array.from({ length: 20 }, () => store.users.list()));
      const [row] = await query<{ open: number }>(
        url,
        `SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = current_database() AND pid <> ${pid}
           AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      expect(row?.open).toBeLessThanOrEqual(3);
      expect(row?.open).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});

describe('mistrive serve on PostgreSQL', () => {
  it('says where the metadata is without the password, and serves from there', async () => {
    const data = await tempDir();
    const url = await freshUrl();
    const daemon = await startDaemon(data.path, [], { MISTRIVE_POSTGRES_URL: url });
    try {
      const password = new URL(server.url).password;
      expect(daemon.stdout()).toMatch(
        /metadata in PostgreSQL at postgres:\/\/mistrive:\*\*\*\*\*@127\.0\.0\.1:\d+\/mistrive/,
      );
      expect(daemon.stdout() + daemon.stderr()).not.toContain(password);
      const users = await query<{ login: string }>(url, 'SELECT login FROM users');
      expect(users.map((row) => row.login)).toEqual(['admin']);
    } finally {
      await daemon.stop();
      await data.remove();
    }
  });

  it('stops with one sentence, password masked, when PostgreSQL refuses it', async () => {
    const data = await tempDir();
    try {
      const wrong = server.url.replace(/:([^:@/]+)@/, ':wrong-password-7@');
      const result = await execa(
        process.execPath,
        [mistriveBin, 'serve', '--port', '0', '--data-dir', data.path],
        {
          env: { MISTRIVE_POSTGRES_URL: wrong, MISTRIVE_ADMIN_PASSWORD: 'admin-password-1' },
          reject: false,
        },
      );
      expect(result.exitCode).toBe(1);
      // oclif wraps the message at the terminal's width, with a marker on each line.
      const message = result.stderr.replace(/\s*\n ›\s+/g, ' ');
      expect(message).toMatch(
        /cannot open the PostgreSQL metadata store at postgres:\/\/mistrive:\*\*\*\*\*@127\.0\.0\.1:\d+\/mistrive: password authentication failed for user "mistrive"; check metadata\.postgres/,
      );
      expect(result.stderr + result.stdout).not.toContain('wrong-password-7');
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await data.remove();
    }
  });
});

describe('the serve configuration', () => {
  it('takes the PostgreSQL URL from the config file, else from MISTRIVE_POSTGRES_URL', () => {
    const fromEnv = loadServeConfig(
      undefined,
      { dataDir: '/tmp/x' },
      { MISTRIVE_POSTGRES_URL: 'postgres://u:p@db:5432/m' },
    );
    expect(fromEnv.metadata).toEqual({ postgres: 'postgres://u:p@db:5432/m', poolSize: 10 });
    const fromFile = loadServeConfig(
      undefined,
      { dataDir: '/tmp/x', metadata: { postgres: 'postgresql://u:p@file:5432/m', poolSize: 25 } },
      { MISTRIVE_POSTGRES_URL: 'postgres://u:p@db:5432/m' },
    );
    expect(fromFile.metadata).toEqual({ postgres: 'postgresql://u:p@file:5432/m', poolSize: 25 });
    expect(loadServeConfig(undefined, { dataDir: '/tmp/x' }, {}).metadata.postgres).toBeUndefined();
  });

  it('refuses a URL that is not PostgreSQL without repeating it', () => {
    expect(() =>
      loadServeConfig(
        undefined,
        { dataDir: '/tmp/x' },
        { MISTRIVE_POSTGRES_URL: 'mysql://u:secret-pw@db/m' },
      ),
    ).toThrow(/metadata\.postgres: must be a URL such as postgres:\/\/USER:PASSWORD@HOST:5432\/mistrive$/);
  });
});

/** Project `team` with the webhook `hook` on pushes. */
async function seedWebhook(store: MetadataStore) {
  await seed(store, 0);
  await store.webhooks.create({
    id: 'hook',
    project: 'team',
    url: 'https://hooks.example.com/in',
    events: ['push'],
    secret: 'whsec_test',
    createdBy: 'user:alice@example.com',
    createdAt: at,
  });
}

describe('transactions racing on PostgreSQL', () => {
  let store: PostgresMetadataStore;
  let url: string;

  beforeEach(async () => {
    url = await freshUrl();
    store = await PostgresMetadataStore.open({ url, poolSize: 8 });
    return () => store.close();
  });

  it('lets only the blobs that fit under the quota in when pushes race', async () => {
    const images = await seed(store, 8, 1000);
    const outcomes = await Promise.all(
      images.map((image, n) => store.content.linkBlob(image, digestOf(`layer ${n}`), 400, at)),
    );
    expect(outcomes.filter((outcome) => outcome === 'linked')).toHaveLength(2);
    expect((await store.usage.project('team')).logicalBytes).toBe(800);
  });

  it('counts a digest linked into several images of a project at once only once', async () => {
    const images = await seed(store, 8);
    const digest = digestOf('shared layer');
    await Promise.all(images.map((image) => store.content.linkBlob(image, digest, 1234, at)));
    const [counter] = await query<{ logical_bytes: number }>(url, 'SELECT logical_bytes FROM project_usage');
    expect(Number(counter?.logical_bytes)).toBe(1234);
    await Promise.all(images.map((image) => store.content.unlinkBlob(image, digest)));
    const [after] = await query<{ logical_bytes: number }>(url, 'SELECT logical_bytes FROM project_usage');
    expect(Number(after?.logical_bytes)).toBe(0);
  });

  it('gives a spent refresh token to exactly one of the requests racing to rotate it', async () => {
    const token = {
      tokenHash: 'first',
      familyId: 'family',
      subject: 'user:alice@example.com',
      clientId: 'mistrive-cli',
      scope: '',
      accessTokenId: 'jti-0',
      accessExpiresAt: later(60_000),
      usedAt: undefined,
      revokedAt: undefined,
      expiresAt: later(3_600_000),
      createdAt: at,
    };
    await store.oauth.createRefreshToken(token);
    const rotations = await Promise.all(
      Array.from({ length: 6 }, (_, n) =>
        store.oauth.rotateRefreshToken('first', {
          ...token,
          tokenHash: `next-${n}`,
          accessTokenId: `jti-${n + 1}`,
        }),
      ),
    );
    expect(rotations.filter(Boolean)).toHaveLength(1);
  });

  it('hands each queued scan to one worker only when workers claim at once', async () => {
    for (let n = 0; n < 6; n++) await store.scans.enqueue(digestOf(`manifest ${n}`), at);
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, n) => store.scans.claim(`worker-${n}`, later(1000), later(61_000))),
    );
    const taken = claims.filter((claim) => claim !== undefined).map((claim) => claim?.digest);
    expect(taken).toHaveLength(6);
    expect(new Set(taken).size).toBe(6);
  });

  it('hands each queued webhook delivery to one worker only when workers claim at once', async () => {
    await seedWebhook(store);
    const queued = Array.from({ length: 6 }, (_, n) => ({
      id: `delivery-${n}`,
      webhookId: 'hook',
      eventId: `event-${n}`,
      eventType: 'push' as const,
      payload: `{"n":${n}}`,
    }));
    await store.webhooks.enqueue(queued, at);
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, n) => store.webhooks.claim(`worker-${n}`, later(1000), later(61_000))),
    );
    const taken = claims.filter((claim) => claim !== undefined).map((claim) => claim?.delivery.id);
    expect(taken).toHaveLength(6);
    expect(new Set(taken).size).toBe(6);
    expect(claims.every((claim) => claim === undefined || claim.attempt === 1)).toBe(true);
  });

  it('records an attempt whose response prefix holds NUL, which PostgreSQL text cannot', async () => {
    await seedWebhook(store);
    await store.webhooks.enqueue(
      [{ id: 'delivery', webhookId: 'hook', eventId: 'event', eventType: 'push', payload: '{}' }],
      at,
    );
    const claim = await store.webhooks.claim('worker', later(1), later(60_000));
    const attempt = {
      attempt: 1,
      startedAt: later(2),
      durationMs: 5,
      statusCode: 200,
      error: undefined,
      responsePrefix: 'ok\u0000binary',
    };
    expect(await store.webhooks.recordAttempt('delivery', 'worker', attempt, { result: 'succeeded' })).toBe(
      true,
    );
    expect(claim?.delivery.id).toBe('delivery');
    const [recorded] = await store.webhooks.deliveryAttempts('delivery');
    expect(recorded?.responsePrefix).toBe('ok\uFFFDbinary');
    expect((await store.webhooks.findDelivery('delivery'))?.status).toBe('succeeded');
  });

  it('never lets the collector mark a blob that a push racing it links', async () => {
    const [image] = (await seed(store, 1)) as [number];
    expect(await store.lifecycle.acquireLease('gc', 'collector', at, later(600_000))).toBe(true);
    for (let round = 0; round < 20; round++) {
      const digest = digestOf(`contested ${round}`);
      // Known to the store and held by nothing: what the collector looks for.
      await store.lifecycle.claimUnknown([{ digest, size: 10 }], 'collector', at);
      await store.lifecycle.forgetDeleted([digest], 'collector');
      await query(url, `INSERT INTO blobs (digest, size) VALUES ('${digest}', 10)`);
      const [link, marked] = await Promise.all([
        store.content.linkBlob(image, digest, 10, later(1)),
        store.lifecycle.markDeleting([digest], 'collector', later(1)),
      ]);
      // Either the push won (the blob is linked and unmarked) or the collector did (the push is told to wait).
      if (link === 'linked') expect(marked).toEqual([]);
      else expect([link, marked]).toEqual(['deleting', [digest]]);
    }
  });

  it('deletes a project with its images and usage, leaving the counters of others alone', async () => {
    const [image] = (await seed(store, 1)) as [number];
    await store.content.linkBlob(image, digestOf('a layer'), 500, at);
    await store.projects.create({
      id: 'other',
      organization: 'default',
      displayName: '',
      description: '',
      storageQuota: undefined,
      createdAt: at,
      updatedAt: at,
    });
    await store.catalog.ensureRepository('other', 'apps', at);
    const otherImage = await store.catalog.ensureImage('other', 'apps', 'other/apps/x', at);
    await store.content.linkBlob(otherImage.id, digestOf('a layer'), 500, at);
    expect(await store.projects.delete('team')).toBe(true);
    expect(await store.catalog.findImage('team/apps/image-0')).toBeUndefined();
    const counters = await query<{ project_id: string; logical_bytes: number }>(
      url,
      'SELECT project_id, logical_bytes FROM project_usage ORDER BY project_id',
    );
    expect(counters.map((row) => [row.project_id, Number(row.logical_bytes)])).toEqual([['other', 500]]);
    await store.images.delete(otherImage.id, { keepTagged: false });
    const [emptied] = await query<{ logical_bytes: number }>(url, 'SELECT logical_bytes FROM project_usage');
    expect(Number(emptied?.logical_bytes)).toBe(0);
  });
});
