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
import type { SqliteDatabase } from './database.js';

export class SqliteUserStore implements UserStore {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      insert: db.prepare(
        `INSERT OR IGNORE INTO users (login, password_hash, admin, disabled, created_at, valid_since)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      find: db.prepare('SELECT * FROM users WHERE login = ?'),
      list: db.prepare('SELECT * FROM users ORDER BY login'),
      setDisabled: db.prepare('UPDATE users SET disabled = ? WHERE login = ?'),
      setPasswordHash: db.prepare('UPDATE users SET password_hash = ? WHERE login = ?'),
      invalidateTokens: db.prepare('UPDATE users SET valid_since = max(valid_since, ?) WHERE login = ?'),
      delete: db.prepare('DELETE FROM users WHERE login = ?'),
    };
  }

  async create(user: NewUserRecord): Promise<boolean> {
    const { changes } = this.statements.insert.run(
      user.login,
      user.passwordHash,
      user.admin ? 1 : 0,
      user.disabled ? 1 : 0,
      user.createdAt.getTime(),
      user.createdAt.getTime(),
    );
    return changes > 0;
  }

  async find(login: string): Promise<UserRecord | undefined> {
    const row = this.statements.find.get(login) as UserRow | undefined;
    return row && toUser(row);
  }

  async list(): Promise<UserRecord[]> {
    return (this.statements.list.all() as UserRow[]).map(toUser);
  }

  async setDisabled(login: string, disabled: boolean): Promise<boolean> {
    return this.statements.setDisabled.run(disabled ? 1 : 0, login).changes > 0;
  }

  async setPasswordHash(login: string, passwordHash: string): Promise<boolean> {
    return this.statements.setPasswordHash.run(passwordHash, login).changes > 0;
  }

  async invalidateTokens(login: string, at: Date): Promise<boolean> {
    return this.statements.invalidateTokens.run(at.getTime(), login).changes > 0;
  }

  async delete(login: string): Promise<boolean> {
    return this.statements.delete.run(login).changes > 0;
  }
}

export class SqliteServiceAccountStore implements ServiceAccountStore {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      insert: db.prepare(
        'INSERT OR IGNORE INTO service_accounts (email, project_id, display_name, created_at) VALUES (?, ?, ?, ?)',
      ),
      find: db.prepare('SELECT * FROM service_accounts WHERE email = ?'),
      list: db.prepare('SELECT * FROM service_accounts WHERE project_id = ? ORDER BY email'),
      delete: db.prepare('DELETE FROM service_accounts WHERE email = ?'),
      insertKey: db.prepare(
        'INSERT INTO service_account_keys (id, email, public_key, disabled, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      findKey: db.prepare('SELECT * FROM service_account_keys WHERE id = ?'),
      listKeys: db.prepare('SELECT * FROM service_account_keys WHERE email = ? ORDER BY created_at, id'),
      setKeyDisabled: db.prepare('UPDATE service_account_keys SET disabled = ? WHERE id = ?'),
      deleteKey: db.prepare('DELETE FROM service_account_keys WHERE id = ?'),
    };
  }

  async create(account: ServiceAccountRecord): Promise<boolean> {
    const { email, project, displayName, createdAt } = account;
    return this.statements.insert.run(email, project, displayName, createdAt.getTime()).changes > 0;
  }

  async find(email: string): Promise<ServiceAccountRecord | undefined> {
    const row = this.statements.find.get(email) as AccountRow | undefined;
    return row && toAccount(row);
  }

  async list(project: string): Promise<ServiceAccountRecord[]> {
    return (this.statements.list.all(project) as AccountRow[]).map(toAccount);
  }

  async delete(email: string): Promise<boolean> {
    return this.statements.delete.run(email).changes > 0;
  }

  async createKey(key: ServiceAccountKeyRecord): Promise<void> {
    this.statements.insertKey.run(
      key.id,
      key.email,
      key.publicKey,
      key.disabled ? 1 : 0,
      key.createdAt.getTime(),
    );
  }

  async findKey(id: string): Promise<ServiceAccountKeyRecord | undefined> {
    const row = this.statements.findKey.get(id) as KeyRow | undefined;
    return row && toKey(row);
  }

  async listKeys(email: string): Promise<ServiceAccountKeyRecord[]> {
    return (this.statements.listKeys.all(email) as KeyRow[]).map(toKey);
  }

  async setKeyDisabled(id: string, disabled: boolean): Promise<boolean> {
    return this.statements.setKeyDisabled.run(disabled ? 1 : 0, id).changes > 0;
  }

  async deleteKey(id: string): Promise<boolean> {
    return this.statements.deleteKey.run(id).changes > 0;
  }
}

interface BindingRow {
  resource_kind: string;
  resource_id: string;
  member: string;
  role: string;
}

export class SqliteIamStore implements IamStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      bindings: db.prepare(
        'SELECT member, role FROM iam_bindings WHERE resource_kind = ? AND resource_id = ? ORDER BY role, member',
      ),
      // A repository's chain is three resources; the fixed shape keeps one prepared statement.
      chain: db.prepare(
        `SELECT resource_kind, resource_id, member, role FROM iam_bindings
         WHERE (resource_kind = ? AND resource_id = ?) OR (resource_kind = ? AND resource_id = ?)
            OR (resource_kind = ? AND resource_id = ?)`,
      ),
      add: db.prepare(
        'INSERT OR IGNORE INTO iam_bindings (resource_kind, resource_id, member, role) VALUES (?, ?, ?, ?)',
      ),
      remove: db.prepare(
        'DELETE FROM iam_bindings WHERE resource_kind = ? AND resource_id = ? AND member = ? AND role = ?',
      ),
      removeAll: db.prepare('DELETE FROM iam_bindings WHERE resource_kind = ? AND resource_id = ?'),
      removeRepositoriesOf: db.prepare(
        "DELETE FROM iam_bindings WHERE resource_kind = 'repository' AND substr(resource_id, 1, length(?) + 1) = ? || '/'",
      ),
      removeMember: db.prepare('DELETE FROM iam_bindings WHERE member = ?'),
      resourcesBoundTo: db.prepare(
        `SELECT DISTINCT resource_kind AS kind, resource_id AS id FROM iam_bindings
         WHERE member IN (SELECT value FROM json_each(?)) ORDER BY resource_kind, resource_id`,
      ),
    };
  }

  async bindings(resource: ResourceRef): Promise<Binding[]> {
    return this.statements.bindings.all(resource.kind, resource.id) as Binding[];
  }

  async bindingsOf(resources: readonly ResourceRef[]): Promise<Map<string, Binding[]>> {
    const result = new Map<string, Binding[]>(resources.map((resource) => [resourceKey(resource), []]));
    for (let start = 0; start < resources.length; start += 3) {
      const slice = resources.slice(start, start + 3);
      while (slice.length < 3) slice.push(slice[0] as ResourceRef);
      const args = slice.flatMap((resource) => [resource.kind, resource.id]);
      for (const row of this.statements.chain.all(...args) as BindingRow[]) {
        result.get(`${row.resource_kind}:${row.resource_id}`)?.push({ member: row.member, role: row.role });
      }
    }
    return result;
  }

  async add(resource: ResourceRef, binding: Binding): Promise<boolean> {
    return this.statements.add.run(resource.kind, resource.id, binding.member, binding.role).changes > 0;
  }

  async remove(resource: ResourceRef, binding: Binding): Promise<boolean> {
    return this.statements.remove.run(resource.kind, resource.id, binding.member, binding.role).changes > 0;
  }

  async removeAll(resource: ResourceRef): Promise<void> {
    this.db.transaction(() => {
      this.statements.removeAll.run(resource.kind, resource.id);
      if (resource.kind === 'project') this.statements.removeRepositoriesOf.run(resource.id, resource.id);
    })();
  }

  async removeMember(member: string): Promise<void> {
    this.statements.removeMember.run(member);
  }

  async resourcesBoundTo(members: readonly string[]): Promise<ResourceRef[]> {
    return this.statements.resourcesBoundTo.all(JSON.stringify(members)) as ResourceRef[];
  }
}

export class SqliteRevocationStore implements RevocationStore {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      revoke: db.prepare('INSERT OR IGNORE INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?)'),
      isRevoked: db.prepare('SELECT 1 FROM revoked_access_tokens WHERE jti = ?').pluck(),
      purge: db.prepare('DELETE FROM revoked_access_tokens WHERE expires_at < ?'),
    };
  }

  async revoke(jti: string, expiresAt: Date): Promise<void> {
    this.statements.revoke.run(jti, expiresAt.getTime());
  }

  async revokeOnce(jti: string, expiresAt: Date): Promise<boolean> {
    return this.statements.revoke.run(jti, expiresAt.getTime()).changes === 1;
  }

  async isRevoked(jti: string): Promise<boolean> {
    return this.statements.isRevoked.get(jti) !== undefined;
  }

  async purgeExpired(now: Date): Promise<void> {
    this.statements.purge.run(now.getTime());
  }
}
