import { z } from 'zod';
import { adminLogin } from '../../auth/bootstrap-admin.js';
import { hashPassword } from '../../auth/passwords.js';
import type { UserRecord } from '../../db/identity.js';
import type { MetadataStore } from '../../db/metadata.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import type { ApiAccess } from '../access-checks.js';
import { type PageQuery, type PageResult, pageOfList } from '../pagination.js';
import { iso, requestSchema, responseSchema, timestamp } from '../schemas.js';

export const userView = responseSchema(
  'User',
  z.object({
    login: z.string(),
    admin: z.boolean().describe('The instance administrator'),
    disabled: z.boolean(),
    createdAt: timestamp,
  }),
);

export const newUser = requestSchema(
  'NewUser',
  z
    .object({
      login: z.email('must be an email address').max(254).describe('The login: an email address'),
      password: z
        .string()
        .min(8, 'must be at least 8 characters')
        .max(1024, 'must be at most 1024 characters')
        .describe('Stored as a scrypt hash, never as given'),
    })
    .strict(),
);

export const userChanges = requestSchema(
  'UserChanges',
  z
    .object({ disabled: z.boolean().describe('A disabled user can no longer sign in or use its tokens') })
    .strict(),
);

export type UserView = z.input<typeof userView>;

const viewUser = (user: UserRecord): UserView => ({
  login: user.login,
  admin: user.admin,
  disabled: user.disabled,
  createdAt: iso(user.createdAt),
});

/** Local users: the instance administrator creates, lists, disables and enables them. */
export class UserService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
  ) {}

  async create(caller: Caller, input: z.output<typeof newUser>): Promise<UserView> {
    this.access.requireAdmin(caller, 'create users');
    const user: UserRecord = {
      login: input.login,
      passwordHash: await hashPassword(input.password),
      admin: false,
      disabled: false,
      createdAt: this.clock.now(),
    };
    if (!(await this.metadata.users.create(user))) {
      throw new RegistryError('ALREADY_EXISTS', `user ${input.login} already exists`);
    }
    return viewUser(user);
  }

  async list(caller: Caller, query: PageQuery): Promise<PageResult<UserView>> {
    this.access.requireAdmin(caller, 'list users');
    const page = pageOfList('users', query, await this.metadata.users.list(), (user) => user.login);
    return { items: page.items.map(viewUser), nextPageToken: page.nextPageToken };
  }

  async get(caller: Caller, login: string): Promise<UserView> {
    this.access.requireAdmin(caller, 'read users');
    return viewUser(await this.find(login));
  }

  async update(caller: Caller, login: string, changes: z.output<typeof userChanges>): Promise<UserView> {
    this.access.requireAdmin(caller, 'disable or enable users');
    if (login === adminLogin && changes.disabled) {
      throw new RegistryError('FAILED_PRECONDITION', 'the instance administrator cannot be disabled');
    }
    if (!(await this.metadata.users.setDisabled(login, changes.disabled))) throw userNotFound(login);
    return viewUser(await this.find(login));
  }

  private async find(login: string): Promise<UserRecord> {
    const user = await this.metadata.users.find(login);
    if (!user) throw userNotFound(login);
    return user;
  }
}

function userNotFound(login: string): RegistryError {
  return new RegistryError('NOT_FOUND', `user ${login} not found`);
}
