import { Flags } from '@oclif/core';
import { ManagementApi, type Policy, type PolicyResource } from '../../client/management-api.js';
import type { CliContext } from '../context.js';
import { type RenderTarget, renderMessage } from '../render.js';
import { policyTable } from '../views.js';

/** `projects|repos get-iam-policy|add-iam-policy-binding|remove-iam-policy-binding`. */

export interface PolicyTarget {
  readonly registry: string;
  readonly resource: PolicyResource;
}

export function getIamPolicy(context: CliContext, target: PolicyTarget): Promise<Policy> {
  return new ManagementApi(context.api(target.registry)).getIamPolicy(target.resource);
}

export type BindingChange = 'add' | 'remove';

/** The flags of `add-iam-policy-binding` and `remove-iam-policy-binding`; `roles` lists the roles that apply. */
export function bindingFlags(roles: string) {
  return {
    member: Flags.string({
      description: 'who: user:EMAIL, serviceAccount:EMAIL, allUsers or allAuthenticatedUsers',
      required: true,
    }),
    role: Flags.string({ description: roles, required: true }),
  };
}

/** Adds or removes one binding and returns the policy as it now stands. */
export function changeIamBinding(
  context: CliContext,
  target: PolicyTarget,
  change: BindingChange,
  binding: { member: string; role: string },
): Promise<Policy> {
  const api = new ManagementApi(context.api(target.registry));
  // Only the binding itself: callers pass their parsed flags, which carry more than the API takes.
  const { member, role } = binding;
  return change === 'add'
    ? api.addIamBinding(target.resource, { member, role })
    : api.removeIamBinding(target.resource, { member, role });
}

/** What a person sees after a change: one sentence, and the policy on a terminal. */
export function renderBindingChange(
  change: BindingChange,
  where: string,
  binding: { member: string; role: string },
  policy: Policy,
  target: RenderTarget,
): string {
  const sentence =
    change === 'add'
      ? `Granted ${binding.role} on ${where} to ${binding.member}.`
      : `Revoked ${binding.role} on ${where} from ${binding.member}.`;
  return renderMessage(sentence, target, 'success') + (target.tty ? policyTable(policy, target) : '');
}
