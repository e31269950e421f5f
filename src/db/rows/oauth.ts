import type { GrantKind, GrantRecord, GrantStatus, RefreshTokenRecord, WebSessionRecord } from '../oauth.js';
import { optionalDate } from './values.js';

/** The OAuth server's rows and their records, shared by the SQLite and PostgreSQL stores. */

export interface GrantRow {
  code_hash: string;
  kind: string;
  client_id: string;
  scope: string;
  redirect_uri: string | null;
  code_challenge: string | null;
  user_code_hash: string | null;
  interval_seconds: number | null;
  last_polled_at: number | null;
  subject: string | null;
  status: string;
  family_id: string | null;
  expires_at: number;
  created_at: number;
}

export interface RefreshTokenRow {
  token_hash: string;
  family_id: string;
  subject: string;
  client_id: string;
  scope: string;
  access_token_id: string;
  access_expires_at: number;
  used_at: number | null;
  revoked_at: number | null;
  expires_at: number;
  created_at: number;
}

export interface SessionRow {
  id_hash: string;
  login: string;
  csrf_token: string;
  expires_at: number;
  created_at: number;
}

export const toGrant = (row: GrantRow): GrantRecord => ({
  codeHash: row.code_hash,
  kind: row.kind as GrantKind,
  clientId: row.client_id,
  scope: row.scope,
  redirectUri: row.redirect_uri ?? undefined,
  codeChallenge: row.code_challenge ?? undefined,
  userCodeHash: row.user_code_hash ?? undefined,
  intervalSeconds: row.interval_seconds ?? undefined,
  lastPolledAt: optionalDate(row.last_polled_at),
  subject: row.subject ?? undefined,
  status: row.status as GrantStatus,
  familyId: row.family_id ?? undefined,
  expiresAt: new Date(row.expires_at),
  createdAt: new Date(row.created_at),
});

export const toRefreshToken = (row: RefreshTokenRow): RefreshTokenRecord => ({
  tokenHash: row.token_hash,
  familyId: row.family_id,
  subject: row.subject,
  clientId: row.client_id,
  scope: row.scope,
  accessTokenId: row.access_token_id,
  accessExpiresAt: new Date(row.access_expires_at),
  usedAt: optionalDate(row.used_at),
  revokedAt: optionalDate(row.revoked_at),
  expiresAt: new Date(row.expires_at),
  createdAt: new Date(row.created_at),
});

export const toSession = (row: SessionRow): WebSessionRecord => ({
  idHash: row.id_hash,
  login: row.login,
  csrfToken: row.csrf_token,
  expiresAt: new Date(row.expires_at),
  createdAt: new Date(row.created_at),
});
