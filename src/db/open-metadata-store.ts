import { join } from 'node:path';
import type { MetadataConfig } from '../config/config.js';
import type { MetadataStore } from './metadata.js';
import { SqliteMetadataStore } from './sqlite/sqlite-metadata-store.js';

/**
 * The metadata store the configuration names: PostgreSQL when a URL is given (its driver is loaded
 * only then), else SQLite in the data directory.
 */
export async function openMetadataStore(config: MetadataConfig, dataDir: string): Promise<MetadataStore> {
  if (config.postgres === undefined) return SqliteMetadataStore.open(join(dataDir, 'metadata.db'));
  const { PostgresMetadataStore } = await import('./postgres/postgres-metadata-store.js');
  return PostgresMetadataStore.open({ url: config.postgres, poolSize: config.poolSize });
}
