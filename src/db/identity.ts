import type { Binding } from '../iam/policy.js';
import type { ResourceKind } from '../iam/roles.js';

/** Identity and access contracts, beside the registry metadata of `metadata.ts`. */

export interface UserRecord {
  readonly login: string;
  /** scrypt, in the self-describing form `scrypt$N$r$p$SALT$HASH`. */
  readonly passwordHash: string;
  readonly admin: boolean;
  readonly disabled: boolean;
  readonly createdAt: Date;
  /**
   * No token issued before this time is honoured: the account's creation (a token older than that
   * was issued to an earlier, deleted account of the same login), moved forward when the account is
   * disabled or its password reset, so that re-enabling it does not revive what was issued before.
   */
  readonly validSince: Date;
}

/** A user as created: its tokens are valid since its creation. */
export type NewUserRecord = Omit<UserRecord, 'validSince'>;

/** Logins are stored folded (`foldLogin`); every method takes a folded one. */
export interface UserStore {
  /** False when the login is taken. */
  create(user: NewUserRecord): Promise<boolean>;
  find(login: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  setDisabled(login: string, disabled: boolean): Promise<boolean>;
  setPasswordHash(login: string, passwordHash: string): Promise<boolean>;
  /** Moves `validSince` forward to `at` (never back); false when there is no such user. */
  invalidateTokens(login: string, at: Date): Promise<boolean>;
  delete(login: string): Promise<boolean>;
}

export interface ServiceAccountRecord {
  readonly email: string;
  readonly project: string;
  readonly displayName: string;
  readonly createdAt: Date;
}

export interface ServiceAccountKeyRecord {
  readonly id: string;
  readonly email: string;
  /** The public half as a JWK (JSON text): the private key is shown once and never stored. */
  readonly publicKey: string;
  readonly disabled: boolean;
  readonly createdAt: Date;
}

export interface ServiceAccountStore {
  create(account: ServiceAccountRecord): Promise<boolean>;
  find(email: string): Promise<ServiceAccountRecord | undefined>;
  list(project: string): Promise<ServiceAccountRecord[]>;
  /** Deletes the account and its keys. */
  delete(email: string): Promise<boolean>;
  createKey(key: ServiceAccountKeyRecord): Promise<void>;
  findKey(id: string): Promise<ServiceAccountKeyRecord | undefined>;
  listKeys(email: string): Promise<ServiceAccountKeyRecord[]>;
  setKeyDisabled(id: string, disabled: boolean): Promise<boolean>;
  deleteKey(id: string): Promise<boolean>;
}

/** A resource that holds IAM bindings. Repository IDs are `PROJECT/REPOSITORY`. */
export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly id: string;
}

export interface IamStore {
  bindings(resource: ResourceRef): Promise<Binding[]>;
  /** Bindings of several resources at once (a repository, its project and its organization), in one read. */
  bindingsOf(resources: readonly ResourceRef[]): Promise<Map<string, Binding[]>>;
  /** False when the binding existed already. */
  add(resource: ResourceRef, binding: Binding): Promise<boolean>;
  /** False when there was no such binding. */
  remove(resource: ResourceRef, binding: Binding): Promise<boolean>;
  /** Removes every binding on the resource and, for a project, on its repositories. */
  removeAll(resource: ResourceRef): Promise<void>;
  /** Removes every binding naming the member (when a user or service account goes away). */
  removeMember(member: string): Promise<void>;
  /** Every resource holding a binding for one of the members (what a caller can see, for listings). */
  resourcesBoundTo(members: readonly string[]): Promise<ResourceRef[]>;
}

export function resourceKey(resource: ResourceRef): string {
  return `${resource.kind}:${resource.id}`;
}

/** Access tokens revoked before they expire (RFC 7009), remembered until they would have expired. */
export interface RevocationStore {
  revoke(jti: string, expiresAt: Date): Promise<void>;
  /**
   * Revokes `jti` and says whether this call was the one that did: true once, false ever after. One
   * atomic step, so two instances racing to use the same single-use token cannot both win.
   */
  revokeOnce(jti: string, expiresAt: Date): Promise<boolean>;
  isRevoked(jti: string): Promise<boolean>;
  /** Forgets revocations of tokens that have expired anyway. */
  purgeExpired(now: Date): Promise<void>;
}
