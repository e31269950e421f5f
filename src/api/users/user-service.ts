import { z } from 'zod';
import { adminLogin } from '../../auth/bootstrap-admin.js';
import { type CredentialService, tokensRevokedAt } from '../../auth/credential-service.js';
import { generatePassword, hashPassword } from '../../auth/passwords.js';
import type { NewUserRecord, UserRecord } from '../../db/identity.js';
import type { MetadataStore } from '../../db/metadata.js';
import { RegistryError } from '../../errors/registry-error.js';
import { type Caller, foldLogin } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import type { ApiAccess } from '../access-checks.js';
import { unauthenticated } from '../authenticate.js';
import { type PageQuery, type PageResult, pageOfList } from '../pagination.js';
import { iso, requestSchema, responseSchema, timestamp } from '../schemas.js';

export const userView = responseSchema(
  'User',
  z.object({
    login: z.string().describe('Folded to lower case: logins are one account whatever their case'),
    admin: z.boolean().describe('The instance administrator'),
    disabled: z.boolean(),
    createdAt: timestamp,
  }),
);

const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(1024, 'must be at most 1024 characters');

export const newUser = requestSchema(
  'NewUser',
  z
    .object({
      login: z
        .email('must be an email address')
        .max(254)
        .describe('The login: an email address, folded to lower case'),
      password: password.describe('Stored as a scrypt hash, never as given'),
    })
    .strict(),
);

export const userChanges = requestSchema(
  'UserChanges',
  z
    .object({
      disabled: z
        .boolean()
        .describe(
          'A disabled user can no longer sign in or use its tokens; tokens issued before a disable stay dead once it is enabled again',
        ),
    })
    .strict(),
);

export const passwordReset = requestSchema(
  'PasswordReset',
  z
    .object({
      password: password
        .optional()
        .describe('The new password; without it, one is generated and returned once'),
    })
    .strict(),
);

export const passwordResetView = responseSchema(
  'PasswordResetResult',
  z.object({
    user: userView,
    password: z.string().optional().describe('The generated password, returned this once'),
  }),
);

export const passwordChange = requestSchema(
  'PasswordChange',
  z
    .object({
      currentPassword: z.string().min(1).max(1024).describe('The password the user signs in with now'),
      newPassword: password.describe('Stored as a scrypt hash, never as given'),
    })
    .strict(),
);

export type UserView = z.input<typeof userView>;
export type PasswordResetView = z.input<typeof passwordResetView>;

const viewUser = (user: UserRecord): UserView => ({
  login: user.login,
  admin: user.admin,
  disabled: user.disabled,
  createdAt: iso(user.createdAt),
});

/**
 * Local users: the instance administrator creates, lists, disables, enables and deletes them and
 * resets their passwords; each user changes their own. Logins are folded wherever they come in.
 *
 * Disabling a user, resetting its password and deleting it revoke everything issued to it before:
 * its `validSince` moves forward (access, refresh and registry tokens older than that are refused
 * even once it is enabled again), its refresh-token families are revoked and its browser sessions
 * ended. A user changing their own password keeps the sign-in they changed it from, as hosted
 * services do, and loses every other.
 */
export class UserService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly credentials: CredentialService,
    private readonly clock: Clock,
  ) {}

  async create(caller: Caller, input: z.output<typeof newUser>): Promise<UserView> {
    this.access.requireAdmin(caller, 'create users');
    const user: NewUserRecord = {
      login: foldLogin(input.login),
      passwordHash: await hashPassword(input.password),
      admin: false,
      disabled: false,
      createdAt: this.clock.now(),
    };
    if (!(await this.metadata.users.create(user))) {
      throw new RegistryError('ALREADY_EXISTS', `user ${user.login} already exists`);
    }
    return viewUser(await this.find(user.login));
  }

  async list(caller: Caller, query: PageQuery): Promise<PageResult<UserView>> {
    this.access.requireAdmin(caller, 'list users');
    const page = pageOfList('users', query, await this.metadata.users.list(), (user) => user.login);
    return { items: page.items.map(viewUser), nextPageToken: page.nextPageToken };
  }

  async get(caller: Caller, login: string): Promise<UserView> {
    this.access.requireAdmin(caller, 'read users');
    return viewUser(await this.find(foldLogin(login)));
  }

  async update(caller: Caller, given: string, changes: z.output<typeof userChanges>): Promise<UserView> {
    this.access.requireAdmin(caller, 'disable or enable users');
    const login = foldLogin(given);
    if (login === adminLogin && changes.disabled) {
      throw new RegistryError('FAILED_PRECONDITION', 'the instance administrator cannot be disabled');
    }
    if (!(await this.metadata.users.setDisabled(login, changes.disabled))) throw userNotFound(login);
    if (changes.disabled) await this.revokeEverything(login);
    return viewUser(await this.find(login));
  }

  /** The administrator sets a user's password (or has one generated, returned once). */
  async resetPassword(
    caller: Caller,
    given: string,
    input: z.output<typeof passwordReset>,
  ): Promise<PasswordResetView> {
    this.access.requireAdmin(caller, 'reset passwords');
    const login = foldLogin(given);
    if (caller.kind === 'user' && caller.login === login) {
      throw new RegistryError(
        'FAILED_PRECONDITION',
        'a reset would sign you out everywhere: change your own password with `mistrive auth change-password` instead',
      );
    }
    const chosen = input.password ?? generatePassword();
    if (!(await this.metadata.users.setPasswordHash(login, await hashPassword(chosen))))
      throw userNotFound(login);
    await this.revokeEverything(login);
    const user = viewUser(await this.find(login));
    return input.password === undefined ? { user, password: chosen } : { user };
  }

  /**
   * A user changes their own password, giving the current one (checked and rate limited like a
   * sign-in). Every other sign-in of theirs is revoked; the one the request came with stays.
   */
  async changeOwnPassword(
    caller: Caller,
    input: z.output<typeof passwordChange>,
    client: string,
  ): Promise<void> {
    if (caller.kind === 'anonymous') throw unauthenticated();
    if (caller.kind !== 'user') {
      throw new RegistryError(
        'FAILED_PRECONDITION',
        'service accounts sign in with keys, not passwords: create a new key and delete the old one',
      );
    }
    try {
      await this.credentials.password(caller.login, input.currentPassword, client);
    } catch (error) {
      if (!(error instanceof RegistryError) || error.code !== 'UNAUTHORIZED') throw error;
      throw new RegistryError('INVALID_ARGUMENT', 'field "currentPassword": is not your current password');
    }
    await this.metadata.users.setPasswordHash(caller.login, await hashPassword(input.newPassword));
    const current = caller.tokenId
      ? await this.metadata.oauth.familyOfAccessToken(caller.tokenId)
      : undefined;
    await this.metadata.oauth.revokeFamiliesOf(`user:${caller.login}`, this.clock.now(), current);
    await this.metadata.oauth.deleteSessionsOf(caller.login);
  }

  /** Deletes a user: its bindings first, then every token and session, then the account. */
  async delete(caller: Caller, given: string): Promise<void> {
    this.access.requireAdmin(caller, 'delete users');
    const login = foldLogin(given);
    if (login === adminLogin) {
      throw new RegistryError('FAILED_PRECONDITION', 'the instance administrator cannot be deleted');
    }
    await this.find(login);
    // Bindings first: a failure in between leaves a user with less access, never a stray grant.
    await this.metadata.iam.removeMember(`user:${login}`);
    await this.revokeEverything(login);
    if (!(await this.metadata.users.delete(login))) throw userNotFound(login);
  }

  private async revokeEverything(login: string): Promise<void> {
    const now = this.clock.now();
    await this.metadata.users.invalidateTokens(login, tokensRevokedAt(now));
    await this.metadata.oauth.revokeFamiliesOf(`user:${login}`, now);
    await this.metadata.oauth.deleteSessionsOf(login);
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
