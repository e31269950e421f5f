import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { pathParams } from '../schemas.js';
import {
  projectSecurityPolicyView,
  repositorySecurityPolicyView,
  type SecurityPolicyService,
  securityPolicyChanges,
} from './security-policy-service.js';

const projectParams = z.object({ project: pathParams.project });
const repositoryParams = z.object({ project: pathParams.project, repository: pathParams.repository });

export function securityPolicyOperations(policies: SecurityPolicyService): ApiOperation[] {
  const projectPath = '/api/v1/projects/{project}/security-policy';
  const repositoryPath = '/api/v1/projects/{project}/repositories/{repository}/security-policy';
  return [
    operation({
      id: 'getProjectSecurityPolicy',
      method: 'GET',
      path: projectPath,
      tag: 'Security policies',
      summary: "A project's security policy for pulls, which its repositories inherit",
      params: projectParams,
      response: projectSecurityPolicyView,
      handle: ({ caller, params }) => policies.getProject(caller, params.project),
    }),
    operation({
      id: 'updateProjectSecurityPolicy',
      method: 'PATCH',
      path: projectPath,
      tag: 'Security policies',
      summary: "Change a project's security policy",
      description: 'Needs artifactstore.owner on the project.',
      params: projectParams,
      body: securityPolicyChanges,
      response: projectSecurityPolicyView,
      handle: ({ caller, params, body }) => policies.updateProject(caller, params.project, body),
    }),
    operation({
      id: 'getRepositorySecurityPolicy',
      method: 'GET',
      path: repositoryPath,
      tag: 'Security policies',
      summary: "A repository's security policy: its own settings, its project's, and what applies",
      params: repositoryParams,
      response: repositorySecurityPolicyView,
      handle: ({ caller, params }) => policies.getRepository(caller, params.project, params.repository),
    }),
    operation({
      id: 'updateRepositorySecurityPolicy',
      method: 'PATCH',
      path: repositoryPath,
      tag: 'Security policies',
      summary: "Change a repository's security policy",
      description: 'Needs the owner role on the repository.',
      params: repositoryParams,
      body: securityPolicyChanges,
      response: repositorySecurityPolicyView,
      handle: ({ caller, params, body }) =>
        policies.updateRepository(caller, params.project, params.repository, body),
    }),
  ];
}
