import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { pathParams } from '../schemas.js';
import {
  projectRateLimitsView,
  type RateLimitSettingsService,
  rateLimitChanges,
} from './rate-limit-service.js';

const projectParams = z.object({ project: pathParams.project });

export function rateLimitOperations(rateLimits: RateLimitSettingsService): ApiOperation[] {
  const path = '/api/v1/projects/{project}/rate-limits';
  return [
    operation({
      id: 'getProjectRateLimits',
      method: 'GET',
      path,
      tag: 'Projects',
      summary: "A project's request rate limits: its overrides and what applies",
      params: projectParams,
      response: projectRateLimitsView,
      handle: ({ caller, params }) => rateLimits.get(caller, params.project),
    }),
    operation({
      id: 'updateProjectRateLimits',
      method: 'PATCH',
      path,
      tag: 'Projects',
      summary: "Override the instance's request rate limits for a project",
      description: 'Needs the instance administrator. A kind set to null returns to the instance default.',
      params: projectParams,
      body: rateLimitChanges,
      response: projectRateLimitsView,
      handle: ({ caller, params, body }) => rateLimits.update(caller, params.project, body),
    }),
  ];
}
