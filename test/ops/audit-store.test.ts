import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditStore, NewAuditEntry } from '../../src/db/audit.js';
import type { MetadataStore } from '../../src/db/metadata.js';
import { SqliteMetadataStore } from '../../src/db/sqlite/sqlite-metadata-store.js';
import { tempDir } from '../support/temp.js';

const at = (minutes: number) => new Date(Date.UTC(2030, 0, 1) + minutes * 60_000);

const entry = (minutes: number, changes: Partial<NewAuditEntry> = {}): NewAuditEntry => ({
  at: at(minutes),
  actor: 'user:admin',
  client: '127.0.0.1',
  action: 'createProject',
  resource: 'projects/shop',
  outcome: 'success',
  details: undefined,
  ...changes,
});

/** Every metadata store implements the audit store alike: add a row here for each implementation. */
const stores: { name: string; open: (dir: string) => Promise<MetadataStore> }[] = [
  { name: 'SQLite', open: async (dir) => SqliteMetadataStore.open(join(dir, 'metadata.db')) },
];

describe.each(stores)('the audit store ($name)', ({ open }) => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let store: MetadataStore;
  let audit: AuditStore;

  beforeEach(async () => {
    dir = await tempDir();
    store = await open(dir.path);
    audit = store.audit;
    await audit.append(entry(0));
    await audit.append(entry(1, { resource: 'projects/shop/repositories/apps', action: 'createRepository' }));
    await audit.append(
      entry(2, { resource: 'projects/shop_x', details: { member: 'user:a@x', role: 'viewer' } }),
    );
    await audit.append(
      entry(3, {
        actor: 'user:bob@example.com',
        action: 'signIn',
        resource: 'user:bob@example.com',
        outcome: 'failed',
      }),
    );
    await audit.append(entry(4, { resource: 'projects/shopping' }));
  });
  afterEach(async () => {
    await store.close();
    await dir.remove();
  });

  it('reads newest first, a page at a time', async () => {
    const first = await audit.list({}, undefined, 2);
    expect(first.more).toBe(true);
    expect(first.items.map((item) => item.at)).toEqual([at(4), at(3)]);
    const rest = await audit.list({}, first.items.at(-1)?.id, 10);
    expect(rest.more).toBe(false);
    expect(rest.items.map((item) => item.at)).toEqual([at(2), at(1), at(0)]);
    expect(rest.items[0]?.details).toEqual({ member: 'user:a@x', role: 'viewer' });
    expect(rest.items[1]?.details).toBeUndefined();
  });

  it('filters by time, actor, action, and a resource with what is below it (taken literally)', async () => {
    const resources = async (resource: string) =>
      (await audit.list({ resource }, undefined, 10)).items.map((item) => item.resource);
    expect(await resources('projects/shop')).toEqual(['projects/shop/repositories/apps', 'projects/shop']);
    // `_` is a LIKE wildcard: given literally it matches only itself.
    expect(await resources('projects/shop_x')).toEqual(['projects/shop_x']);
    expect(await resources('projects/sho_')).toEqual([]);
    expect(await resources('projects/%')).toEqual([]);
    expect((await audit.list({ actor: 'user:bob@example.com' }, undefined, 10)).items).toHaveLength(1);
    expect((await audit.list({ action: 'createRepository' }, undefined, 10)).items).toHaveLength(1);
    expect((await audit.list({ since: at(3) }, undefined, 10)).items.map((item) => item.at)).toEqual([
      at(4),
      at(3),
    ]);
    expect(
      (await audit.list({ since: at(1), actor: 'user:admin', resource: 'projects/shop' }, undefined, 10))
        .items,
    ).toHaveLength(1);
  });

  it('prunes entries older than a time, and says how many went', async () => {
    expect(await audit.pruneBefore(at(2))).toBe(2);
    expect((await audit.list({}, undefined, 10)).items.map((item) => item.at)).toEqual([at(4), at(3), at(2)]);
    expect(await audit.pruneBefore(at(2))).toBe(0);
  });
});
