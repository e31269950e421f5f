import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import type { MetadataStore } from '../../src/db/metadata.js';
import { openMetadataStore } from '../../src/db/open-metadata-store.js';

/**
 * Running the suites against PostgreSQL. With `MISTRIVE_TEST_METADATA=postgres`, the global setup
 * starts one throwaway PostgreSQL for the whole run (`scripts/postgres-up.sh`), and every registry a
 * test starts keeps its metadata in a schema of its own, named after its data directory: cheap to
 * create, and a daemon restarted on the same data directory finds its metadata again.
 */

/** The variable the global setup hands the server's URL to test workers in. */
const serverVariable = 'MISTRIVE_TEST_POSTGRES_SERVER';

export function testingOnPostgres(): boolean {
  return process.env.MISTRIVE_TEST_METADATA === 'postgres';
}

const scripts = fileURLToPath(new URL('../../scripts/', import.meta.url));
const run = promisify(execFile);

export interface TestPostgres {
  /** `postgres://mistrive:PASSWORD@127.0.0.1:PORT/mistrive` */
  readonly url: string;
  stop(): Promise<void>;
}

/** A throwaway PostgreSQL server on a temporary directory and a free loopback port. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const { stdout } = await run(`${scripts}postgres-up.sh`, [], { encoding: 'utf8' });
  const values = Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const url = values.MISTRIVE_POSTGRES_URL;
  const dir = values.PG_DIR;
  if (!url || !dir) throw new Error(`postgres-up.sh printed no URL:\n${stdout}`);
  return {
    url,
    async stop() {
      await run(`${scripts}postgres-down.sh`, [dir]);
    },
  };
}

/** The vitest global setup's part: starts the server and hands its URL to the test workers. */
export async function provideTestPostgres(): Promise<() => Promise<void>> {
  const server = await startTestPostgres();
  // Test workers are started after the global setup, with its environment.
  process.env[serverVariable] = server.url;
  return () => server.stop();
}

/** The URL of `server` with `schema` (created if missing) as the only schema its connections use. */
export async function schemaUrl(server: string, schema: string): Promise<string> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await client.end();
  }
  return `${server}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/**
 * The metadata URL of the registry using `dataDir`: the shared test server, in the schema of that
 * data directory (created on first use).
 */
export async function postgresUrlFor(dataDir: string): Promise<string> {
  const server = process.env[serverVariable];
  if (!server)
    throw new Error(`${serverVariable} is not set: run the suite with MISTRIVE_TEST_METADATA=postgres`);
  return schemaUrl(server, `registry_${createHash('sha256').update(dataDir).digest('hex').slice(0, 24)}`);
}

/** Metadata overrides for a test registry on `dataDir`: none on SQLite. */
export async function testMetadata(dataDir: string): Promise<{ postgres: string } | undefined> {
  return testingOnPostgres() ? { postgres: await postgresUrlFor(dataDir) } : undefined;
}

/** Environment for a daemon on `dataDir`: MISTRIVE_POSTGRES_URL when the suite runs on PostgreSQL. */
export async function testMetadataEnv(dataDir: string): Promise<NodeJS.ProcessEnv> {
  return testingOnPostgres() ? { MISTRIVE_POSTGRES_URL: await postgresUrlFor(dataDir) } : {};
}

/** Where the metadata of the registry on `dataDir` is: its SQLite file, or its PostgreSQL URL. */
export async function testMetadataLocation(dataDir: string): Promise<string> {
  return testingOnPostgres() ? postgresUrlFor(dataDir) : join(dataDir, 'metadata.db');
}

/** The metadata store of the registry on `dataDir`, opened beside it as another instance would. */
export async function openTestMetadataStore(dataDir: string): Promise<MetadataStore> {
  const postgres = testingOnPostgres() ? await postgresUrlFor(dataDir) : undefined;
  return openMetadataStore({ postgres, poolSize: 4 }, dataDir);
}

/** Runs one SQL statement on the metadata of the registry on `dataDir`: the rows it returns. */
export async function queryTestMetadata(dataDir: string, text: string): Promise<Record<string, unknown>[]> {
  if (testingOnPostgres()) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: await postgresUrlFor(dataDir) });
    await client.connect();
    try {
      return (await client.query(text)).rows;
    } finally {
      await client.end();
    }
  }
  const db = new Database(join(dataDir, 'metadata.db'));
  try {
    const statement = db.prepare(text);
    if (!statement.reader) {
      statement.run();
      return [];
    }
    return statement.all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}
