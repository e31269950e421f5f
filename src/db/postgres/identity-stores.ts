import type { Binding } from '../../iam/policy.js';
import type {
  IamStore,
  NewUserRecord,
  ResourceRef,
  RevocationStore,
  ServiceAccountKeyRecord,
  ServiceAccountRecord,
  ServiceAccountStore,
  UserRecord,
  UserStore,
} from '../identity.js';
import { resourceKey } from '../identity.js';
import { type AccountRow, type KeyRow, toAccount, toKey, toUser, type UserRow } from '../rows/identity.js';
import { type PostgresDatabase, sql } from './database.js';

const users = {
  insert: sql(
    `INSERT INTO users (login, password_hash, admin, disabled, created_at, valid_since)
     VALUES (@login, @passwordHash, @admin, @disabled, @createdAt, @createdAt) ON CONFLICT DO NOTHING`,
  ),
  find: sql('SELECT * FROM users WHERE login = @login', 'users.find'),
  list: sql('SELECT * FROM users ORDER BY login'),
  setDisabled: sql('UPDATE users SET disabled = @disabled WHERE login = @login'),
  setPasswordHash: sql('UPDATE users SET password_hash = @passwordHash WHERE login = @login'),
  invalidateTokens: sql('UPDATE users SET valid_since = greatest(valid_since, @at) WHERE login = @login'),
  delete: sql('DELETE FROM users WHERE login = @login'),
};

export class PostgresUserStore implements UserStore {
  constructor(private readonly db: PostgresDatabase) {}

  async create(user: NewUserRecord): Promise<boolean> {
    const { login, passwordHash, admin, disabled } = user;
    return (
      (await this.db.run(users.insert, {
        login,
        passwordHash,
        admin,
        disabled,
        createdAt: user.createdAt.getTime(),
      })) > 0
    );
  }

  async find(login: string): Promise<UserRecord | undefined> {
    const row = await this.db.row<UserRow>(users.find, { login });
    return row && toUser(row);
  }

  async list(): Promise<UserRecord[]> {
    return (await this.db.rows<UserRow>(users.list)).map(toUser);
  }

  async setDisabled(login: string, disabled: boolean): Promise<boolean> {
    return (await this.db.run(users.setDisabled, { disabled, login })) > 0;
  }

  async setPasswordHash(login: string, passwordHash: string): Promise<boolean> {
    return (await this.db.run(users.setPasswordHash, { passwordHash, login })) > 0;
  }

  async invalidateTokens(login: string, at: Date): Promise<boolean> {
    return (await this.db.run(users.invalidateTokens, { at: at.getTime(), login })) > 0;
  }

  async delete(login: string): Promise<boolean> {
    return (await this.db.run(users.delete, { login })) > 0;
  }
}

const accounts = {
  insert: sql(
    `INSERT INTO service_accounts (email, project_id, display_name, created_at)
     VALUES (@email, @project, @displayName, @createdAt) ON CONFLICT DO NOTHING`,
  ),
  find: sql('SELECT * FROM service_accounts WHERE email = @email', 'accounts.find'),
  list: sql('SELECT * FROM service_accounts WHERE project_id = @project ORDER BY email'),
  delete: sql('DELETE FROM service_accounts WHERE email = @email'),
  insertKey: sql(
    `INSERT INTO service_account_keys (id, email, public_key, disabled, created_at)
     VALUES (@id, @email, @publicKey, @disabled, @createdAt)`,
  ),
  findKey: sql('SELECT * FROM service_account_keys WHERE id = @id', 'accounts.findKey'),
  listKeys: sql('SELECT * FROM service_account_keys WHERE email = @email ORDER BY created_at, id'),
  setKeyDisabled: sql('UPDATE service_account_keys SET disabled = @disabled WHERE id = @id'),
  deleteKey: sql('DELETE FROM service_account_keys WHERE id = @id'),
};

export class PostgresServiceAccountStore implements ServiceAccountStore {
  constructor(private readonly db: PostgresDatabase) {}

  async create(account: ServiceAccountRecord): Promise<boolean> {
    const { email, project, displayName, createdAt } = account;
    return (
      (await this.db.run(accounts.insert, { email, project, displayName, createdAt: createdAt.getTime() })) >
      0
    );
  }

  async find(email: string): Promise<ServiceAccountRecord | undefined> {
    const row = await this.db.row<AccountRow>(accounts.find, { email });
    return row && toAccount(row);
  }

  async list(project: string): Promise<ServiceAccountRecord[]> {
    return (await this.db.rows<AccountRow>(accounts.list, { project })).map(toAccount);
  }

  async delete(email: string): Promise<boolean> {
    return (await this.db.run(accounts.delete, { email })) > 0;
  }

  async createKey(key: ServiceAccountKeyRecord): Promise<void> {
    const { id, email, publicKey, disabled } = key;
    await this.db.run(accounts.insertKey, {
      id,
      email,
      publicKey,
      disabled,
      createdAt: key.createdAt.getTime(),
    });
  }

  async findKey(id: string): Promise<ServiceAccountKeyRecord | undefined> {
    const row = await this.db.row<KeyRow>(accounts.findKey, { id });
    return row && toKey(row);
  }

  async listKeys(email: string): Promise<ServiceAccountKeyRecord[]> {
    return (await this.db.rows<KeyRow>(accounts.listKeys, { email })).map(toKey);
  }

  async setKeyDisabled(id: string, disabled: boolean): Promise<boolean> {
    return (await this.db.run(accounts.setKeyDisabled, { disabled, id })) > 0;
  }

  async deleteKey(id: string): Promise<boolean> {
    return (await this.db.run(accounts.deleteKey, { id })) > 0;
  }
}

interface BindingRow {
  resource_kind: string;
  resource_id: string;
  member: string;
  role: string;
}

const iam = {
  bindings: sql(
    `SELECT member, role FROM iam_bindings WHERE resource_kind = @kind AND resource_id = @id
     ORDER BY role, member`,
  ),
  // Every resource a check needs in one round trip (a repository, its project and its organization).
  bindingsOf: sql(
    `SELECT b.resource_kind, b.resource_id, b.member, b.role
     FROM unnest(@kinds::text[], @ids::text[]) AS r(kind, id)
     JOIN iam_bindings b ON b.resource_kind = r.kind AND b.resource_id = r.id ORDER BY b.member, b.role`,
    'iam.bindingsOf',
  ),
  add: sql(
    `INSERT INTO iam_bindings (resource_kind, resource_id, member, role) VALUES (@kind, @id, @member, @role)
     ON CONFLICT DO NOTHING`,
  ),
  remove: sql(
    `DELETE FROM iam_bindings WHERE resource_kind = @kind AND resource_id = @id AND member = @member
     AND role = @role`,
  ),
  removeAll: sql('DELETE FROM iam_bindings WHERE resource_kind = @kind AND resource_id = @id'),
  removeRepositoriesOf: sql(
    "DELETE FROM iam_bindings WHERE resource_kind = 'repository' AND starts_with(resource_id, @id || '/')",
  ),
  removeMember: sql('DELETE FROM iam_bindings WHERE member = @member'),
  resourcesBoundTo: sql(
    `SELECT DISTINCT resource_kind AS kind, resource_id AS id FROM iam_bindings
     WHERE member = ANY(@members::text[]) ORDER BY resource_kind, resource_id`,
  ),
};

export class PostgresIamStore implements IamStore {
  constructor(private readonly db: PostgresDatabase) {}

  async bindings(resource: ResourceRef): Promise<Binding[]> {
    return this.db.rows<Binding>(iam.bindings, { kind: resource.kind, id: resource.id });
  }

  async bindingsOf(resources: readonly ResourceRef[]): Promise<Map<string, Binding[]>> {
    const result = new Map<string, Binding[]>(resources.map((resource) => [resourceKey(resource), []]));
    const rows = await this.db.rows<BindingRow>(iam.bindingsOf, {
      kinds: resources.map((resource) => resource.kind),
      ids: resources.map((resource) => resource.id),
    });
    for (const row of rows) {
      result.get(`${row.resource_kind}:${row.resource_id}`)?.push({ member: row.member, role: row.role });
    }
    return result;
  }

  async add(resource: ResourceRef, binding: Binding): Promise<boolean> {
    return (await this.db.run(iam.add, { kind: resource.kind, id: resource.id, ...binding })) > 0;
  }

  async remove(resource: ResourceRef, binding: Binding): Promise<boolean> {
    return (await this.db.run(iam.remove, { kind: resource.kind, id: resource.id, ...binding })) > 0;
  }

  async removeAll(resource: ResourceRef): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(iam.removeAll, { kind: resource.kind, id: resource.id });
      if (resource.kind === 'project') await tx.run(iam.removeRepositoriesOf, { id: resource.id });
    });
  }

  async removeMember(member: string): Promise<void> {
    await this.db.run(iam.removeMember, { member });
  }

  async resourcesBoundTo(members: readonly string[]): Promise<ResourceRef[]> {
    return this.db.rows<ResourceRef & BindingRow>(iam.resourcesBoundTo, { members: [...members] });
  }
}

const revocations = {
  revoke: sql(
    'INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (@jti, @expiresAt) ON CONFLICT DO NOTHING',
    'revocations.revoke',
  ),
  isRevoked: sql('SELECT 1 AS found FROM revoked_access_tokens WHERE jti = @jti', 'revocations.isRevoked'),
  purge: sql('DELETE FROM revoked_access_tokens WHERE expires_at < @now'),
};

export class PostgresRevocationStore implements RevocationStore {
  constructor(private readonly db: PostgresDatabase) {}

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    await this.db.run(revocations.revoke, { jti, expiresAt: expiresAt.getTime() });
  }

  async revokeOnce(jti: string, expiresAt: Date): Promise<boolean> {
    return (await this.db.run(revocations.revoke, { jti, expiresAt: expiresAt.getTime() })) === 1;
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (await this.db.row(revocations.isRevoked, { jti })) !== undefined;
  }

  async purgeExpired(now: Date): Promise<void> {
    await this.db.run(revocations.purge, { now: now.getTime() });
  }
}
