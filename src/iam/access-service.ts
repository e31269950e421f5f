import type { IamStore, ResourceRef } from '../db/identity.js';
import { resourceKey } from '../db/identity.js';
import type { CatalogStore } from '../db/metadata.js';
import { type BindingChain, effectiveRole } from './policy.js';
import type { Caller } from './principals.js';
import type { RoleLevel } from './roles.js';

const none: BindingChain = { organization: [], project: [], repository: [] };

/** Looks up the bindings above a resource and asks the one evaluator what a caller may do there. */
export class AccessService {
  constructor(
    private readonly catalog: CatalogStore,
    private readonly iam: IamStore,
  ) {}

  /** The caller's role on a project (its own bindings and its organization's); undefined when none. */
  async roleOnProject(caller: Caller, project: string): Promise<RoleLevel | undefined> {
    return effectiveRole(caller, await this.chain(project, undefined));
  }

  /** The caller's role on a repository, inherited from its project and organization. */
  async roleOnRepository(
    caller: Caller,
    project: string,
    repository: string,
  ): Promise<RoleLevel | undefined> {
    return effectiveRole(caller, await this.chain(project, repository));
  }

  async roleOnOrganization(caller: Caller, organization: string): Promise<RoleLevel | undefined> {
    const ref: ResourceRef = { kind: 'organization', id: organization };
    const bindings = await this.iam.bindings(ref);
    return effectiveRole(caller, { ...none, organization: bindings });
  }

  private async chain(project: string, repository: string | undefined): Promise<BindingChain> {
    const organization = await this.catalog.projectOrganization(project);
    if (organization === undefined) return none;
    const refs: ResourceRef[] = [
      { kind: 'organization', id: organization },
      { kind: 'project', id: project },
    ];
    if (repository !== undefined) refs.push({ kind: 'repository', id: `${project}/${repository}` });
    const found = await this.iam.bindingsOf(refs);
    const of = (index: number) => {
      const ref = refs[index];
      return ref ? (found.get(resourceKey(ref)) ?? []) : [];
    };
    return { organization: of(0), project: of(1), repository: of(2) };
  }
}
