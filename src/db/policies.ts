import type { RateSetting } from '../limits/rates.js';
import type { Severity } from './scans.js';

/**
 * Settings the administrator and owners put on projects and repositories beside their records:
 * per-project rate limit overrides and security policies for pulls. Kept apart from the project and
 * repository records so that the registry's hot path reads only what it needs.
 */

/** The request limits a project overrides; a kind left out follows the instance default. */
export interface ProjectRateLimits {
  /** Per principal, pulls from this project's repositories. */
  readonly pull?: RateSetting;
  /** Per principal, pushes (and deletes) to this project's repositories. */
  readonly push?: RateSetting;
  /** Per repository of this project, every principal's pulls together. */
  readonly repositoryPull?: RateSetting;
  /** Per repository of this project, every principal's pushes together. */
  readonly repositoryPush?: RateSetting;
}

export const rateLimitKinds = ['pull', 'push', 'repositoryPull', 'repositoryPush'] as const;
export type RateLimitKind = (typeof rateLimitKinds)[number];

/** A vulnerability a policy lets through, until `expires` (when given). */
export interface AllowedVulnerability {
  readonly id: string;
  readonly expires: Date | undefined;
}

/**
 * A security policy as set on one project or one repository. A field left out is inherited (a
 * repository's from its project's); `blockSeverity: 'NONE'` turns an inherited block off.
 */
export interface SecurityPolicySettings {
  readonly blockSeverity?: Severity | 'NONE';
  readonly blockUnscanned?: boolean;
  readonly allowedVulnerabilities?: readonly AllowedVulnerability[];
  /** Principals (`user:…`, `serviceAccount:…`) whose pulls are never blocked, for inspection. */
  readonly exemptPrincipals?: readonly string[];
}

export interface PolicyStore {
  rateLimits(project: string): Promise<ProjectRateLimits | undefined>;
  /** Replaces the project's overrides (empty removes them). False when the project does not exist. */
  setRateLimits(project: string, limits: ProjectRateLimits, at: Date): Promise<boolean>;
  /** The policy set on the project (`repository` undefined) or on one of its repositories. */
  securityPolicy(
    project: string,
    repository: string | undefined,
  ): Promise<SecurityPolicySettings | undefined>;
  /** Replaces the policy; false when the project or repository does not exist. */
  setSecurityPolicy(
    project: string,
    repository: string | undefined,
    policy: SecurityPolicySettings,
    at: Date,
  ): Promise<boolean>;
}
