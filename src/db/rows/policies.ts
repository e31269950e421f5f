import type { AllowedVulnerability, ProjectRateLimits, SecurityPolicySettings } from '../policies.js';
import { fromJson } from './values.js';

/** Rate limit overrides and security policies as stored (JSON text in SQLite, jsonb in PostgreSQL). */

export type StoredPolicy = SecurityPolicySettings & {
  allowedVulnerabilities?: { id: string; expires?: string }[];
};

export const toRateLimits = (value: string | ProjectRateLimits): ProjectRateLimits =>
  fromJson<ProjectRateLimits>(value);

/** A stored policy: its allow-list's expiry dates are ISO strings in the document. */
export function toSecurityPolicy(value: string | StoredPolicy): SecurityPolicySettings {
  const stored = fromJson<StoredPolicy>(value);
  if (!stored.allowedVulnerabilities) return stored;
  return {
    ...stored,
    allowedVulnerabilities: stored.allowedVulnerabilities.map(
      (entry): AllowedVulnerability => ({
        id: entry.id,
        expires: entry.expires === undefined ? undefined : new Date(entry.expires),
      }),
    ),
  };
}
