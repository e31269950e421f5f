import { type Caller, membersOf } from './principals.js';
import { atLeast, type ResourceKind, type RoleLevel, roleLevel, strongest } from './roles.js';

/** What a caller may ask to do, and the weakest role that allows it. */
export const requiredRole = {
  /** Pull, list images and tags, read vulnerability reports. */
  read: 'viewer',
  /** Push, create and move tags. */
  write: 'editor',
  /** Delete images, tags and blobs. */
  delete: 'owner',
  /** Change settings, read and change IAM policy, delete the repository. */
  administer: 'owner',
  /** Create repositories in a project (Artifact Store Owner on the project or organization). */
  createRepository: 'owner',
} as const satisfies Record<string, RoleLevel>;

export type Permission = keyof typeof requiredRole;

export interface Binding {
  readonly member: string;
  readonly role: string;
}

/** The bindings that apply to one resource: its own and those of everything above it. */
export interface BindingChain {
  readonly organization: readonly Binding[];
  readonly project: readonly Binding[];
  readonly repository: readonly Binding[];
}

/**
 * The one policy evaluator: effective access is the strongest role granted to the caller, or to a
 * special principal that applies to it, on the resource or anything above it. The instance
 * administrator is owner everywhere. Pure, so the registry, the API and the UI agree.
 */
export function effectiveRole(caller: Caller, chain: BindingChain): RoleLevel | undefined {
  if (caller.kind === 'user' && caller.admin) return 'owner';
  const members = new Set(membersOf(caller));
  const levels: RoleLevel[] = [];
  for (const kind of ['organization', 'project', 'repository'] as const satisfies ResourceKind[]) {
    for (const binding of chain[kind]) {
      if (members.has(binding.member)) levels.push(roleLevel(kind, binding.role));
    }
  }
  return strongest(levels);
}

export function allows(role: RoleLevel | undefined, permission: Permission): boolean {
  return atLeast(role, requiredRole[permission]);
}
