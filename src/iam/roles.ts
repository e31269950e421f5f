import { RegistryError } from '../errors/registry-error.js';

/** Roles from weakest to strongest; each includes everything the ones before it allow. */
export const roleLevels = ['viewer', 'editor', 'owner'] as const;
export type RoleLevel = (typeof roleLevels)[number];

/** Where a binding sits. Projects and organizations use the Artifact Store role names. */
export type ResourceKind = 'organization' | 'project' | 'repository';

const repositoryRoles: Record<string, RoleLevel> = { viewer: 'viewer', editor: 'editor', owner: 'owner' };
const containerRoles: Record<string, RoleLevel> = {
  'artifactstore.viewer': 'viewer',
  'artifactstore.editor': 'editor',
  'artifactstore.owner': 'owner',
};

export function rolesFor(kind: ResourceKind): string[] {
  return Object.keys(kind === 'repository' ? repositoryRoles : containerRoles);
}

/** The level a role name grants on the given kind of resource, or a clear error for a wrong name. */
export function roleLevel(kind: ResourceKind, role: string): RoleLevel {
  const level = (kind === 'repository' ? repositoryRoles : containerRoles)[role];
  if (!level) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `unknown role "${role}" on a ${kind}: use one of ${rolesFor(kind).join(', ')}`,
    );
  }
  return level;
}

export function atLeast(level: RoleLevel | undefined, needed: RoleLevel): boolean {
  return level !== undefined && roleLevels.indexOf(level) >= roleLevels.indexOf(needed);
}

export function strongest(levels: Iterable<RoleLevel>): RoleLevel | undefined {
  let best: RoleLevel | undefined;
  for (const level of levels) if (!atLeast(best, level)) best = level;
  return best;
}
