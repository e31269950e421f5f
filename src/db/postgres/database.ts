import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { schema } from './schema.js';

/**
 * The PostgreSQL connection pool, its statements and its transactions.
 *
 * Every transaction runs SERIALIZABLE: the SQLite store relies on being the only writer (each of its
 * transactions sees nothing change under it), and serializable isolation gives exactly that
 * guarantee across instances. A transaction PostgreSQL aborts to keep it (a serialization failure or
 * a deadlock) is run again from the start, so callers never see those aborts.
 */

/** A statement with `@name` parameters compiled to PostgreSQL's `$n`; named ones are prepared once per connection. */
export interface Statement {
  readonly name: string | undefined;
  readonly text: string;
  readonly parameters: readonly string[];
}

/**
 * Compiles `@name` parameters to `$1…`. With a `name`, the statement is prepared on each connection
 * the first time it runs there and only executed afterwards: worth it on the hot paths.
 */
export function sql(text: string, name?: string): Statement {
  const parameters: string[] = [];
  const compiled = text.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, parameter: string) => {
    let index = parameters.indexOf(parameter);
    if (index < 0) index = parameters.push(parameter) - 1;
    return `$${index + 1}`;
  });
  return { name, text: compiled, parameters };
}

export type Parameters = Readonly<Record<string, unknown>>;

/** A connection to run statements on: the pool, or the client of a transaction. */
export interface Queryable {
  rows<T extends QueryResultRow>(statement: Statement, parameters?: Parameters): Promise<T[]>;
  row<T extends QueryResultRow>(statement: Statement, parameters?: Parameters): Promise<T | undefined>;
  /** The number of rows the statement changed. */
  run(statement: Statement, parameters?: Parameters): Promise<number>;
}

type Runner = Pick<PoolClient, 'query'>;

function queryable(runner: Runner): Queryable {
  const execute = <T extends QueryResultRow>(statement: Statement, parameters: Parameters = {}) => {
    const values = statement.parameters.map((name) => {
      if (!(name in parameters)) throw new Error(`statement parameter @${name} was not given`);
      return parameters[name];
    });
    return runner.query<T>(
      statement.name === undefined
        ? { text: statement.text, values }
        : { name: statement.name, text: statement.text, values },
    );
  };
  return {
    async rows<T extends QueryResultRow>(statement: Statement, parameters?: Parameters) {
      return (await execute<T>(statement, parameters)).rows;
    },
    async row<T extends QueryResultRow>(statement: Statement, parameters?: Parameters) {
      const { rows } = await execute<T>(statement, parameters);
      return rows[0] as T | undefined;
    },
    async run(statement, parameters) {
      return (await execute(statement, parameters)).rowCount ?? 0;
    },
  };
}

const queueStatements = {
  lock: { name: 'queue.lock', text: 'SELECT pg_advisory_lock(hashtextextended($1, 0))' },
  unlock: { name: 'queue.unlock', text: 'SELECT pg_advisory_unlock(hashtextextended($1, 0))' },
};

/** SQLSTATEs of aborts that running the transaction again resolves. */
const retryable = new Set(['40001', '40P01']);
const maxAttempts = 30;

export class PostgresDatabase implements Queryable {
  private readonly pool: Queryable;

  constructor(private readonly connections: Pool) {
    this.pool = queryable(connections);
  }

  /** A single statement commits on its own (serializable too); retried when PostgreSQL aborts it. */
  rows<T extends QueryResultRow>(statement: Statement, parameters?: Parameters): Promise<T[]> {
    return this.retrying(() => this.pool.rows<T>(statement, parameters));
  }

  row<T extends QueryResultRow>(statement: Statement, parameters?: Parameters): Promise<T | undefined> {
    return this.retrying(() => this.pool.row<T>(statement, parameters));
  }

  run(statement: Statement, parameters?: Parameters): Promise<number> {
    return this.retrying(() => this.pool.run(statement, parameters));
  }

  /**
   * Runs `work` in one serializable transaction on one connection, from the start again when
   * PostgreSQL aborts it to keep the transactions serializable. `work` must have no effect outside
   * the database: it may run more than once.
   *
   * With `queueOn`, transactions naming the same key run one after another, in every instance: for
   * writes that all update one row (a project's usage counter), which would otherwise abort each
   * other over and over. The advisory lock is taken before the transaction starts, so it waits
   * holding nothing, and its snapshot is taken once the one before has committed.
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>, options: { queueOn?: string } = {}): Promise<T> {
    const { queueOn } = options;
    return this.retrying(async () => {
      const client = await this.connections.connect();
      let broken = false;
      try {
        if (queueOn !== undefined) await client.query(queueStatements.lock, [queueOn]);
        try {
          await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
          try {
            const result = await work(queryable(client));
            await client.query('COMMIT');
            return result;
          } catch (error) {
            await client.query('ROLLBACK').catch(() => {
              broken = true;
            });
            throw error;
          }
        } finally {
          if (queueOn !== undefined && !broken) {
            await client.query(queueStatements.unlock, [queueOn]).catch(() => {
              broken = true;
            });
          }
        }
      } finally {
        // A connection whose state is unknown is closed, which also lets go of its advisory lock.
        client.release(broken);
      }
    });
  }

  async close(): Promise<void> {
    await this.connections.end();
  }

  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let made = 1; ; made++) {
      try {
        return await attempt();
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (made >= maxAttempts || typeof code !== 'string' || !retryable.has(code)) throw error;
        // Random backoff, growing a little with each attempt, so the transactions that collided part ways.
        const ceiling = Math.min(2 ** Math.min(made, 6), 50);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
  }
}

/** The URL with its password replaced, fit for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '*****';
    return parsed.toString();
  } catch {
    return 'postgres://(an invalid URL)';
  }
}

/** An error from connecting or migrating, its message free of the password. */
export class PostgresUnavailable extends Error {
  override name = 'PostgresUnavailable';
}

export interface PostgresOptions {
  readonly url: string;
  /** Connections the pool keeps open at most. */
  readonly poolSize: number;
}

/**
 * Opens the pool (loading `pg` only now: SQLite deployments never pay for it) and brings the schema
 * up to date. The schema is migrated by whichever instance gets there first, under an advisory lock;
 * the others wait for it and find nothing left to do.
 */
export async function openPostgres(options: PostgresOptions): Promise<PostgresDatabase> {
  const { default: pg } = await import('pg');
  // bigint (counts, sizes, milliseconds) and numeric (sums) as numbers: every value here fits in 2^53.
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === pg.types.builtins.INT8 || oid === pg.types.builtins.NUMERIC) return Number;
      return pg.types.getTypeParser(oid, format);
    },
  };
  const pool = new pg.Pool({ connectionString: serializable(options.url), max: options.poolSize, types });
  // An idle connection that breaks (the server restarted) is dropped by the pool; without a listener the error would be thrown.
  pool.on('error', () => {});
  const database = new PostgresDatabase(pool);
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end().catch(() => {});
    const message = (error as Error).message.replaceAll(options.url, redactUrl(options.url));
    throw new PostgresUnavailable(
      `cannot open the PostgreSQL metadata store at ${redactUrl(options.url)}: ${message}`,
    );
  }
  return database;
}

/**
 * The URL with every transaction of its connections serializable by default, single statements
 * too: a conditional write that reads other tables (a collector marking a blob nothing links) must
 * see a push racing it, as SQLite's one writer would. Server options the URL sets are kept.
 */
function serializable(url: string): string {
  if (!URL.canParse(url))
    throw new PostgresUnavailable('the PostgreSQL metadata store URL is not a valid URL');
  const parsed = new URL(url);
  const options = parsed.searchParams.get('options');
  const isolation = '-c default_transaction_isolation=serializable';
  parsed.searchParams.set('options', options ? `${options} ${isolation}` : isolation);
  return parsed.toString();
}

/** Any number: it only has to be the same in every instance and used for nothing else. */
const migrationLock = 0x6d697374;

async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [migrationLock]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const { rows } = await client.query<{ version: number | null }>(
        'SELECT max(version) AS version FROM schema_migrations',
      );
      const current = rows[0]?.version ?? 0;
      if (current > schema.length) {
        throw new Error(
          `the metadata database is at schema version ${current}, newer than this mistrive (${schema.length}): upgrade mistrive`,
        );
      }
      for (let version = current; version < schema.length; version++) {
        await client.query('BEGIN');
        try {
          await client.query(schema[version] ?? '');
          await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version + 1]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [migrationLock]);
    }
  } finally {
    client.release();
  }
}
