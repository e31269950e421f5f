import { provideTestPostgres, testingOnPostgres } from './postgres.js';

/** Once per run: the PostgreSQL server when the suites run against it. */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  return testingOnPostgres() ? provideTestPostgres() : undefined;
}
