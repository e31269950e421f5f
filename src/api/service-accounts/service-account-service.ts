import { z } from 'zod';
import { generateServiceAccountKey, keyFileSchema } from '../../auth/service-account-keys.js';
import type { ServiceAccountKeyRecord, ServiceAccountRecord } from '../../db/identity.js';
import type { MetadataStore } from '../../db/metadata.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import { type ApiAccess, projectNotFound } from '../access-checks.js';
import { type PageQuery, type PageResult, pageOfList } from '../pagination.js';
import { displayName, iso, requestSchema, resourceId, responseSchema, timestamp } from '../schemas.js';

/** Service accounts are named `ID@PROJECT.iam.mistrive`. */
export const serviceAccountDomain = 'iam.mistrive';

/** The project a service-account email names (`ID@PROJECT.iam.mistrive`); undefined for any other email. */
export function serviceAccountProject(email: string): string | undefined {
  const suffix = `.${serviceAccountDomain}`;
  const domain = email.slice(email.indexOf('@') + 1);
  if (!email.includes('@') || !domain.endsWith(suffix)) return undefined;
  return domain.slice(0, -suffix.length) || undefined;
}

export const serviceAccountView = responseSchema(
  'ServiceAccount',
  z.object({
    email: z.string().describe('Its principal is serviceAccount:EMAIL'),
    accountId: z.string(),
    project: z.string(),
    displayName: z.string(),
    createdAt: timestamp,
  }),
);

export const newServiceAccount = requestSchema(
  'NewServiceAccount',
  z
    .object({
      accountId: resourceId.describe('The part of the email before the @'),
      displayName: displayName.default(''),
    })
    .strict(),
);

export const keyView = responseSchema(
  'ServiceAccountKey',
  z.object({ id: z.string(), serviceAccount: z.string(), disabled: z.boolean(), createdAt: timestamp }),
);

export const createdKeyView = responseSchema(
  'CreatedServiceAccountKey',
  z.object({
    key: keyView,
    keyFile: keyFileSchema.describe(
      'The key file, returned this once: the server keeps only the public key. Base64 of its JSON is what MISTRIVE_KEY and _json_key_base64 take.',
    ),
  }),
);

export const keyChanges = requestSchema(
  'ServiceAccountKeyChanges',
  z.object({ disabled: z.boolean().describe('A disabled key no longer authenticates') }).strict(),
);

export type ServiceAccountView = z.input<typeof serviceAccountView>;
export type KeyView = z.input<typeof keyView>;
export type CreatedKeyView = z.input<typeof createdKeyView>;

const viewAccount = (account: ServiceAccountRecord): ServiceAccountView => ({
  email: account.email,
  accountId: account.email.slice(0, account.email.indexOf('@')),
  project: account.project,
  displayName: account.displayName,
  createdAt: iso(account.createdAt),
});

const viewKey = (key: ServiceAccountKeyRecord): KeyView => ({
  id: key.id,
  serviceAccount: key.email,
  disabled: key.disabled,
  createdAt: iso(key.createdAt),
});

/** Service accounts of a project and their keys; managing them takes artifactstore.owner on the project. */
export class ServiceAccountService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
  ) {}

  async create(
    caller: Caller,
    project: string,
    input: z.output<typeof newServiceAccount>,
  ): Promise<ServiceAccountView> {
    await this.authorize(caller, project);
    const account: ServiceAccountRecord = {
      email: `${input.accountId}@${project}.${serviceAccountDomain}`,
      project,
      displayName: input.displayName,
      createdAt: this.clock.now(),
    };
    if (!(await this.metadata.serviceAccounts.create(account))) {
      throw new RegistryError('ALREADY_EXISTS', `service account ${account.email} already exists`);
    }
    return viewAccount(account);
  }

  async list(caller: Caller, project: string, query: PageQuery): Promise<PageResult<ServiceAccountView>> {
    await this.authorize(caller, project);
    const accounts = await this.metadata.serviceAccounts.list(project);
    const page = pageOfList(`service accounts ${project}`, query, accounts, (account) => account.email);
    return { items: page.items.map(viewAccount), nextPageToken: page.nextPageToken };
  }

  async get(caller: Caller, project: string, account: string): Promise<ServiceAccountView> {
    await this.authorize(caller, project);
    return viewAccount(await this.find(project, account));
  }

  /** Deletes the account, its keys and every IAM binding naming it. */
  async delete(caller: Caller, project: string, account: string): Promise<void> {
    await this.authorize(caller, project);
    const { email } = await this.find(project, account);
    // Bindings first: a failure in between leaves an account with less access, never a stray grant.
    await this.metadata.iam.removeMember(`serviceAccount:${email}`);
    if (!(await this.metadata.serviceAccounts.delete(email))) throw accountNotFound(project, account);
  }

  /** Creates a key pair: the response carries the private key this once, the server keeps the public key. */
  /** `tokenUri`: the token endpoint, where the key's holder exchanges a signed assertion for an access token. */
  async createKey(
    caller: Caller,
    project: string,
    account: string,
    tokenUri: string,
  ): Promise<CreatedKeyView> {
    await this.authorize(caller, project);
    const { email } = await this.find(project, account);
    const generated = await generateServiceAccountKey(email, project, tokenUri);
    const key: ServiceAccountKeyRecord = {
      id: generated.id,
      email,
      publicKey: generated.publicKey,
      disabled: false,
      createdAt: this.clock.now(),
    };
    await this.metadata.serviceAccounts.createKey(key);
    return { key: viewKey(key), keyFile: generated.keyFile };
  }

  async listKeys(
    caller: Caller,
    project: string,
    account: string,
    query: PageQuery,
  ): Promise<PageResult<KeyView>> {
    await this.authorize(caller, project);
    const { email } = await this.find(project, account);
    const keys = [...(await this.metadata.serviceAccounts.listKeys(email))].sort((a, b) =>
      a.id.localeCompare(b.id),
    );
    const page = pageOfList(`keys ${email}`, query, keys, (key) => key.id);
    return { items: page.items.map(viewKey), nextPageToken: page.nextPageToken };
  }

  async updateKey(
    caller: Caller,
    project: string,
    account: string,
    keyId: string,
    changes: z.output<typeof keyChanges>,
  ): Promise<KeyView> {
    await this.authorize(caller, project);
    const key = await this.findKey(project, account, keyId);
    await this.metadata.serviceAccounts.setKeyDisabled(key.id, changes.disabled);
    return viewKey({ ...key, disabled: changes.disabled });
  }

  async deleteKey(caller: Caller, project: string, account: string, keyId: string): Promise<void> {
    await this.authorize(caller, project);
    const key = await this.findKey(project, account, keyId);
    if (!(await this.metadata.serviceAccounts.deleteKey(key.id))) throw keyNotFound(keyId);
  }

  private async authorize(caller: Caller, project: string): Promise<void> {
    await this.access.project(caller, project, 'administer');
    if (!(await this.metadata.projects.find(project))) throw projectNotFound(project);
  }

  /** An account of the project, named by its email or by the ID before the @. */
  private async find(project: string, account: string): Promise<ServiceAccountRecord> {
    const email = account.includes('@') ? account : `${account}@${project}.${serviceAccountDomain}`;
    const found = await this.metadata.serviceAccounts.find(email);
    if (!found || found.project !== project) throw accountNotFound(project, account);
    return found;
  }

  private async findKey(project: string, account: string, keyId: string): Promise<ServiceAccountKeyRecord> {
    const { email } = await this.find(project, account);
    const key = await this.metadata.serviceAccounts.findKey(keyId);
    if (!key || key.email !== email) throw keyNotFound(keyId);
    return key;
  }
}

function accountNotFound(project: string, account: string): RegistryError {
  return new RegistryError('NOT_FOUND', `service account ${account} not found in project ${project}`);
}

function keyNotFound(keyId: string): RegistryError {
  return new RegistryError('NOT_FOUND', `key ${keyId} not found`);
}
