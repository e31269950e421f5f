import type { MetadataStore } from '../db/metadata.js';
import { RegistryError } from '../errors/registry-error.js';
import type { AccessService } from '../iam/access-service.js';
import { type Caller, membersOf } from '../iam/principals.js';
import type { Clock } from '../lib/clock.js';
import { indexManifestTypes } from '../oci/media-types.js';
import {
  blocksAnything,
  type EffectivePolicy,
  effectivePolicy,
  judgePull,
  type PullVerdict,
  severitiesFrom,
} from './security-policy.js';

/**
 * Applies repositories' security policies to pulls: reads the policy of the repository and its
 * project, the digest's last scan, and (only when needed) its findings.
 */
export class PullPolicy {
  constructor(
    private readonly metadata: Pick<MetadataStore, 'policies' | 'scans'>,
    private readonly access: AccessService,
    private readonly clock: Clock,
  ) {}

  async effective(project: string, repository: string): Promise<EffectivePolicy> {
    const [own, inherited] = await Promise.all([
      this.metadata.policies.securityPolicy(project, repository),
      this.metadata.policies.securityPolicy(project, undefined),
    ]);
    return effectivePolicy(inherited, own);
  }

  /** Whether a digest may be pulled under the policy by a caller who is not exempt. */
  async judge(policy: EffectivePolicy, digest: string, mediaType: string): Promise<PullVerdict> {
    // An index is not scanned itself: each platform image it lists is judged when it is fetched.
    if (!blocksAnything(policy) || indexManifestTypes.has(mediaType)) return { pullable: true };
    const scans = await this.metadata.scans.find([digest]);
    return judgePull(
      policy,
      scans.get(digest),
      (threshold) => this.metadata.scans.findings(digest, severitiesFrom(threshold)),
      this.clock.now(),
    );
  }

  /**
   * Throws DENIED, naming the policy and the worst finding, when the caller may not pull the
   * manifest. Owners of the repository and the policy's exempt principals may, for inspection.
   */
  async check(
    caller: Caller,
    image: { project: string; repository: string },
    manifest: { digest: string; mediaType: string },
  ): Promise<void> {
    const policy = await this.effective(image.project, image.repository);
    const verdict = await this.judge(policy, manifest.digest, manifest.mediaType);
    if (verdict.pullable) return;
    if (membersOf(caller).some((member) => policy.exemptPrincipals.includes(member))) return;
    const role = await this.access.roleOnRepository(caller, image.project, image.repository);
    if (role === 'owner') return;
    const where = `${image.project}/${image.repository}`;
    throw new RegistryError(
      'DENIED',
      `pull blocked by the security policy of repository ${where}: ${verdict.reason}`,
      {
        detail: {
          policy: verdict.rule,
          repository: where,
          ...(verdict.worst
            ? { vulnerability: verdict.worst.vulnerabilityId, severity: verdict.worst.severity }
            : {}),
        },
      },
    );
  }
}
