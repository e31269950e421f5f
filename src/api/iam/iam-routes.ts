import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { pathParams } from '../schemas.js';
import { bindingInput, type IamPolicyService, type PolicyTarget, policyView } from './iam-policy-service.js';

interface Level {
  readonly name: string;
  readonly path: string;
  readonly params: z.ZodObject;
  readonly target: (params: Record<string, string>) => PolicyTarget;
}

const levels: Level[] = [
  {
    name: 'Organization',
    path: '/api/v1/organizations/{organization}',
    params: z.object({ organization: pathParams.organization }),
    target: (p) => ({ kind: 'organization', organization: p.organization as string }),
  },
  {
    name: 'Project',
    path: '/api/v1/projects/{project}',
    params: z.object({ project: pathParams.project }),
    target: (p) => ({ kind: 'project', project: p.project as string }),
  },
  {
    name: 'Repository',
    path: '/api/v1/projects/{project}/repositories/{repository}',
    params: z.object({ project: pathParams.project, repository: pathParams.repository }),
    target: (p) => ({ kind: 'repository', project: p.project as string, repository: p.repository as string }),
  },
];

const removalQuery = z.object({
  member: bindingInput.shape.member,
  role: bindingInput.shape.role,
});

/** Get policy, add binding and remove binding, on each level that holds bindings. */
export function iamOperations(policies: IamPolicyService): ApiOperation[] {
  return levels.flatMap((level) => {
    const lower = level.name.toLowerCase();
    const target = (params: unknown) => level.target(params as Record<string, string>);
    return [
      operation({
        id: `get${level.name}IamPolicy`,
        method: 'GET',
        path: `${level.path}/iamPolicy`,
        tag: 'IAM',
        summary: `Get the IAM policy of a ${lower}`,
        description: `Needs the owner role on the ${lower}.`,
        params: level.params,
        response: policyView,
        handle: ({ caller, params }) => policies.get(caller, target(params)),
      }),
      operation({
        id: `add${level.name}IamBinding`,
        method: 'POST',
        path: `${level.path}/iamPolicy/bindings`,
        tag: 'IAM',
        summary: `Grant a role on a ${lower}`,
        description:
          'allUsers and allAuthenticatedUsers can only be granted the viewer role. Adding a binding that exists changes nothing.',
        params: level.params,
        body: bindingInput,
        response: policyView,
        handle: ({ caller, params, body }) => policies.addBinding(caller, target(params), body),
      }),
      operation({
        id: `remove${level.name}IamBinding`,
        method: 'DELETE',
        path: `${level.path}/iamPolicy/bindings`,
        tag: 'IAM',
        summary: `Revoke a role on a ${lower}`,
        params: level.params,
        query: removalQuery,
        response: policyView,
        handle: ({ caller, params, query }) => policies.removeBinding(caller, target(params), query),
      }),
    ];
  });
}
