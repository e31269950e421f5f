import type { GrantRecord, OAuthStore, RefreshTokenRecord, WebSessionRecord } from '../oauth.js';
import {
  type GrantRow,
  type RefreshTokenRow,
  type SessionRow,
  toGrant,
  toRefreshToken,
  toSession,
} from '../rows/oauth.js';
import { type PostgresDatabase, type Queryable, sql } from './database.js';

const statements = {
  insertGrant: sql(
    `INSERT INTO oauth_grants (code_hash, kind, client_id, scope, redirect_uri, code_challenge,
       user_code_hash, interval_seconds, last_polled_at, subject, status, family_id, expires_at, created_at)
     VALUES (@codeHash, @kind, @clientId, @scope, @redirectUri, @codeChallenge, @userCodeHash,
       @intervalSeconds, @lastPolledAt, @subject, @status, @familyId, @expiresAt, @createdAt)
     ON CONFLICT DO NOTHING`,
  ),
  findGrant: sql('SELECT * FROM oauth_grants WHERE code_hash = @codeHash'),
  findGrantByUserCode: sql('SELECT * FROM oauth_grants WHERE user_code_hash = @userCodeHash'),
  decideGrant: sql(
    `UPDATE oauth_grants SET status = @decision, subject = @subject
     WHERE code_hash = @codeHash AND status = 'pending' AND expires_at > @now`,
  ),
  recordPoll: sql(
    'UPDATE oauth_grants SET last_polled_at = @at, interval_seconds = @intervalSeconds WHERE code_hash = @codeHash',
  ),
  redeemGrant: sql(
    `UPDATE oauth_grants SET status = 'redeemed', family_id = @familyId
     WHERE code_hash = @codeHash AND status = 'approved' AND expires_at > @now`,
  ),
  insertRefreshToken: sql(
    `INSERT INTO refresh_tokens (token_hash, family_id, subject, client_id, scope, access_token_id,
       access_expires_at, used_at, revoked_at, expires_at, created_at)
     VALUES (@tokenHash, @familyId, @subject, @clientId, @scope, @accessTokenId, @accessExpiresAt,
       @usedAt, @revokedAt, @expiresAt, @createdAt)`,
  ),
  findRefreshToken: sql('SELECT * FROM refresh_tokens WHERE token_hash = @tokenHash'),
  // Spends the token once: of two requests racing with it, the second finds it used.
  useRefreshToken: sql(
    `UPDATE refresh_tokens SET used_at = @at
     WHERE token_hash = @tokenHash AND used_at IS NULL AND revoked_at IS NULL AND expires_at > @at`,
  ),
  revokeAccessTokensOfFamily: sql(
    `INSERT INTO revoked_access_tokens (jti, expires_at)
     SELECT access_token_id, access_expires_at FROM refresh_tokens WHERE family_id = @familyId AND access_expires_at > @at
     ON CONFLICT DO NOTHING`,
  ),
  revokeFamily: sql(
    'UPDATE refresh_tokens SET revoked_at = @at WHERE family_id = @familyId AND revoked_at IS NULL',
  ),
  familyOfAccessToken: sql('SELECT family_id FROM refresh_tokens WHERE access_token_id = @jti'),
  familiesOf: sql(
    `SELECT DISTINCT family_id FROM refresh_tokens
     WHERE subject = @subject AND family_id IS DISTINCT FROM @except AND revoked_at IS NULL`,
  ),
  insertSession: sql(
    `INSERT INTO web_sessions (id_hash, login, csrf_token, expires_at, created_at)
     VALUES (@idHash, @login, @csrfToken, @expiresAt, @createdAt)`,
  ),
  findSession: sql(
    'SELECT * FROM web_sessions WHERE id_hash = @idHash AND expires_at > @now',
    'oauth.findSession',
  ),
  deleteSession: sql('DELETE FROM web_sessions WHERE id_hash = @idHash'),
  deleteSessionsOf: sql('DELETE FROM web_sessions WHERE login = @login'),
  purgeGrants: sql('DELETE FROM oauth_grants WHERE expires_at < @before'),
  purgeRefreshTokens: sql('DELETE FROM refresh_tokens WHERE expires_at < @before'),
  purgeSessions: sql('DELETE FROM web_sessions WHERE expires_at < @before'),
};

export class PostgresOAuthStore implements OAuthStore {
  constructor(private readonly db: PostgresDatabase) {}

  async createGrant(grant: GrantRecord): Promise<boolean> {
    const changes = await this.db.run(statements.insertGrant, {
      codeHash: grant.codeHash,
      kind: grant.kind,
      clientId: grant.clientId,
      scope: grant.scope,
      redirectUri: grant.redirectUri ?? null,
      codeChallenge: grant.codeChallenge ?? null,
      userCodeHash: grant.userCodeHash ?? null,
      intervalSeconds: grant.intervalSeconds ?? null,
      lastPolledAt: grant.lastPolledAt?.getTime() ?? null,
      subject: grant.subject ?? null,
      status: grant.status,
      familyId: grant.familyId ?? null,
      expiresAt: grant.expiresAt.getTime(),
      createdAt: grant.createdAt.getTime(),
    });
    return changes > 0;
  }

  async findGrant(codeHash: string): Promise<GrantRecord | undefined> {
    const row = await this.db.row<GrantRow>(statements.findGrant, { codeHash });
    return row && toGrant(row);
  }

  async findGrantByUserCode(userCodeHash: string): Promise<GrantRecord | undefined> {
    const row = await this.db.row<GrantRow>(statements.findGrantByUserCode, { userCodeHash });
    return row && toGrant(row);
  }

  async decideGrant(
    codeHash: string,
    decision: 'approved' | 'denied',
    subject: string,
    now: Date,
  ): Promise<boolean> {
    return (
      (await this.db.run(statements.decideGrant, { decision, subject, codeHash, now: now.getTime() })) > 0
    );
  }

  async recordPoll(codeHash: string, at: Date, intervalSeconds: number): Promise<void> {
    await this.db.run(statements.recordPoll, { at: at.getTime(), intervalSeconds, codeHash });
  }

  async redeemGrant(codeHash: string, familyId: string, now: Date): Promise<boolean> {
    return (await this.db.run(statements.redeemGrant, { familyId, codeHash, now: now.getTime() })) > 0;
  }

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await insertRefreshToken(this.db, token);
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = await this.db.row<RefreshTokenRow>(statements.findRefreshToken, { tokenHash });
    return row && toRefreshToken(row);
  }

  async rotateRefreshToken(previousHash: string, next: RefreshTokenRecord): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const at = next.createdAt.getTime();
      if ((await tx.run(statements.useRefreshToken, { at, tokenHash: previousHash })) === 0) return false;
      await insertRefreshToken(tx, next);
      return true;
    });
  }

  async revokeFamily(familyId: string, at: Date): Promise<void> {
    await this.db.transaction((tx) => revokeOneFamily(tx, familyId, at));
  }

  async familyOfAccessToken(jti: string): Promise<string | undefined> {
    return (await this.db.row<{ family_id: string }>(statements.familyOfAccessToken, { jti }))?.family_id;
  }

  async revokeFamiliesOf(subject: string, at: Date, except?: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const families = await tx.rows<{ family_id: string }>(statements.familiesOf, {
        subject,
        except: except ?? null,
      });
      for (const { family_id } of families) await revokeOneFamily(tx, family_id, at);
    });
  }

  async createSession(session: WebSessionRecord): Promise<void> {
    await this.db.run(statements.insertSession, {
      idHash: session.idHash,
      login: session.login,
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt.getTime(),
      createdAt: session.createdAt.getTime(),
    });
  }

  async findSession(idHash: string, now: Date): Promise<WebSessionRecord | undefined> {
    const row = await this.db.row<SessionRow>(statements.findSession, { idHash, now: now.getTime() });
    return row && toSession(row);
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.run(statements.deleteSession, { idHash });
  }

  async deleteSessionsOf(login: string): Promise<void> {
    await this.db.run(statements.deleteSessionsOf, { login });
  }

  async purgeExpired(before: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(statements.purgeGrants, { before: before.getTime() });
      await tx.run(statements.purgeRefreshTokens, { before: before.getTime() });
      await tx.run(statements.purgeSessions, { before: before.getTime() });
    });
  }
}

async function revokeOneFamily(tx: Queryable, familyId: string, at: Date): Promise<void> {
  await tx.run(statements.revokeAccessTokensOfFamily, { familyId, at: at.getTime() });
  await tx.run(statements.revokeFamily, { familyId, at: at.getTime() });
}

async function insertRefreshToken(tx: Queryable, token: RefreshTokenRecord): Promise<void> {
  await tx.run(statements.insertRefreshToken, {
    tokenHash: token.tokenHash,
    familyId: token.familyId,
    subject: token.subject,
    clientId: token.clientId,
    scope: token.scope,
    accessTokenId: token.accessTokenId,
    accessExpiresAt: token.accessExpiresAt.getTime(),
    usedAt: token.usedAt?.getTime() ?? null,
    revokedAt: token.revokedAt?.getTime() ?? null,
    expiresAt: token.expiresAt.getTime(),
    createdAt: token.createdAt.getTime(),
  });
}
