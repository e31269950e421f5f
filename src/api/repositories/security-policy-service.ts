import { z } from 'zod';
import type { MetadataStore } from '../../db/metadata.js';
import type { AllowedVulnerability, SecurityPolicySettings } from '../../db/policies.js';
import { severities } from '../../db/scans.js';
import { RegistryError } from '../../errors/registry-error.js';
import { type Caller, isSpecialPrincipal, parseMember } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import type { PullPolicy } from '../../policies/pull-policy.js';
import type { EffectivePolicy } from '../../policies/security-policy.js';
import type { SettingsChangeListener } from '../../policies/settings-changes.js';
import { type ApiAccess, projectNotFound, repositoryNotFound } from '../access-checks.js';
import { requestSchema, responseSchema } from '../schemas.js';

const vulnerabilityId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{2,99}$/,
    'must be a vulnerability ID such as CVE-2024-3094 or GHSA-xxxx-xxxx-xxxx',
  );

/** `2027-01-01` means the end of that day is not reached: the entry holds until that date starts (UTC). */
const expiry = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .describe('A date (YYYY-MM-DD, UTC) or an RFC 3339 time');

const allowedInput = z
  .object({
    id: vulnerabilityId,
    expires: expiry.optional().describe('Until when the vulnerability is allowed; forever when left out'),
  })
  .strict();

export const securityPolicyChanges = requestSchema(
  'SecurityPolicyChanges',
  z
    .object({
      blockSeverity: z
        .enum([...severities, 'NONE'])
        .nullable()
        .optional()
        .describe(
          'Block pulls of images whose last finished scan found a vulnerability of this severity or worse; NONE turns an inherited block off; null inherits',
        ),
      blockUnscanned: z
        .boolean()
        .nullable()
        .optional()
        .describe('Block pulls of images without a finished scan; null inherits'),
      allowedVulnerabilities: z
        .array(allowedInput)
        .max(500)
        .nullable()
        .optional()
        .describe(
          'Vulnerabilities that never block, each until its expiry; replaces the list; null removes it',
        ),
      exemptPrincipals: z
        .array(z.string().min(1).max(300))
        .max(100)
        .nullable()
        .optional()
        .describe('user:EMAIL or serviceAccount:EMAIL whose pulls are never blocked; replaces the list'),
    })
    .strict(),
  'Settings to change; those left out keep their value',
);

const allowedView = z.object({ id: z.string(), expires: z.string().optional() });

const settingsView = z
  .object({
    blockSeverity: z.string().optional(),
    blockUnscanned: z.boolean().optional(),
    allowedVulnerabilities: z.array(allowedView).optional(),
    exemptPrincipals: z.array(z.string()).optional(),
  })
  .describe('The settings made at this level; what is left out is inherited');

const effectiveView = z
  .object({
    blockSeverity: z.string().optional().describe('Absent when no severity blocks'),
    blockUnscanned: z.boolean(),
    allowedVulnerabilities: z.array(allowedView),
    exemptPrincipals: z.array(z.string()),
    ownersExempt: z.literal(true).describe("The repository's owners may always pull, for inspection"),
  })
  .describe('What applies to pulls');

export const projectSecurityPolicyView = responseSchema(
  'ProjectSecurityPolicy',
  z.object({ project: z.string(), policy: settingsView }),
);

export const repositorySecurityPolicyView = responseSchema(
  'RepositorySecurityPolicy',
  z.object({
    project: z.string(),
    repository: z.string(),
    policy: settingsView,
    inherited: settingsView.describe("The project's settings"),
    effective: effectiveView,
  }),
);

type Changes = z.output<typeof securityPolicyChanges>;
type SettingsView = z.input<typeof settingsView>;

/**
 * Security policies for pulls, on projects (artifactstore.owner sets them) and repositories (the
 * owner role sets them); anyone who may see the resource reads them.
 */
export class SecurityPolicyService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly pulls: PullPolicy,
    private readonly clock: Clock,
    private readonly onChanged: SettingsChangeListener,
  ) {}

  async getProject(caller: Caller, project: string): Promise<z.input<typeof projectSecurityPolicyView>> {
    await this.access.project(caller, project, 'see');
    return { project, policy: settingsOf(await this.metadata.policies.securityPolicy(project, undefined)) };
  }

  async updateProject(
    caller: Caller,
    project: string,
    changes: Changes,
  ): Promise<z.input<typeof projectSecurityPolicyView>> {
    await this.access.project(caller, project, 'administer');
    await this.change(caller, project, undefined, changes, () => projectNotFound(project));
    return this.getProject(caller, project);
  }

  async getRepository(
    caller: Caller,
    project: string,
    repository: string,
  ): Promise<z.input<typeof repositorySecurityPolicyView>> {
    await this.access.repository(caller, project, repository, 'read');
    const [own, inherited, effective] = await Promise.all([
      this.metadata.policies.securityPolicy(project, repository),
      this.metadata.policies.securityPolicy(project, undefined),
      this.pulls.effective(project, repository),
    ]);
    return {
      project,
      repository,
      policy: settingsOf(own),
      inherited: settingsOf(inherited),
      effective: effectiveOf(effective),
    };
  }

  async updateRepository(
    caller: Caller,
    project: string,
    repository: string,
    changes: Changes,
  ): Promise<z.input<typeof repositorySecurityPolicyView>> {
    await this.access.repository(caller, project, repository, 'administer');
    await this.change(caller, project, repository, changes, () => repositoryNotFound(project, repository));
    return this.getRepository(caller, project, repository);
  }

  private async change(
    caller: Caller,
    project: string,
    repository: string | undefined,
    changes: Changes,
    missing: () => RegistryError,
  ): Promise<void> {
    const before = (await this.metadata.policies.securityPolicy(project, repository)) ?? {};
    const after = applyChanges(before, changes);
    const at = this.clock.now();
    if (!(await this.metadata.policies.setSecurityPolicy(project, repository, after, at))) throw missing();
    this.onChanged({
      kind: 'securityPolicy',
      actor: caller,
      project,
      repository,
      before: settingsOf(before),
      after: settingsOf(after),
      at,
    });
  }
}

function applyChanges(before: SecurityPolicySettings, changes: Changes): SecurityPolicySettings {
  const after: { -readonly [K in keyof SecurityPolicySettings]: SecurityPolicySettings[K] } = { ...before };
  if (changes.blockSeverity === null) delete after.blockSeverity;
  else if (changes.blockSeverity !== undefined) after.blockSeverity = changes.blockSeverity;
  if (changes.blockUnscanned === null) delete after.blockUnscanned;
  else if (changes.blockUnscanned !== undefined) after.blockUnscanned = changes.blockUnscanned;
  if (changes.allowedVulnerabilities === null) delete after.allowedVulnerabilities;
  else if (changes.allowedVulnerabilities !== undefined) {
    after.allowedVulnerabilities = changes.allowedVulnerabilities.map(
      (entry): AllowedVulnerability => ({
        id: entry.id.toUpperCase(),
        expires: entry.expires === undefined ? undefined : new Date(entry.expires),
      }),
    );
  }
  if (changes.exemptPrincipals === null) delete after.exemptPrincipals;
  else if (changes.exemptPrincipals !== undefined) {
    after.exemptPrincipals = [...new Set(changes.exemptPrincipals.map(exemptMember))];
  }
  return after;
}

/** Exemptions name accounts: exempting allUsers would switch the policy off for everyone. */
function exemptMember(text: string): string {
  const member = parseMember(text);
  if (isSpecialPrincipal(member)) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `${member} cannot be exempt from a security policy: name a user:EMAIL or serviceAccount:EMAIL`,
    );
  }
  return member;
}

function allowedOf(entries: readonly AllowedVulnerability[]) {
  return entries.map((entry) => ({
    id: entry.id,
    ...(entry.expires ? { expires: entry.expires.toISOString() } : {}),
  }));
}

function settingsOf(settings: SecurityPolicySettings | undefined): SettingsView {
  if (!settings) return {};
  return {
    ...(settings.blockSeverity !== undefined ? { blockSeverity: settings.blockSeverity } : {}),
    ...(settings.blockUnscanned !== undefined ? { blockUnscanned: settings.blockUnscanned } : {}),
    ...(settings.allowedVulnerabilities
      ? { allowedVulnerabilities: allowedOf(settings.allowedVulnerabilities) }
      : {}),
    ...(settings.exemptPrincipals ? { exemptPrincipals: [...settings.exemptPrincipals] } : {}),
  };
}

function effectiveOf(policy: EffectivePolicy): z.input<typeof effectiveView> {
  return {
    ...(policy.blockSeverity ? { blockSeverity: policy.blockSeverity } : {}),
    blockUnscanned: policy.blockUnscanned,
    allowedVulnerabilities: allowedOf(policy.allowedVulnerabilities),
    exemptPrincipals: [...policy.exemptPrincipals],
    ownersExempt: true,
  };
}
