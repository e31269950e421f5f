import type { MetadataStore } from '../db/metadata.js';
import { RegistryError } from '../errors/registry-error.js';
import type { AccessService } from '../iam/access-service.js';
import { allows, type Permission, requiredRole } from '../iam/policy.js';
import { type Caller, membersOf } from '../iam/principals.js';
import type { ResourceKind, RoleLevel } from '../iam/roles.js';
import { unauthenticated } from './authenticate.js';

/** `see`: any role at all on the resource, or (for a project) on one of its repositories. */
export type Need = Permission | 'see';

/** What a caller holds bindings on, for listings: organizations, projects and `PROJECT/REPOSITORY`s. */
export interface BoundResources {
  readonly everything: boolean;
  readonly organizations: ReadonlySet<string>;
  readonly projects: ReadonlySet<string>;
  readonly repositories: ReadonlySet<string>;
}

function roleName(kind: ResourceKind, level: RoleLevel): string {
  return kind === 'repository' ? level : `artifactstore.${level}`;
}

/**
 * The management API's access checks, answering as DESIGN §4 says: 401 for a caller without
 * credentials, 404 when the caller may not even see the resource, 403 when it may see it but lacks
 * the permission. Roles come from the one evaluator, through the access service.
 */
export class ApiAccess {
  constructor(
    private readonly access: AccessService,
    private readonly metadata: MetadataStore,
  ) {}

  isAdmin(caller: Caller): boolean {
    return caller.kind === 'user' && caller.admin;
  }

  /** The instance administrator only (users are not a resource anyone else may see). */
  requireAdmin(caller: Caller, what: string): void {
    if (this.isAdmin(caller)) return;
    if (caller.kind === 'anonymous') throw unauthenticated();
    throw new RegistryError('DENIED', `access forbidden: only the instance administrator can ${what}`);
  }

  /** The caller's role on an organization, without refusing: to offer only what it may do. */
  roleOnOrganization(caller: Caller, organization: string): Promise<RoleLevel | undefined> {
    return this.access.roleOnOrganization(caller, organization);
  }

  async organization(caller: Caller, organization: string, need: Need): Promise<void> {
    const role = await this.access.roleOnOrganization(caller, organization);
    if (need === 'see' ? role !== undefined : allows(role, need)) return;
    const visible =
      role !== undefined || (await this.organizationsSeenThroughContents(caller)).has(organization);
    if (need === 'see' && visible) return;
    this.refuse(
      caller,
      visible,
      'organization',
      organization,
      need,
      () => new RegistryError('NOT_FOUND', `organization ${organization} not found`),
    );
  }

  /** Checks access to a project; returns the caller's role on it (without repository bindings). */
  async project(caller: Caller, project: string, need: Need): Promise<RoleLevel | undefined> {
    const role = await this.access.roleOnProject(caller, project);
    if (need === 'see' ? role !== undefined : allows(role, need)) return role;
    const visible = role !== undefined || (await this.boundRepositoriesIn(caller, project)).size > 0;
    if (need === 'see' && visible) return role;
    this.refuse(caller, visible, 'project', project, need, () => projectNotFound(project));
  }

  async repository(
    caller: Caller,
    project: string,
    repository: string,
    need: Permission,
  ): Promise<RoleLevel> {
    const role = await this.access.roleOnRepository(caller, project, repository);
    if (allows(role, need)) return role as RoleLevel;
    this.refuse(caller, role !== undefined, 'repository', `${project}/${repository}`, need, () =>
      repositoryNotFound(project, repository),
    );
  }

  /** Whether the caller may administer the project (see its settings and service accounts), without refusing. */
  async administers(caller: Caller, project: string): Promise<boolean> {
    return allows(await this.access.roleOnProject(caller, project), 'administer');
  }

  /** The resources the caller holds a binding on, directly or through a special principal. */
  async bound(caller: Caller): Promise<BoundResources> {
    const organizations = new Set<string>();
    const projects = new Set<string>();
    const repositories = new Set<string>();
    if (this.isAdmin(caller)) return { everything: true, organizations, projects, repositories };
    for (const ref of await this.metadata.iam.resourcesBoundTo(membersOf(caller))) {
      if (ref.kind === 'organization') organizations.add(ref.id);
      else if (ref.kind === 'project') projects.add(ref.id);
      else {
        repositories.add(ref.id);
        projects.add(ref.id.slice(0, ref.id.indexOf('/')));
      }
    }
    return { everything: false, organizations, projects, repositories };
  }

  /** IDs of the project's repositories the caller holds a binding on. */
  async boundRepositoriesIn(caller: Caller, project: string): Promise<Set<string>> {
    const { repositories } = await this.bound(caller);
    const prefix = `${project}/`;
    return new Set(
      [...repositories].filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length)),
    );
  }

  private async organizationsSeenThroughContents(caller: Caller): Promise<Set<string>> {
    const { organizations, projects } = await this.bound(caller);
    const seen = new Set(organizations);
    for (const project of projects) {
      const organization = await this.metadata.catalog.projectOrganization(project);
      if (organization !== undefined) seen.add(organization);
    }
    return seen;
  }

  private refuse(
    caller: Caller,
    visible: boolean,
    kind: ResourceKind,
    id: string,
    need: Need,
    hidden: () => RegistryError,
  ): never {
    if (caller.kind === 'anonymous') throw unauthenticated();
    if (!visible) throw hidden();
    const role = roleName(kind, requiredRole[need === 'see' ? 'read' : need]);
    throw new RegistryError('DENIED', `access forbidden: this needs the ${role} role on ${kind} ${id}`, {
      detail: { requiredRole: role, [kind]: id },
    });
  }
}

export function projectNotFound(project: string): RegistryError {
  return new RegistryError('NAME_UNKNOWN', `project ${project} not found`);
}

export function repositoryNotFound(project: string, repository: string): RegistryError {
  return new RegistryError('NAME_UNKNOWN', `repository ${project}/${repository} not found`);
}
