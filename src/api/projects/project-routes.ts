import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { pageQuery } from '../pagination.js';
import { pathParams, responseSchema } from '../schemas.js';
import { newProject, type ProjectService, projectChanges, projectView } from './project-service.js';

const projectParams = z.object({ project: pathParams.project });

const projectList = responseSchema(
  'ProjectList',
  z.object({ projects: z.array(projectView), nextPageToken: z.string().optional() }),
);

export function projectOperations(projects: ProjectService): ApiOperation[] {
  return [
    operation({
      id: 'listProjects',
      method: 'GET',
      path: '/api/v1/projects',
      tag: 'Projects',
      summary: 'List the projects the caller can see',
      query: pageQuery,
      response: projectList,
      handle: async ({ caller, query }) => {
        const page = await projects.list(caller, query);
        return { projects: page.items, nextPageToken: page.nextPageToken };
      },
    }),
    operation({
      id: 'createProject',
      method: 'POST',
      path: '/api/v1/projects',
      tag: 'Projects',
      summary: 'Create a project',
      description: 'Needs the instance administrator, or artifactstore.owner on the organization.',
      body: newProject,
      status: 201,
      response: projectView,
      errors: ['ALREADY_EXISTS'],
      handle: ({ caller, body }) => projects.create(caller, body),
    }),
    operation({
      id: 'getProject',
      method: 'GET',
      path: '/api/v1/projects/{project}',
      tag: 'Projects',
      summary: 'Get a project',
      params: projectParams,
      response: projectView,
      handle: ({ caller, params }) => projects.get(caller, params.project),
    }),
    operation({
      id: 'updateProject',
      method: 'PATCH',
      path: '/api/v1/projects/{project}',
      tag: 'Projects',
      summary: "Change a project's display name or description",
      description: 'Needs artifactstore.owner on the project.',
      params: projectParams,
      body: projectChanges,
      response: projectView,
      handle: ({ caller, params, body }) => projects.update(caller, params.project, body),
    }),
    operation({
      id: 'deleteProject',
      method: 'DELETE',
      path: '/api/v1/projects/{project}',
      tag: 'Projects',
      summary: 'Delete a project with its repositories, images, service accounts and IAM bindings',
      description: 'Needs artifactstore.owner on the project.',
      params: projectParams,
      handle: async ({ caller, params }) => projects.delete(caller, params.project),
    }),
  ];
}
