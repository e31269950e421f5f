import { Cleanup } from './cleanup.js';
import { mistriveAdmin, type RunningServer, startMistrive, startReference } from './daemons.js';
import { pullImage, pushImage } from './scenarios/many-layers.js';
import { median } from './stats.js';
import { randomImage, type TestImage } from './test-data.js';

/**
 * `npm run bench:remote`: a remote repository (pull-through cache) of the reference registry.
 *   - cached pull: an image pulled through once, pulled again, as a ratio to a pull of the same
 *     image pushed to a local repository of the same daemon (target: about 1);
 *   - cold pull: the first pull through the cache (fetched from upstream while it is stored), as a
 *     ratio to pulling the same image from the upstream directly.
 * Each round uses a fresh image, so the cold pull really is cold; the two sides of each ratio run
 * in alternating order, and the medians of the rounds are reported.
 */

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const layers = Number(process.env.BENCH_LAYERS ?? 8);
const layerBytes = Number(process.env.BENCH_LAYER_MB ?? 16) * 1024 * 1024;
const concurrency = 4;

async function api(server: RunningServer, method: string, path: string, body: object): Promise<void> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${mistriveAdmin.username}:${mistriveAdmin.password}`).toString('base64')}`,
    },
    body: JSON.stringify(body),
  });
  if (response.status >= 300)
    throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
}

/** Runs both, the first one first in even rounds and second in odd ones. */
async function alternately(round: number, first: () => Promise<unknown>, second: () => Promise<unknown>) {
  for (const run of round % 2 === 0 ? [first, second] : [second, first]) await run();
}

async function main(cleanup: Cleanup): Promise<void> {
  cleanup.install();
  const upstream = await startReference(
    cleanup,
    await cleanup.tempDir('mistrive-bench-upstream-'),
    'docker-registry',
  );
  const mistrive = await startMistrive(cleanup, await cleanup.tempDir('mistrive-bench-cache-'));
  await api(mistrive, 'POST', '/api/v1/projects', { projectId: 'bench' });
  await api(mistrive, 'POST', '/api/v1/projects/bench/repositories', { repositoryId: 'local' });
  await api(mistrive, 'POST', '/api/v1/projects/bench/repositories', {
    repositoryId: 'cache',
    remote: { url: upstream.url, prefix: 'library/' },
  });

  const cold: number[] = [];
  const direct: number[] = [];
  const cached: number[] = [];
  const local: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const image: TestImage = randomImage(layers, layerBytes);
    const name = `app${round}`;
    await pushImage(upstream, `library/${name}`, 'v1', image, concurrency);
    await pushImage(mistrive, `bench/local/${name}`, 'v1', image, concurrency);
    const pullCold = async () =>
      cold.push((await pullImage(mistrive, `bench/cache/${name}`, 'v1', image, concurrency)).seconds);
    const pullDirect = async () =>
      direct.push((await pullImage(upstream, `library/${name}`, 'v1', image, concurrency)).seconds);
    // The upstream's page cache is warm for whichever runs second: alternate.
    await alternately(round, pullCold, pullDirect);
    const pullCached = async () =>
      cached.push((await pullImage(mistrive, `bench/cache/${name}`, 'v1', image, concurrency)).seconds);
    const pullLocal = async () =>
      local.push((await pullImage(mistrive, `bench/local/${name}`, 'v1', image, concurrency)).seconds);
    await alternately(round, pullCached, pullLocal);
    const last = (values: number[]) => (values.at(-1) ?? 0).toFixed(3);
    console.error(
      `round ${round + 1}/${rounds}: cold ${last(cold)} s, direct ${last(direct)} s, cached ${last(cached)} s, local ${last(local)} s`,
    );
  }
  const mb = ((layers * layerBytes) / 1e6).toFixed(0);
  const line = (what: string, mine: number[], base: number[], baseName: string) =>
    `${what}: ${median(mine).toFixed(3)} s vs ${baseName} ${median(base).toFixed(3)} s, ratio ${(median(mine) / median(base)).toFixed(2)}`;
  console.log(
    `pull-through cache of docker-registry on loopback, image of ${layers} layers (${mb} MB), ${concurrency} blobs at a time, medians of ${rounds} rounds`,
  );
  console.log(line('cached pull', cached, local, 'the same image pushed to a local repository'));
  console.log(line('cold pull through the cache', cold, direct, 'pulling from the upstream directly'));
}

const cleanup = new Cleanup();
main(cleanup)
  .catch((error: unknown) => {
    if (!cleanup.interrupted) {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exitCode = 2;
    }
  })
  .finally(() => cleanup.run());
