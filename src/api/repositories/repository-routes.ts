import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { pageQuery } from '../pagination.js';
import { pathParams, responseSchema } from '../schemas.js';
import {
  newRepository,
  type RepositoryService,
  repositoryChanges,
  repositoryView,
} from './repository-service.js';

const projectParams = z.object({ project: pathParams.project });
const repositoryParams = z.object({ project: pathParams.project, repository: pathParams.repository });

const repositoryList = responseSchema(
  'RepositoryList',
  z.object({ repositories: z.array(repositoryView), nextPageToken: z.string().optional() }),
);

export function repositoryOperations(repositories: RepositoryService): ApiOperation[] {
  const base = '/api/v1/projects/{project}/repositories';
  return [
    operation({
      id: 'listRepositories',
      method: 'GET',
      path: base,
      tag: 'Repositories',
      summary: 'List the repositories of a project the caller can see',
      params: projectParams,
      query: pageQuery,
      response: repositoryList,
      handle: async ({ caller, params, query }) => {
        const page = await repositories.list(caller, params.project, query);
        return { repositories: page.items, nextPageToken: page.nextPageToken };
      },
    }),
    operation({
      id: 'createRepository',
      method: 'POST',
      path: base,
      tag: 'Repositories',
      summary: 'Create a repository',
      description:
        'Needs artifactstore.owner on the project, directly or from its organization. With `remote`, the repository is a pull-through cache of an upstream registry: pulls of what it does not hold are fetched from the upstream, pushes are refused with DENIED.',
      params: projectParams,
      body: newRepository,
      status: 201,
      response: repositoryView,
      errors: ['ALREADY_EXISTS'],
      handle: ({ caller, params, body }) => repositories.create(caller, params.project, body),
    }),
    operation({
      id: 'getRepository',
      method: 'GET',
      path: `${base}/{repository}`,
      tag: 'Repositories',
      summary: 'Get a repository',
      params: repositoryParams,
      response: repositoryView,
      handle: ({ caller, params }) => repositories.get(caller, params.project, params.repository),
    }),
    operation({
      id: 'updateRepository',
      method: 'PATCH',
      path: `${base}/{repository}`,
      tag: 'Repositories',
      summary:
        "Change a repository's display name, description, scanning, immutable tags, cleanup policies or upstream",
      description: 'Needs the owner role on the repository.',
      params: repositoryParams,
      body: repositoryChanges,
      response: repositoryView,
      handle: ({ caller, params, body }) =>
        repositories.update(caller, params.project, params.repository, body),
    }),
    operation({
      id: 'deleteRepository',
      method: 'DELETE',
      path: `${base}/{repository}`,
      tag: 'Repositories',
      summary: 'Delete a repository with its images and IAM bindings',
      description: 'Needs the owner role on the repository.',
      params: repositoryParams,
      handle: async ({ caller, params }) => repositories.delete(caller, params.project, params.repository),
    }),
  ];
}
