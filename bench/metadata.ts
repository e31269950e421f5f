import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadServeConfig } from '../src/config/config.js';
import { startRegistry } from '../src/server/app.js';

/**
 * `npm run bench:metadata [TAGS] [ROUNDS]`: the same push of TAGS tags (5,000 by default), each a
 * manifest of its own over one shared layer, into a registry on SQLite and one on PostgreSQL (a
 * throwaway server on loopback, started by scripts/postgres-up.sh), rounds alternated; prints the
 * medians and the PostgreSQL/SQLite ratio.
 */

const run = promisify(execFile);
const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const password = 'bench-password-123';
const concurrency = 8;

async function pushTags(tags: number, postgres: string | undefined): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), 'mistrive-bench-metadata-'));
  const config = loadServeConfig(
    undefined,
    {
      port: 0,
      // Errors only: a failed request is told with its cause.
      logLevel: 'error',
      dataDir: root,
      autoCreateRepositories: true,
      gc: { interval: '0s' },
      metadata: { postgres, poolSize: 10 },
    },
    { MISTRIVE_ADMIN_PASSWORD: password },
  );
  const registry = await startRegistry(config);
  try {
    const response = await fetch(`${registry.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'mistrive-cli',
        username: 'admin',
        password,
      }),
    });
    const auth = {
      authorization: `Bearer ${((await response.json()) as { access_token: string }).access_token}`,
    };
    const base = `${registry.url}/v2/bench/tags/app`;
    const layer = randomBytes(4096);
    const upload = async (bytes: Buffer) => {
      const put = await fetch(`${base}/blobs/uploads/?digest=${sha(bytes)}`, {
        method: 'POST',
        headers: auth,
        body: bytes,
      });
      if (put.status !== 201) throw new Error(`blob push answered ${put.status}`);
    };
    await upload(layer);
    let next = 0;
    const started = performance.now();
    const pusher = async () => {
      for (let i = next++; i < tags; i = next++) {
        const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag: i }));
        await upload(config);
        const manifest = JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: {
            mediaType: 'application/vnd.oci.image.config.v1+json',
            digest: sha(config),
            size: config.length,
          },
          layers: [
            { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(layer), size: layer.length },
          ],
        });
        const put = await fetch(`${base}/manifests/v${i}`, {
          method: 'PUT',
          headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
          body: manifest,
        });
        if (put.status !== 201) throw new Error(`manifest push answered ${put.status}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, pusher));
    const seconds = (performance.now() - started) / 1000;
    const list = await fetch(`${base}/tags/list?n=100000`, { headers: auth });
    const listed = ((await list.json()) as { tags: string[] }).tags.length;
    if (listed !== tags) throw new Error(`${listed} tags listed after pushing ${tags}`);
    return seconds;
  } finally {
    await registry.close();
    await rm(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const tags = Number(process.argv[2] ?? 5000);
  const rounds = Number(process.argv[3] ?? 3);
  const scripts = fileURLToPath(new URL('../scripts/', import.meta.url));
  const { stdout } = await run(`${scripts}postgres-up.sh`, [], { encoding: 'utf8' });
  const env = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
  try {
    const sqlite: number[] = [];
    const postgres: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternated, so drift in the machine's load falls on both sides.
      sqlite.push(await pushTags(tags, undefined));
      // A database of its own per round: every round starts empty.
      const database = `bench_${round}`;
      await run('psql', [env.MISTRIVE_POSTGRES_URL ?? '', '-qc', `CREATE DATABASE ${database}`]);
      postgres.push(
        await pushTags(tags, (env.MISTRIVE_POSTGRES_URL ?? '').replace(/\/mistrive$/, `/${database}`)),
      );
      console.error(
        `round ${round + 1}: SQLite ${sqlite.at(-1)?.toFixed(1)} s, PostgreSQL ${postgres.at(-1)?.toFixed(1)} s`,
      );
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const [onSqlite, onPostgres] = [median(sqlite), median(postgres)];
    console.log(`${tags}-tag push, ${concurrency} clients, medians of ${rounds} round(s):`);
    console.log(`  SQLite      ${onSqlite.toFixed(1)} s (${(tags / onSqlite).toFixed(0)} tags/s)`);
    console.log(`  PostgreSQL  ${onPostgres.toFixed(1)} s (${(tags / onPostgres).toFixed(0)} tags/s)`);
    console.log(`  ratio PostgreSQL / SQLite: ${(onPostgres / onSqlite).toFixed(2)}`);
  } finally {
    await run(`${scripts}postgres-down.sh`, [env.PG_DIR ?? '']);
  }
}

await main();
