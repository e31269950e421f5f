import { z } from 'zod';
import { oauthPaths } from '../../auth/oauth/public-urls.js';
import { type ApiOperation, operation } from '../operation.js';
import { pageQuery } from '../pagination.js';
import { pathParams, responseSchema } from '../schemas.js';
import {
  createdKeyView,
  keyChanges,
  keyView,
  newServiceAccount,
  type ServiceAccountService,
  serviceAccountView,
} from './service-account-service.js';

const projectParams = z.object({ project: pathParams.project });
const accountParams = projectParams.extend({
  account: z
    .string()
    .min(1)
    .max(254)
    .describe('The service account’s email, or its ID (the part before the @)'),
});
const keyParams = accountParams.extend({ key: z.string().min(1).max(128).describe('The key ID') });

const accountList = responseSchema(
  'ServiceAccountList',
  z.object({ serviceAccounts: z.array(serviceAccountView), nextPageToken: z.string().optional() }),
);
const keyList = responseSchema(
  'ServiceAccountKeyList',
  z.object({ keys: z.array(keyView), nextPageToken: z.string().optional() }),
);

export function serviceAccountOperations(accounts: ServiceAccountService): ApiOperation[] {
  const base = '/api/v1/projects/{project}/serviceAccounts';
  const account = `${base}/{account}`;
  const needs = 'Needs artifactstore.owner on the project.';
  return [
    operation({
      id: 'listServiceAccounts',
      method: 'GET',
      path: base,
      tag: 'Service accounts',
      summary: 'List the service accounts of a project',
      description: needs,
      params: projectParams,
      query: pageQuery,
      response: accountList,
      handle: async ({ caller, params, query }) => {
        const page = await accounts.list(caller, params.project, query);
        return { serviceAccounts: page.items, nextPageToken: page.nextPageToken };
      },
    }),
    operation({
      id: 'createServiceAccount',
      method: 'POST',
      path: base,
      tag: 'Service accounts',
      summary: 'Create a service account (its email is ID@PROJECT.iam.mistrive)',
      description: needs,
      params: projectParams,
      body: newServiceAccount,
      status: 201,
      response: serviceAccountView,
      errors: ['ALREADY_EXISTS'],
      handle: ({ caller, params, body }) => accounts.create(caller, params.project, body),
    }),
    operation({
      id: 'getServiceAccount',
      method: 'GET',
      path: account,
      tag: 'Service accounts',
      summary: 'Get a service account',
      description: needs,
      params: accountParams,
      response: serviceAccountView,
      handle: ({ caller, params }) => accounts.get(caller, params.project, params.account),
    }),
    operation({
      id: 'deleteServiceAccount',
      method: 'DELETE',
      path: account,
      tag: 'Service accounts',
      summary: 'Delete a service account with its keys and every IAM binding naming it',
      description: needs,
      params: accountParams,
      handle: async ({ caller, params }) => accounts.delete(caller, params.project, params.account),
    }),
    operation({
      id: 'listServiceAccountKeys',
      method: 'GET',
      path: `${account}/keys`,
      tag: 'Service accounts',
      summary: "List a service account's keys (never their private halves)",
      description: needs,
      params: accountParams,
      query: pageQuery,
      response: keyList,
      handle: async ({ caller, params, query }) => {
        const page = await accounts.listKeys(caller, params.project, params.account, query);
        return { keys: page.items, nextPageToken: page.nextPageToken };
      },
    }),
    operation({
      id: 'createServiceAccountKey',
      method: 'POST',
      path: `${account}/keys`,
      tag: 'Service accounts',
      summary: 'Create a key; the response carries the key file this once',
      description: needs,
      params: accountParams,
      status: 201,
      response: createdKeyView,
      handle: ({ caller, params, urlOf }) =>
        accounts.createKey(caller, params.project, params.account, urlOf(oauthPaths.token)),
    }),
    operation({
      id: 'updateServiceAccountKey',
      method: 'PATCH',
      path: `${account}/keys/{key}`,
      tag: 'Service accounts',
      summary: 'Disable or enable a key',
      description: needs,
      params: keyParams,
      body: keyChanges,
      response: keyView,
      handle: ({ caller, params, body }) =>
        accounts.updateKey(caller, params.project, params.account, params.key, body),
    }),
    operation({
      id: 'deleteServiceAccountKey',
      method: 'DELETE',
      path: `${account}/keys/{key}`,
      tag: 'Service accounts',
      summary: 'Delete a key',
      description: needs,
      params: keyParams,
      handle: async ({ caller, params }) =>
        accounts.deleteKey(caller, params.project, params.account, params.key),
    }),
  ];
}
