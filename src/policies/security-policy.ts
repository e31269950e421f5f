import type { AllowedVulnerability, SecurityPolicySettings } from '../db/policies.js';
import { type Finding, type ScanRecord, type Severity, severities } from '../db/scans.js';

/**
 * A repository's security policy for pulls, with its project's settings folded in: a field the
 * repository sets wins over the project's; allowed vulnerabilities and exempt principals add up.
 */
export interface EffectivePolicy {
  /** Pulls are blocked when the last finished scan found a vulnerability at or above this. */
  readonly blockSeverity: Severity | undefined;
  /** Pulls are blocked while the image has no finished scan. */
  readonly blockUnscanned: boolean;
  readonly allowedVulnerabilities: readonly AllowedVulnerability[];
  readonly exemptPrincipals: readonly string[];
}

export function effectivePolicy(
  project: SecurityPolicySettings | undefined,
  repository: SecurityPolicySettings | undefined,
): EffectivePolicy {
  const severity = repository?.blockSeverity ?? project?.blockSeverity;
  return {
    blockSeverity: severity === 'NONE' ? undefined : severity,
    blockUnscanned: repository?.blockUnscanned ?? project?.blockUnscanned ?? false,
    allowedVulnerabilities: [
      ...(project?.allowedVulnerabilities ?? []),
      ...(repository?.allowedVulnerabilities ?? []),
    ],
    exemptPrincipals: [
      ...new Set([...(project?.exemptPrincipals ?? []), ...(repository?.exemptPrincipals ?? [])]),
    ],
  };
}

/** Whether the policy can block anything at all (when not, pulls skip every further lookup). */
export function blocksAnything(policy: EffectivePolicy): boolean {
  return policy.blockSeverity !== undefined || policy.blockUnscanned;
}

/** The severities at or above `threshold`, worst first. */
export function severitiesFrom(threshold: Severity): Severity[] {
  return severities.slice(0, severities.indexOf(threshold) + 1);
}

export type PullVerdict =
  | { readonly pullable: true }
  | {
      readonly pullable: false;
      readonly rule: 'blockUnscanned' | 'blockSeverity';
      /** Why, in words a client shows after `denied:`. */
      readonly reason: string;
      /** The worst finding not allowed, for a severity block. */
      readonly worst?: Finding;
    };

/**
 * Judges one image manifest against the policy. `findingsAtOrAbove` is asked only when the last
 * finished scan's summary counts something at or above the threshold, so most pulls read no findings.
 */
export async function judgePull(
  policy: EffectivePolicy,
  scan: ScanRecord | undefined,
  findingsAtOrAbove: (threshold: Severity) => Promise<Finding[]>,
  now: Date,
): Promise<PullVerdict> {
  const result = scan?.result;
  if (!result) {
    if (!policy.blockUnscanned) return { pullable: true };
    const status = scan ? scan.status.replace('_', ' ') : 'never scanned';
    return {
      pullable: false,
      rule: 'blockUnscanned',
      reason: `the policy blocks images without a finished vulnerability scan, and this one has none (${status})`,
    };
  }
  const threshold = policy.blockSeverity;
  if (threshold === undefined) return { pullable: true };
  const counted = severitiesFrom(threshold).reduce((total, severity) => total + result.summary[severity], 0);
  if (counted === 0) return { pullable: true };
  const allowed = new Set(
    policy.allowedVulnerabilities
      .filter((entry) => entry.expires === undefined || entry.expires.getTime() > now.getTime())
      .map((entry) => entry.id),
  );
  const blocking = (await findingsAtOrAbove(threshold)).filter(
    (finding) => !allowed.has(finding.vulnerabilityId),
  );
  const worst = blocking[0];
  if (!worst) return { pullable: true };
  const ids = new Set(blocking.map((finding) => finding.vulnerabilityId));
  const fixed = worst.fixedVersion ? `, fixed in ${worst.fixedVersion}` : '';
  return {
    pullable: false,
    rule: 'blockSeverity',
    worst,
    reason:
      `the policy blocks images with vulnerabilities of severity ${threshold} or worse, and the last scan ` +
      `(${result.scannedAt.toISOString()}) found ${ids.size} not allowed; the worst is ${worst.vulnerabilityId} ` +
      `(${worst.severity}) in ${worst.pkgName} ${worst.installedVersion}${fixed}`,
  };
}
