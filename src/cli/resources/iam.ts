import { ManagementApi, type Policy, type PolicyResource } from '../../client/management-api.js';
import type { CliContext } from '../context.js';

/** `projects|repos get-iam-policy|add-iam-policy-binding|remove-iam-policy-binding`. */

export interface PolicyTarget {
  readonly registry: string;
  readonly resource: PolicyResource;
}

export function getIamPolicy(context: CliContext, target: PolicyTarget): Promise<Policy> {
  return new ManagementApi(context.api(target.registry)).getIamPolicy(target.resource);
}

export function addIamBinding(
  context: CliContext,
  target: PolicyTarget,
  member: string,
  role: string,
): Promise<Policy> {
  return new ManagementApi(context.api(target.registry)).addIamBinding(target.resource, { member, role });
}

export function removeIamBinding(
  context: CliContext,
  target: PolicyTarget,
  member: string,
  role: string,
): Promise<Policy> {
  return new ManagementApi(context.api(target.registry)).removeIamBinding(target.resource, { member, role });
}

/** One row per member and role, the way a table shows a policy. */
export function policyRows(policy: Policy): { role: string; member: string }[] {
  return policy.bindings.flatMap((binding) =>
    binding.members.map((member) => ({ role: binding.role, member })),
  );
}
