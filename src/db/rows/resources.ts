import type { CleanupPolicies } from '../../cleanup/policy.js';
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
}

export const toRepository = (row: RepositoryRow): RepositoryRecord => ({
  project: row.project_id,
  id: row.id,
  displayName: row.display_name,
  description: row.description,
  scanning: isSet(row.scanning),
  immutableTags: isSet(row.immutable_tags),
  cleanupPolicies: fromJson<CleanupPolicies>(row.cleanup_policies),
  cleanupDryRun: isSet(row.cleanup_dry_run),
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});
