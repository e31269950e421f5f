import { z } from 'zod';
import { type ApiOperation, operation } from '../operation.js';
import { pageQuery } from '../pagination.js';
import { responseSchema } from '../schemas.js';
import {
  newUser,
  passwordChange,
  passwordReset,
  passwordResetView,
  type UserService,
  userChanges,
  userView,
} from './user-service.js';

const userParams = z.object({ login: z.string().min(1).max(254).describe('The user’s login') });

const userList = responseSchema(
  'UserList',
  z.object({ users: z.array(userView), nextPageToken: z.string().optional() }),
);

export function userOperations(users: UserService): ApiOperation[] {
  return [
    operation({
      id: 'listUsers',
      method: 'GET',
      path: '/api/v1/users',
      tag: 'Users',
      summary: 'List users (instance administrator only)',
      query: pageQuery,
      response: userList,
      handle: async ({ caller, query }) => {
        const page = await users.list(caller, query);
        return { users: page.items, nextPageToken: page.nextPageToken };
      },
    }),
    operation({
      id: 'createUser',
      method: 'POST',
      path: '/api/v1/users',
      tag: 'Users',
      summary: 'Create a user (instance administrator only)',
      body: newUser,
      status: 201,
      response: userView,
      errors: ['ALREADY_EXISTS'],
      handle: ({ caller, body }) => users.create(caller, body),
    }),
    operation({
      id: 'getUser',
      method: 'GET',
      path: '/api/v1/users/{login}',
      tag: 'Users',
      summary: 'Get a user (instance administrator only)',
      params: userParams,
      response: userView,
      handle: ({ caller, params }) => users.get(caller, params.login),
    }),
    operation({
      id: 'updateUser',
      method: 'PATCH',
      path: '/api/v1/users/{login}',
      tag: 'Users',
      summary: 'Disable or enable a user (instance administrator only)',
      params: userParams,
      body: userChanges,
      response: userView,
      errors: ['FAILED_PRECONDITION'],
      handle: ({ caller, params, body }) => users.update(caller, params.login, body),
    }),
    operation({
      id: 'deleteUser',
      method: 'DELETE',
      path: '/api/v1/users/{login}',
      tag: 'Users',
      summary: 'Delete a user, its IAM bindings, tokens and sessions (instance administrator only)',
      params: userParams,
      errors: ['FAILED_PRECONDITION'],
      handle: ({ caller, params }) => users.delete(caller, params.login),
    }),
    operation({
      id: 'resetUserPassword',
      method: 'PUT',
      path: '/api/v1/users/{login}/password',
      tag: 'Users',
      summary: 'Set a user’s password, or generate one (instance administrator only)',
      description:
        'Revokes every token, refresh token and browser session the user holds. Without `password` in the body, one is generated and returned this once.',
      params: userParams,
      body: passwordReset,
      response: passwordResetView,
      errors: ['FAILED_PRECONDITION'],
      handle: ({ caller, params, body }) => users.resetPassword(caller, params.login, body),
    }),
    operation({
      id: 'changeOwnPassword',
      method: 'PUT',
      path: '/api/v1/account/password',
      tag: 'Users',
      summary: 'Change your own password, giving the current one',
      description:
        'Revokes the refresh tokens and browser sessions of every other sign-in; the sign-in the request comes with stays valid.',
      body: passwordChange,
      errors: ['FAILED_PRECONDITION'],
      handle: ({ caller, body, client }) => users.changeOwnPassword(caller, body, client),
    }),
  ];
}
