import type { ServiceAccountKeyRecord, ServiceAccountRecord, UserRecord } from '../identity.js';
import { type Flag, isSet } from './values.js';

/** Users', service accounts' and keys' rows and their records, shared by the SQLite and PostgreSQL stores. */

export interface UserRow {
  login: string;
  password_hash: string;
  admin: Flag;
  disabled: Flag;
  created_at: number;
  valid_since: number;
}

export const toUser = (row: UserRow): UserRecord => ({
  login: row.login,
  passwordHash: row.password_hash,
  admin: isSet(row.admin),
  disabled: isSet(row.disabled),
  createdAt: new Date(row.created_at),
  validSince: new Date(row.valid_since),
});

export interface AccountRow {
  email: string;
  project_id: string;
  display_name: string;
  created_at: number;
}

export interface KeyRow {
  id: string;
  email: string;
  public_key: string;
  disabled: Flag;
  created_at: number;
}

export const toAccount = (row: AccountRow): ServiceAccountRecord => ({
  email: row.email,
  project: row.project_id,
  displayName: row.display_name,
  createdAt: new Date(row.created_at),
});

export const toKey = (row: KeyRow): ServiceAccountKeyRecord => ({
  id: row.id,
  email: row.email,
  publicKey: row.public_key,
  disabled: isSet(row.disabled),
  createdAt: new Date(row.created_at),
});
