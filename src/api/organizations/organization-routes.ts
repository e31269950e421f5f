import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { pathParams } from '../schemas.js';
import { type OrganizationService, organizationView } from './organization-service.js';

export function organizationOperations(organizations: OrganizationService): ApiOperation[] {
  return [
    operation({
      id: 'getOrganization',
      method: 'GET',
      path: '/api/v1/organizations/{organization}',
      tag: 'Organizations',
      summary: 'Get an organization',
      params: z.object({ organization: pathParams.organization }),
      response: organizationView,
      handle: ({ caller, params }) => organizations.get(caller, params.organization),
    }),
  ];
}
