import type { CleanupPolicies } from '../../cleanup/policy.js';
import type { RemoteSettings } from '../remotes.js';
import type { ProjectRecord, RepositoryRecord } from '../resources.js';
import { type Flag, fromJson, isSet } from './values.js';

/** Projects' and repositories' rows and their records, shared by the SQLite and PostgreSQL stores. */

export interface ProjectRow {
  id: string;
  organization_id: string;
  display_name: string;
  description: string;
  storage_quota: number | null;
  created_at: number;
  updated_at: number;
}

export const toProject = (row: ProjectRow): ProjectRecord => ({
  id: row.id,
  organization: row.organization_id,
  displayName: row.display_name,
  description: row.description,
  storageQuota: row.storage_quota ?? undefined,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

export interface RepositoryRow {
  project_id: string;
  id: string;
  display_name: string;
  description: string;
  scanning: Flag;
  immutable_tags: Flag;
  cleanup_policies: string | CleanupPolicies;
  cleanup_dry_run: Flag;
  created_at: number;
  updated_at: number;
  remote_url: string | null;
  remote_username: string | null;
  remote_sealed_password: string | null;
  remote_prefix: string | null;
  remote_ttl_ms: number | null;
}

/** A repository row with its remote settings, when it has them (a pull-through cache). */
export const repositorySelect = `SELECT r.*, rr.url AS remote_url, rr.username AS remote_username,
  rr.sealed_password AS remote_sealed_password, rr.prefix AS remote_prefix, rr.ttl_ms AS remote_ttl_ms
  FROM repositories r LEFT JOIN remote_repositories rr ON rr.project_id = r.project_id AND rr.repository_id = r.id`;

export interface RemoteRow {
  url: string;
  username: string | null;
  sealed_password: string | null;
  prefix: string;
  ttl_ms: number;
}

export const toRemote = (row: RemoteRow): RemoteSettings => ({
  url: row.url,
  username: row.username ?? undefined,
  sealedPassword: row.sealed_password ?? undefined,
  prefix: row.prefix,
  ttlMs: row.ttl_ms,
});

export const toRepository = (row: RepositoryRow): RepositoryRecord => ({
  project: row.project_id,
  id: row.id,
  displayName: row.display_name,
  description: row.description,
  scanning: isSet(row.scanning),
  immutableTags: isSet(row.immutable_tags),
  cleanupPolicies: fromJson<CleanupPolicies>(row.cleanup_policies),
  cleanupDryRun: isSet(row.cleanup_dry_run),
  remote:
    row.remote_url === null
      ? undefined
      : toRemote({
          url: row.remote_url,
          username: row.remote_username,
          sealed_password: row.remote_sealed_password,
          prefix: row.remote_prefix ?? '',
          ttl_ms: row.remote_ttl_ms ?? 0,
        }),
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});
