import { z } from 'zod';
import type { ResourceRef } from '../../db/identity.js';
import type { MetadataStore } from '../../db/metadata.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Binding } from '../../iam/policy.js';
import {
  allAuthenticatedUsers,
  allUsers,
  type Caller,
  isSpecialPrincipal,
  parseMember,
} from '../../iam/principals.js';
import { roleLevel, rolesFor } from '../../iam/roles.js';
import { type ApiAccess, projectNotFound, repositoryNotFound } from '../access-checks.js';
import { requestSchema, responseSchema } from '../schemas.js';
import { serviceAccountDomain, serviceAccountProject } from '../service-accounts/service-account-service.js';

export type PolicyTarget =
  | { readonly kind: 'organization'; readonly organization: string }
  | { readonly kind: 'project'; readonly project: string }
  | { readonly kind: 'repository'; readonly project: string; readonly repository: string };

export const bindingInput = requestSchema(
  'BindingChange',
  z
    .object({
      member: z
        .string()
        .min(1)
        .max(300)
        .describe('user:EMAIL, serviceAccount:EMAIL, allUsers or allAuthenticatedUsers'),
      role: z
        .string()
        .min(1)
        .max(100)
        .describe(
          'viewer, editor or owner on a repository; artifactstore.viewer, .editor or .owner above it',
        ),
    })
    .strict(),
  'One member and one role, to add to or remove from a policy',
);

export const policyView = responseSchema(
  'Policy',
  z.object({
    resource: z
      .string()
      .describe('organizations/ORG, projects/PROJECT or projects/PROJECT/repositories/REPOSITORY'),
    bindings: z.array(z.object({ role: z.string(), members: z.array(z.string()) })),
  }),
  'Who holds which role on a resource (roles held above it are not repeated here)',
);

export type PolicyView = z.input<typeof policyView>;

/** A policy with the policies above its resource, whose roles it inherits. */
export interface PolicyWithInherited {
  readonly policy: PolicyView;
  /** The organization's policy, then the project's, for a project or repository; closest last. */
  readonly inherited: PolicyView[];
}

/** Who may read a repository without a binding of their own. */
export type PublicAccess = typeof allUsers | typeof allAuthenticatedUsers | undefined;

function refOf(target: PolicyTarget): ResourceRef {
  switch (target.kind) {
    case 'organization':
      return { kind: 'organization', id: target.organization };
    case 'project':
      return { kind: 'project', id: target.project };
    case 'repository':
      return { kind: 'repository', id: `${target.project}/${target.repository}` };
  }
}

function resourceName(target: PolicyTarget): string {
  switch (target.kind) {
    case 'organization':
      return `organizations/${target.organization}`;
    case 'project':
      return `projects/${target.project}`;
    case 'repository':
      return `projects/${target.project}/repositories/${target.repository}`;
  }
}

/** IAM policies of organizations, projects and repositories: reading and changing one needs owner on it. */
export class IamPolicyService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
  ) {}

  async get(caller: Caller, target: PolicyTarget): Promise<PolicyView> {
    await this.authorize(caller, target);
    return this.view(target);
  }

  /** The policy and, for a project or repository, those above it it inherits from (owner on the target). */
  async getWithInherited(caller: Caller, target: PolicyTarget): Promise<PolicyWithInherited> {
    await this.authorize(caller, target);
    const above: PolicyTarget[] = [];
    if (target.kind !== 'organization') {
      const organization = await this.metadata.catalog.projectOrganization(target.project);
      if (organization !== undefined) above.push({ kind: 'organization', organization });
      if (target.kind === 'repository') above.push({ kind: 'project', project: target.project });
    }
    const inherited: PolicyView[] = [];
    for (const parent of above) inherited.push(await this.view(parent));
    return { policy: await this.view(target), inherited };
  }

  /** Whether a repository is public: a special principal holds a role on it or above it. */
  async publicAccess(caller: Caller, project: string, repository: string): Promise<PublicAccess> {
    await this.access.repository(caller, project, repository, 'read');
    const organization = await this.metadata.catalog.projectOrganization(project);
    const refs: ResourceRef[] = [
      ...(organization === undefined ? [] : [{ kind: 'organization' as const, id: organization }]),
      { kind: 'project', id: project },
      { kind: 'repository', id: `${project}/${repository}` },
    ];
    const members = new Set(
      [...(await this.metadata.iam.bindingsOf(refs)).values()].flat().map((binding) => binding.member),
    );
    if (members.has(allUsers)) return allUsers;
    if (members.has(allAuthenticatedUsers)) return allAuthenticatedUsers;
    return undefined;
  }

  /** Adds a binding (adding one that exists changes nothing) and returns the policy. */
  async addBinding(caller: Caller, target: PolicyTarget, binding: Binding): Promise<PolicyView> {
    await this.authorize(caller, target);
    const member = await this.validate(caller, target, binding);
    await this.metadata.iam.add(refOf(target), { member, role: binding.role });
    return this.view(target);
  }

  async removeBinding(caller: Caller, target: PolicyTarget, binding: Binding): Promise<PolicyView> {
    await this.authorize(caller, target);
    const member = parseMember(binding.member);
    if (!(await this.metadata.iam.remove(refOf(target), { member, role: binding.role }))) {
      throw new RegistryError(
        'NOT_FOUND',
        `${resourceName(target)} has no binding of role ${binding.role} for ${member}`,
      );
    }
    return this.view(target);
  }

  private async authorize(caller: Caller, target: PolicyTarget): Promise<void> {
    switch (target.kind) {
      case 'organization':
        await this.access.organization(caller, target.organization, 'administer');
        if (!(await this.metadata.organizations.find(target.organization))) {
          throw new RegistryError('NOT_FOUND', `organization ${target.organization} not found`);
        }
        return;
      case 'project':
        await this.access.project(caller, target.project, 'administer');
        if (!(await this.metadata.projects.find(target.project))) throw projectNotFound(target.project);
        return;
      case 'repository':
        await this.access.repository(caller, target.project, target.repository, 'administer');
        if (!(await this.metadata.repositories.find(target.project, target.repository))) {
          throw repositoryNotFound(target.project, target.repository);
        }
        return;
    }
  }

  /**
   * Members and roles exactly as DESIGN §3 has them; the special principals may only view. Returns
   * the member as bindings store it (folded).
   *
   * Whether the account a member names exists is checked only where the caller could see it anyway:
   * users by the administrator (who lists them), service accounts by an owner of their project (who
   * lists its accounts). Anyone else may name any well-formed member, exists or not, and gets the same
   * answer either way, so that adding a binding tells nobody which accounts exist; the binding takes
   * effect once such an account exists, and goes when it is deleted.
   */
  private async validate(caller: Caller, target: PolicyTarget, binding: Binding): Promise<string> {
    const member = parseMember(binding.member);
    const level = roleLevel(target.kind, binding.role);
    if (isSpecialPrincipal(member)) {
      if (level !== 'viewer') {
        const viewer = rolesFor(target.kind)[0];
        throw new RegistryError(
          'INVALID_ARGUMENT',
          `${member} can only be granted the viewer role (${viewer} on a ${target.kind}), not ${binding.role}: public access stays read-only`,
        );
      }
      return member;
    }
    const separator = member.indexOf(':');
    const [kind, id] = [member.slice(0, separator), member.slice(separator + 1)];
    if (kind === 'user') {
      if (this.access.isAdmin(caller) && !(await this.metadata.users.find(id)))
        throw memberMissing(member, 'the administrator creates users');
      return member;
    }
    const project = serviceAccountProject(id);
    if (project === undefined) {
      throw new RegistryError(
        'INVALID_ARGUMENT',
        `invalid member "${member}": service accounts are named serviceAccount:ID@PROJECT.${serviceAccountDomain}`,
      );
    }
    if ((await this.access.administers(caller, project)) && !(await this.metadata.serviceAccounts.find(id)))
      throw memberMissing(member, 'create the service account first');
    return member;
  }

  private async view(target: PolicyTarget): Promise<PolicyView> {
    const byRole = new Map<string, string[]>();
    for (const { role, member } of await this.metadata.iam.bindings(refOf(target))) {
      byRole.set(role, [...(byRole.get(role) ?? []), member]);
    }
    return {
      resource: resourceName(target),
      bindings: [...byRole].map(([role, members]) => ({ role, members: members.sort() })),
    };
  }
}

function memberMissing(member: string, hint: string): RegistryError {
  return new RegistryError('INVALID_ARGUMENT', `${member} does not exist: ${hint}`);
}
