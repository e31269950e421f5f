import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  adminClient,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  grant,
  type Json,
} from '../support/api-client.js';
import { FakeClock } from '../support/fake-clock.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { pushIndex, pushUniqueImage } from '../support/unique-images.js';
import { waitFor } from '../support/wait.js';

const day = 86_400_000;
const clock = new FakeClock();
let registry: TestRegistry;
let admin: ApiClient;
let repositoryCount = 0;

beforeAll(async () => {
  // The schedule is left to its own test: here every run is asked for.
  // Access tokens that outlive the days the fake clock moves on; the schedule is left to its own test.
  registry = await startTestRegistry(
    { cleanup: { interval: '0s' }, auth: { accessTokenTtl: '3650d' } },
    { clock },
  );
  admin = await adminClient(registry.url);
  await createProject(admin, 'lab');
});
afterAll(() => registry.close());

const repoPath = (repository: string) => `/api/v1/projects/lab/repositories/${repository}`;

/** A fresh repository with these policies, out of dry run unless asked. */
async function repositoryWith(policies: Json[], extra: object = {}): Promise<string> {
  const id = `r${++repositoryCount}`;
  await createRepository(admin, 'lab', id, { cleanupPolicies: policies, cleanupDryRun: false, ...extra });
  return id;
}

const push = (repository: string, image: string, tag?: string) =>
  pushUniqueImage(registry.url, `lab/${repository}/${image}`, tag);

async function cleanup(repository: string, body: object = {}): Promise<Json> {
  return admin.ok('POST', `${repoPath(repository)}/cleanup`, body, 200);
}

/** The digests the repository's image still holds. */
async function digestsOf(repository: string, image: string): Promise<string[]> {
  const response = await admin.get(`${repoPath(repository)}/images/${encodeURIComponent(image)}/digests`);
  if (response.status === 404) return [];
  expect(response.status, response.text).toBe(200);
  return (response.body.digests as { digest: string }[]).map((d) => d.digest).sort();
}

const sorted = (...digests: string[]) => [...digests].sort();
const deletePolicy = (name: string, condition: object) => ({ name, action: { type: 'Delete' }, condition });
const keepPolicy = (name: string, rule: object) => ({ name, action: { type: 'Keep' }, ...rule });

describe('each condition of a Delete policy', () => {
  it('olderThan deletes what was pushed longer ago than the duration, and nothing newer', async () => {
    const repo = await repositoryWith([deletePolicy('old', { tagState: 'any', olderThan: '7d' })]);
    const old = await push(repo, 'app', 'v1');
    clock.advance(6 * day);
    const recent = await push(repo, 'app', 'v2');
    clock.advance(2 * day);
    const run = await cleanup(repo);
    expect(run.items.map((item: Json) => item.digest)).toEqual([old.digest]);
    expect(run.items[0]).toMatchObject({ image: 'app', tags: ['v1'], policies: ['old'], outcome: 'deleted' });
    expect(await digestsOf(repo, 'app')).toEqual([recent.digest]);
  });

  it('newerThan deletes only what was pushed within the duration', async () => {
    const repo = await repositoryWith([deletePolicy('fresh', { newerThan: '1d' })]);
    const old = await push(repo, 'app', 'v1');
    clock.advance(3 * day);
    await push(repo, 'app', 'v2');
    await cleanup(repo);
    expect(await digestsOf(repo, 'app')).toEqual([old.digest]);
  });

  it('olderThan and newerThan together delete a window of ages', async () => {
    const repo = await repositoryWith([deletePolicy('window', { olderThan: '2d', newerThan: '10d' })]);
    const ancient = await push(repo, 'app');
    clock.advance(5 * day);
    const middle = await push(repo, 'app');
    clock.advance(5 * day);
    const recent = await push(repo, 'app');
    clock.advance(1 * day);
    const run = await cleanup(repo);
    expect(run.items.map((item: Json) => item.digest)).toEqual([middle.digest]);
    expect(await digestsOf(repo, 'app')).toEqual(sorted(ancient.digest, recent.digest));
  });

  it('tagState untagged deletes digests without tags and tagged ones stay', async () => {
    const repo = await repositoryWith([deletePolicy('untagged', { tagState: 'untagged' })]);
    const tagged = await push(repo, 'app', 'v1');
    await push(repo, 'app');
    await cleanup(repo);
    expect(await digestsOf(repo, 'app')).toEqual([tagged.digest]);
  });

  it('tagState tagged deletes digests with tags, and takes the uppercase spelling of other registries', async () => {
    const repo = await repositoryWith([deletePolicy('tagged', { tagState: 'TAGGED' })]);
    await push(repo, 'app', 'v1');
    const untagged = await push(repo, 'app');
    await cleanup(repo);
    expect(await digestsOf(repo, 'app')).toEqual([untagged.digest]);
    const stored = await admin.ok('GET', repoPath(repo));
    expect(stored.cleanupPolicies[0].condition.tagState).toBe('tagged');
  });

  it('tagPrefixes deletes a digest one of whose tags starts with a prefix, with all its tags', async () => {
    const repo = await repositoryWith([deletePolicy('pr', { tagState: 'tagged', tagPrefixes: ['pr-'] })]);
    const pr = await push(repo, 'app', 'pr-12');
    await admin.ok('PUT', `${repoPath(repo)}/images/app/tags/also`, { digest: pr.digest });
    const release = await push(repo, 'app', 'v1.0');
    const untagged = await push(repo, 'app');
    const run = await cleanup(repo);
    expect(run.items).toEqual([
      { image: 'app', digest: pr.digest, tags: ['also', 'pr-12'], policies: ['pr'], outcome: 'deleted' },
    ]);
    expect(await digestsOf(repo, 'app')).toEqual(sorted(release.digest, untagged.digest));
  });

  it('imageNamePrefixes limits a policy to the images whose name inside the repository starts with one', async () => {
    const repo = await repositoryWith([
      deletePolicy('web', { tagState: 'any', imageNamePrefixes: ['web/'] }),
    ]);
    await push(repo, 'web/frontend', 'v1');
    const api = await push(repo, 'api', 'v1');
    const webby = await push(repo, 'webhook', 'v1');
    await cleanup(repo);
    expect(await digestsOf(repo, 'web/frontend')).toEqual([]);
    expect(await digestsOf(repo, 'api')).toEqual([api.digest]);
    expect(await digestsOf(repo, 'webhook')).toEqual([webby.digest]);
  });
});

describe('Keep policies', () => {
  it('win over Delete policies: a digest both match stays', async () => {
    const repo = await repositoryWith([
      deletePolicy('everything-old', { tagState: 'any', olderThan: '1d' }),
      keepPolicy('releases', { condition: { tagPrefixes: ['v'] } }),
    ]);
    const release = await push(repo, 'app', 'v1');
    await push(repo, 'app', 'nightly');
    clock.advance(2 * day);
    const run = await cleanup(repo);
    expect(run.items).toHaveLength(1);
    expect(await digestsOf(repo, 'app')).toEqual([release.digest]);
  });

  it('mostRecentVersions keeps the newest keepCount digests of each image', async () => {
    const repo = await repositoryWith([
      deletePolicy('all', { tagState: 'any' }),
      keepPolicy('recent', { mostRecentVersions: { keepCount: 2 } }),
    ]);
    const pushed: string[] = [];
    for (let i = 0; i < 4; i++) {
      pushed.push((await push(repo, 'app', `b${i}`)).digest);
      clock.advance(60_000);
    }
    const [first = '', second = '', third = '', fourth = ''] = pushed;
    const other = await push(repo, 'tool', 'only');
    const run = await cleanup(repo);
    expect(run.items.map((item: Json) => item.digest).sort()).toEqual(sorted(first, second));
    expect(await digestsOf(repo, 'app')).toEqual(sorted(third, fourth));
    expect(await digestsOf(repo, 'tool')).toEqual([other.digest]);
  });

  it('mostRecentVersions with imageNamePrefixes keeps only in the images it names', async () => {
    const repo = await repositoryWith([
      deletePolicy('all', { tagState: 'any' }),
      keepPolicy('recent-api', { mostRecentVersions: { keepCount: 1, imageNamePrefixes: ['api'] } }),
    ]);
    await push(repo, 'api', 'old');
    clock.advance(60_000);
    const newest = await push(repo, 'api', 'new');
    await push(repo, 'web', 'new');
    await cleanup(repo);
    expect(await digestsOf(repo, 'api')).toEqual([newest.digest]);
    expect(await digestsOf(repo, 'web')).toEqual([]);
  });
});

describe('what policies never delete', () => {
  it('a digest an index still lists stays while the index is kept, and goes with it', async () => {
    const repo = await repositoryWith([deletePolicy('untagged', { tagState: 'untagged' })]);
    const amd = await push(repo, 'multi');
    const arm = await push(repo, 'multi');
    const index = await pushIndex(registry.url, `lab/${repo}/multi`, 'v1', [amd, arm]);
    const stray = await push(repo, 'multi');
    const run = await cleanup(repo);
    expect(run.items.map((item: Json) => item.digest)).toEqual([stray.digest]);
    expect(await digestsOf(repo, 'multi')).toEqual(sorted(amd.digest, arm.digest, index.digest));

    // Once a policy lets the index go too, the index is deleted first and its images after it.
    await admin.ok('PATCH', repoPath(repo), {
      cleanupPolicies: [
        deletePolicy('untagged', { tagState: 'untagged' }),
        deletePolicy('v1', { tagPrefixes: ['v1'] }),
      ],
    });
    const second = await cleanup(repo);
    expect(second.items.map((item: Json) => item.digest)[0]).toBe(index.digest);
    expect(second.items.every((item: Json) => item.outcome === 'deleted')).toBe(true);
    expect(await digestsOf(repo, 'multi')).toEqual([]);
  });

  it('a tagged digest in a repository with immutable tags', async () => {
    const repo = await repositoryWith([deletePolicy('all', { tagState: 'any' })], { immutableTags: true });
    const tagged = await push(repo, 'app', 'v1');
    await push(repo, 'app');
    const run = await cleanup(repo);
    expect(run.items).toHaveLength(1);
    expect(await digestsOf(repo, 'app')).toEqual([tagged.digest]);
  });
});

describe('dry run', () => {
  it('is the default for a new repository: it records what would go and the bytes, and deletes nothing', async () => {
    const repo = `r${++repositoryCount}`;
    const created = await createRepository(admin, 'lab', repo, {
      cleanupPolicies: [deletePolicy('untagged', { tagState: 'untagged' })],
    });
    expect(created.cleanupDryRun).toBe(true);
    const kept = await push(repo, 'app', 'v1');
    const doomed = await push(repo, 'app');
    const run = await cleanup(repo);
    expect(run).toMatchObject({ dryRun: true, deleted: 1, freedBytes: doomed.ownBytes });
    expect(run.items).toEqual([
      { image: 'app', digest: doomed.digest, tags: [], policies: ['untagged'], outcome: 'would-delete' },
    ]);
    expect(await digestsOf(repo, 'app')).toEqual(sorted(kept.digest, doomed.digest));
    expect(await admin.ok('GET', `${repoPath(repo)}/cleanup`)).toEqual(run);

    // Asked for explicitly, the same policies delete, and free what the dry run said.
    const real = await cleanup(repo, { dryRun: false });
    expect(real).toMatchObject({ dryRun: false, deleted: 1, freedBytes: doomed.ownBytes });
    expect(await digestsOf(repo, 'app')).toEqual([kept.digest]);
  });

  it('counts shared bytes as freed only when nothing kept still needs them', async () => {
    const repo = await repositoryWith([deletePolicy('untagged', { tagState: 'untagged' })], {
      cleanupDryRun: true,
    });
    const shared = Buffer.alloc(5000, 7);
    const kept = await pushUniqueImage(registry.url, `lab/${repo}/app`, 'v1', { shared: [shared] });
    const doomed = await pushUniqueImage(registry.url, `lab/${repo}/app`, undefined, { shared: [shared] });
    expect((await cleanup(repo)).freedBytes).toBe(doomed.ownBytes);
    await admin.ok('DELETE', `${repoPath(repo)}/images/app/digests/${kept.digest}`, undefined, 204);
    expect((await cleanup(repo)).freedBytes).toBe(doomed.ownBytes + shared.length);
  });

  it('--dry-run on a repository that deletes only reports', async () => {
    const repo = await repositoryWith([deletePolicy('untagged', { tagState: 'untagged' })]);
    const doomed = await push(repo, 'app');
    const run = await cleanup(repo, { dryRun: true });
    expect(run.dryRun).toBe(true);
    expect(await digestsOf(repo, 'app')).toEqual([doomed.digest]);
  });
});

describe('policy files are validated at the edge', () => {
  const cases: [string, Json, RegExp][] = [
    [
      'a bad duration',
      [deletePolicy('x', { olderThan: '7 days' })],
      /cleanupPolicies\.0\.condition\.olderThan.*not a duration/,
    ],
    [
      'an unknown action',
      [{ name: 'x', action: { type: 'Purge' }, condition: { tagState: 'any' } }],
      /cleanupPolicies\.0\.action\.type/,
    ],
    [
      'an unknown condition field',
      [deletePolicy('x', { tagPrefix: ['a'] })],
      /cleanupPolicies\.0\.condition\.tagPrefix.*not a known field/,
    ],
    [
      'a Delete policy without a condition',
      [{ name: 'x', action: { type: 'Delete' } }],
      /cleanupPolicies\.0\.condition.*needs a condition/,
    ],
    [
      'mostRecentVersions on a Delete policy',
      [{ ...deletePolicy('x', { tagState: 'any' }), mostRecentVersions: { keepCount: 1 } }],
      /cleanupPolicies\.0\.mostRecentVersions/,
    ],
    [
      'a Keep policy with both',
      [keepPolicy('x', { condition: { tagState: 'any' }, mostRecentVersions: { keepCount: 1 } })],
      /cleanupPolicies\.0\.mostRecentVersions.*either/,
    ],
    [
      'tagPrefixes on untagged',
      [deletePolicy('x', { tagState: 'untagged', tagPrefixes: ['a'] })],
      /cleanupPolicies\.0\.condition\.tagState/,
    ],
    [
      'a window that matches nothing',
      [deletePolicy('x', { olderThan: '30d', newerThan: '7d' })],
      /cleanupPolicies\.0\.condition\.newerThan/,
    ],
    [
      'a keepCount of 0',
      [keepPolicy('x', { mostRecentVersions: { keepCount: 0 } })],
      /cleanupPolicies\.0\.mostRecentVersions\.keepCount/,
    ],
    [
      'two policies of one name',
      [deletePolicy('x', { tagState: 'any' }), deletePolicy('x', { tagState: 'any' })],
      /cleanupPolicies\.1\.name.*two policies/,
    ],
    [
      'a bad tag state',
      [deletePolicy('x', { tagState: 'sometimes' })],
      /cleanupPolicies\.0\.condition\.tagState/,
    ],
  ];
  it.each(cases)('refuses %s with 400 naming the field', async (_what, policies, message) => {
    const repo = await repositoryWith([]);
    const response = await admin.patch(repoPath(repo), { cleanupPolicies: policies });
    expectApiError(response, 400, 'INVALID_ARGUMENT', message);
    expect((await admin.ok('GET', repoPath(repo))).cleanupPolicies).toEqual([]);
  });
});

describe('who may run cleanup', () => {
  it('takes the owner role to run, and the viewer role to read the last run', async () => {
    const repo = await repositoryWith([deletePolicy('untagged', { tagState: 'untagged' })], {
      cleanupDryRun: true,
    });
    const carol = await createUser(admin, 'carol@example.com');
    await grant(admin, repoPath(repo), 'user:carol@example.com', 'viewer');
    expectApiError(await carol.get(`${repoPath(repo)}/cleanup`), 404, 'NOT_FOUND', /has not run/);
    expectApiError(await carol.post(`${repoPath(repo)}/cleanup`, {}), 403, 'DENIED', /owner/);
    await cleanup(repo);
    expect((await carol.get(`${repoPath(repo)}/cleanup`)).status).toBe(200);
  });
});

describe('the schedule', () => {
  it('evaluates every repository with policies on cleanup.interval, in dry run only recording', async () => {
    const scheduled = await startTestRegistry({ cleanup: { interval: '200ms' } });
    try {
      const client = await adminClient(scheduled.url);
      await createProject(client, 'timed');
      const policies = [deletePolicy('untagged', { tagState: 'untagged' })];
      await createRepository(client, 'timed', 'dry', { cleanupPolicies: policies });
      await createRepository(client, 'timed', 'live', { cleanupPolicies: policies, cleanupDryRun: false });
      const dry = await pushUniqueImage(scheduled.url, 'timed/dry/app', undefined);
      await pushUniqueImage(scheduled.url, 'timed/live/app', undefined);
      const lastRun = async (repository: string, digest: string) => {
        const response = await client.get(`/api/v1/projects/timed/repositories/${repository}/cleanup`);
        return response.status === 200 && response.body.items.some((item: Json) => item.digest === digest)
          ? response.body
          : undefined;
      };
      const dryRun = await waitFor('a scheduled dry run', () => lastRun('dry', dry.digest), 20_000, 50);
      expect(dryRun).toMatchObject({ dryRun: true, freedBytes: dry.ownBytes });
      const digests = async (repository: string): Promise<Json[]> =>
        (await client.get(`/api/v1/projects/timed/repositories/${repository}/images/app/digests`)).body
          .digests;
      // Each pass records itself as the last run, so the deleting one is soon followed by an empty one.
      await waitFor(
        'a scheduled delete',
        async () => ((await digests('live')).length === 0 ? true : undefined),
        20_000,
        50,
      );
      expect((await client.ok('GET', '/api/v1/projects/timed/repositories/live/cleanup')).dryRun).toBe(false);
      expect((await digests('dry')).map((d) => d.digest)).toEqual([dry.digest]);
    } finally {
      await scheduled.close();
    }
  });
});
