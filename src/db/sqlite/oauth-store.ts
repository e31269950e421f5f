import type { GrantRecord, OAuthStore, RefreshTokenRecord, WebSessionRecord } from '../oauth.js';
import {
  type GrantRow,
  type RefreshTokenRow,
  type SessionRow,
  toGrant,
  toRefreshToken,
  toSession,
} from '../rows/oauth.js';
import type { SqliteDatabase } from './database.js';

export class SqliteOAuthStore implements OAuthStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      insertGrant: db.prepare(
        `INSERT OR IGNORE INTO oauth_grants (code_hash, kind, client_id, scope, redirect_uri, code_challenge,
           user_code_hash, interval_seconds, last_polled_at, subject, status, family_id, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      findGrant: db.prepare('SELECT * FROM oauth_grants WHERE code_hash = ?'),
      findGrantByUserCode: db.prepare('SELECT * FROM oauth_grants WHERE user_code_hash = ?'),
      decideGrant: db.prepare(
        "UPDATE oauth_grants SET status = ?, subject = ? WHERE code_hash = ? AND status = 'pending' AND expires_at > ?",
      ),
      recordPoll: db.prepare(
        'UPDATE oauth_grants SET last_polled_at = ?, interval_seconds = ? WHERE code_hash = ?',
      ),
      redeemGrant: db.prepare(
        "UPDATE oauth_grants SET status = 'redeemed', family_id = ? WHERE code_hash = ? AND status = 'approved' AND expires_at > ?",
      ),
      insertRefreshToken: db.prepare(
        `INSERT INTO refresh_tokens (token_hash, family_id, subject, client_id, scope, access_token_id,
           access_expires_at, used_at, revoked_at, expires_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      findRefreshToken: db.prepare('SELECT * FROM refresh_tokens WHERE token_hash = ?'),
      useRefreshToken: db.prepare(
        `UPDATE refresh_tokens SET used_at = ?
         WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?`,
      ),
      revokeAccessTokensOfFamily: db.prepare(
        `INSERT OR IGNORE INTO revoked_access_tokens (jti, expires_at)
         SELECT access_token_id, access_expires_at FROM refresh_tokens WHERE family_id = ? AND access_expires_at > ?`,
      ),
      revokeFamily: db.prepare(
        'UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL',
      ),
      familyOfAccessToken: db
        .prepare('SELECT family_id FROM refresh_tokens WHERE access_token_id = ?')
        .pluck(),
      familiesOf: db
        .prepare(
          'SELECT DISTINCT family_id FROM refresh_tokens WHERE subject = ? AND family_id IS NOT ? AND revoked_at IS NULL',
        )
        .pluck(),
      insertSession: db.prepare(
        'INSERT INTO web_sessions (id_hash, login, csrf_token, expires_at, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      findSession: db.prepare('SELECT * FROM web_sessions WHERE id_hash = ? AND expires_at > ?'),
      deleteSession: db.prepare('DELETE FROM web_sessions WHERE id_hash = ?'),
      deleteSessionsOf: db.prepare('DELETE FROM web_sessions WHERE login = ?'),
      purgeGrants: db.prepare('DELETE FROM oauth_grants WHERE expires_at < ?'),
      purgeRefreshTokens: db.prepare('DELETE FROM refresh_tokens WHERE expires_at < ?'),
      purgeSessions: db.prepare('DELETE FROM web_sessions WHERE expires_at < ?'),
    };
  }

  async createGrant(grant: GrantRecord): Promise<boolean> {
    const { changes } = this.statements.insertGrant.run(
      grant.codeHash,
      grant.kind,
      grant.clientId,
      grant.scope,
      grant.redirectUri ?? null,
      grant.codeChallenge ?? null,
      grant.userCodeHash ?? null,
      grant.intervalSeconds ?? null,
      grant.lastPolledAt?.getTime() ?? null,
      grant.subject ?? null,
      grant.status,
      grant.familyId ?? null,
      grant.expiresAt.getTime(),
      grant.createdAt.getTime(),
    );
    return changes > 0;
  }

  async findGrant(codeHash: string): Promise<GrantRecord | undefined> {
    const row = this.statements.findGrant.get(codeHash) as GrantRow | undefined;
    return row && toGrant(row);
  }

  async findGrantByUserCode(userCodeHash: string): Promise<GrantRecord | undefined> {
    const row = this.statements.findGrantByUserCode.get(userCodeHash) as GrantRow | undefined;
    return row && toGrant(row);
  }

  async decideGrant(
    codeHash: string,
    decision: 'approved' | 'denied',
    subject: string,
    now: Date,
  ): Promise<boolean> {
    return this.statements.decideGrant.run(decision, subject, codeHash, now.getTime()).changes > 0;
  }

  async recordPoll(codeHash: string, at: Date, intervalSeconds: number): Promise<void> {
    this.statements.recordPoll.run(at.getTime(), intervalSeconds, codeHash);
  }

  async redeemGrant(codeHash: string, familyId: string, now: Date): Promise<boolean> {
    return this.statements.redeemGrant.run(familyId, codeHash, now.getTime()).changes > 0;
  }

  async createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    this.insertRefreshToken(token);
  }

  async findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined> {
    const row = this.statements.findRefreshToken.get(tokenHash) as RefreshTokenRow | undefined;
    return row && toRefreshToken(row);
  }

  async rotateRefreshToken(previousHash: string, next: RefreshTokenRecord): Promise<boolean> {
    return this.db.transaction(() => {
      const at = next.createdAt.getTime();
      if (this.statements.useRefreshToken.run(at, previousHash, at).changes === 0) return false;
      this.insertRefreshToken(next);
      return true;
    })();
  }

  async revokeFamily(familyId: string, at: Date): Promise<void> {
    this.db.transaction(() => this.revokeOneFamily(familyId, at))();
  }

  async familyOfAccessToken(jti: string): Promise<string | undefined> {
    return this.statements.familyOfAccessToken.get(jti) as string | undefined;
  }

  async revokeFamiliesOf(subject: string, at: Date, except?: string): Promise<void> {
    this.db.transaction(() => {
      for (const familyId of this.statements.familiesOf.all(subject, except ?? null) as string[])
        this.revokeOneFamily(familyId, at);
    })();
  }

  async createSession(session: WebSessionRecord): Promise<void> {
    this.statements.insertSession.run(
      session.idHash,
      session.login,
      session.csrfToken,
      session.expiresAt.getTime(),
      session.createdAt.getTime(),
    );
  }

  async findSession(idHash: string, now: Date): Promise<WebSessionRecord | undefined> {
    const row = this.statements.findSession.get(idHash, now.getTime()) as SessionRow | undefined;
    return row && toSession(row);
  }

  async deleteSession(idHash: string): Promise<void> {
    this.statements.deleteSession.run(idHash);
  }

  async deleteSessionsOf(login: string): Promise<void> {
    this.statements.deleteSessionsOf.run(login);
  }

  async purgeExpired(before: Date): Promise<void> {
    this.db.transaction(() => {
      this.statements.purgeGrants.run(before.getTime());
      this.statements.purgeRefreshTokens.run(before.getTime());
      this.statements.purgeSessions.run(before.getTime());
    })();
  }

  private revokeOneFamily(familyId: string, at: Date): void {
    this.statements.revokeAccessTokensOfFamily.run(familyId, at.getTime());
    this.statements.revokeFamily.run(at.getTime(), familyId);
  }

  private insertRefreshToken(token: RefreshTokenRecord): void {
    this.statements.insertRefreshToken.run(
      token.tokenHash,
      token.familyId,
      token.subject,
      token.clientId,
      token.scope,
      token.accessTokenId,
      token.accessExpiresAt.getTime(),
      token.usedAt?.getTime() ?? null,
      token.revokedAt?.getTime() ?? null,
      token.expiresAt.getTime(),
      token.createdAt.getTime(),
    );
  }
}
