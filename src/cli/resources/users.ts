import { ManagementApi, type PasswordReset, type User } from '../../client/management-api.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

/** `users create|list|disable|enable|delete|set-password` (the instance administrator). */

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

export async function deleteUser(
  context: CliContext,
  login: string,
  registry?: string,
): Promise<{ login: string }> {
  await api(context, registry).deleteUser(login);
  return { login };
}

/** `password` from stdin, or undefined for the server to generate one (returned once). */
export function resetPassword(
  context: CliContext,
  login: string,
  password: string | undefined,
  registry?: string,
): Promise<PasswordReset> {
  if (password === '') {
    throw new CliError('USAGE', 'no password on stdin', {
      hint: 'pipe it in with --password-stdin, or leave the flag out to have one generated',
    });
  }
  return api(context, registry).resetUserPassword(login, password);
}
