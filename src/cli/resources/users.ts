import { ManagementApi, type User } from '../../client/management-api.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

/** `users create|list|disable|enable` (the instance administrator). */

export interface UserList {
  readonly users: User[];
}

const api = (context: CliContext, registry?: string) =>
  new ManagementApi(context.api(context.registry(registry)));

export function createUser(
  context: CliContext,
  login: string,
  password: string,
  registry?: string,
): Promise<User> {
  if (!password) {
    throw new CliError('USAGE', 'no password on stdin', {
      hint: 'pipe it in: `printf %s "$PASSWORD" | mistrive users create EMAIL --password-stdin`',
    });
  }
  return api(context, registry).createUser(login, password);
}

export async function listUsers(context: CliContext, registry?: string): Promise<UserList> {
  return { users: await api(context, registry).listUsers() };
}

export function setUserDisabled(
  context: CliContext,
  login: string,
  disabled: boolean,
  registry?: string,
): Promise<User> {
  return api(context, registry).updateUser(login, { disabled });
}
