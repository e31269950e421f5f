import { chmod } from 'node:fs/promises';
import { ManagementApi, type ServiceAccount, type ServiceAccountKey } from '../../client/management-api.js';
import type { CliContext } from '../context.js';
import { writePrivateFile } from '../credentials/files.js';
import { CliError } from '../errors.js';

/** `service-accounts create|list|delete` and `service-accounts keys create|list|delete`. */

export interface ServiceAccountList {
  readonly project: string;
  readonly serviceAccounts: ServiceAccount[];
}

export interface ServiceAccountDeleted {
  readonly serviceAccount: string;
  readonly deleted: true;
}

export interface KeyList {
  readonly serviceAccount: string;
  readonly keys: ServiceAccountKey[];
}

export interface KeyCreated {
  readonly key: ServiceAccountKey;
  /** Where the key file was written; `-` when it went to stdout. */
  readonly keyFile: string;
}

export interface KeyDeleted {
  readonly serviceAccount: string;
  readonly key: string;
  readonly deleted: true;
}

/** A service account named by its email (`ID@PROJECT.iam.mistrive`, which names its project) or by ID with --project. */
export function accountTarget(
  context: CliContext,
  account: string,
  projectFlag?: string,
): { project: string; account: string } {
  const match = /^[^@]+@([a-z][a-z0-9-]*)\.iam\.mistrive$/.exec(account);
  if (match?.[1]) {
    if (projectFlag !== undefined && projectFlag !== match[1]) {
      throw new CliError('USAGE', `${account} belongs to project ${match[1]}, not ${projectFlag}`);
    }
    return { project: match[1], account };
  }
  return { project: context.project(projectFlag), account };
}

const api = (context: CliContext, registry?: string) =>
  new ManagementApi(context.api(context.registry(registry)));

export function createServiceAccount(
  context: CliContext,
  options: { id: string; project: string; displayName?: string; registry?: string },
): Promise<ServiceAccount> {
  return api(context, options.registry).createServiceAccount(
    options.project,
    options.id,
    options.displayName,
  );
}

export async function listServiceAccounts(
  context: CliContext,
  project: string,
  registry?: string,
): Promise<ServiceAccountList> {
  return { project, serviceAccounts: await api(context, registry).listServiceAccounts(project) };
}

export async function deleteServiceAccount(
  context: CliContext,
  target: { project: string; account: string },
  registry?: string,
): Promise<ServiceAccountDeleted> {
  await api(context, registry).deleteServiceAccount(target.project, target.account);
  return { serviceAccount: target.account, deleted: true };
}

/**
 * Creates a key and writes its key file (readable only by you), or prints it when the path is `-`:
 * the registry hands out the private key this once.
 */
export async function createKey(
  context: CliContext,
  target: { project: string; account: string },
  path: string,
  registry?: string,
): Promise<KeyCreated & { keyFileContent?: string }> {
  const created = await api(context, registry).createServiceAccountKey(target.project, target.account);
  const content = `${JSON.stringify(created.keyFile, null, 2)}\n`;
  if (path === '-') return { key: created.key, keyFile: '-', keyFileContent: content };
  try {
    await writePrivateFile(path, content);
    await chmod(path, 0o600);
  } catch (error) {
    throw new CliError(
      'LOCAL_FILE',
      `key ${created.key.id} was created but writing ${path} failed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      {
        hint: `delete the key with \`mistrive service-accounts keys delete ${created.key.id} --service-account ${target.account}\` and try again`,
      },
    );
  }
  return { key: created.key, keyFile: path };
}

export async function listKeys(
  context: CliContext,
  target: { project: string; account: string },
  registry?: string,
): Promise<KeyList> {
  return {
    serviceAccount: target.account,
    keys: await api(context, registry).listServiceAccountKeys(target.project, target.account),
  };
}

export async function deleteKey(
  context: CliContext,
  target: { project: string; account: string },
  key: string,
  registry?: string,
): Promise<KeyDeleted> {
  await api(context, registry).deleteServiceAccountKey(target.project, target.account, key);
  return { serviceAccount: target.account, key, deleted: true };
}
