/**
 * The OAuth authorization server's state: grants waiting to be redeemed (authorization codes and
 * device codes), refresh-token families, and browser sessions. Every secret a client or browser
 * holds is stored only as its SHA-256 hash.
 */

export type GrantKind = 'authorization_code' | 'device_code';

/** Authorization codes are born approved; device codes wait for the user to approve or deny them. */
export type GrantStatus = 'pending' | 'approved' | 'denied' | 'redeemed';

export interface GrantRecord {
  /** SHA-256 of the authorization code or device code. */
  readonly codeHash: string;
  readonly kind: GrantKind;
  readonly clientId: string;
  readonly scope: string;
  /** Authorization codes: the redirect URI and the PKCE S256 challenge the code is bound to. */
  readonly redirectUri: string | undefined;
  readonly codeChallenge: string | undefined;
  /** Device codes: SHA-256 of the normalized user code, the polling interval and the last poll. */
  readonly userCodeHash: string | undefined;
  readonly intervalSeconds: number | undefined;
  readonly lastPolledAt: Date | undefined;
  /** Who approved or denied it (`user:LOGIN`); undefined while pending. */
  readonly subject: string | undefined;
  readonly status: GrantStatus;
  /** The refresh-token family the grant was redeemed for, so that a replay can revoke it. */
  readonly familyId: string | undefined;
  readonly expiresAt: Date;
  readonly createdAt: Date;
}

export interface RefreshTokenRecord {
  /** SHA-256 of the opaque token. */
  readonly tokenHash: string;
  /** Every token rotated from one sign-in shares a family; reuse of a spent one revokes it all. */
  readonly familyId: string;
  readonly subject: string;
  readonly clientId: string;
  readonly scope: string;
  /** The `jti` and expiry of the access token issued with it, revoked with the family. */
  readonly accessTokenId: string;
  readonly accessExpiresAt: Date;
  readonly usedAt: Date | undefined;
  readonly revokedAt: Date | undefined;
  readonly expiresAt: Date;
  readonly createdAt: Date;
}

export interface WebSessionRecord {
  /** SHA-256 of the session cookie's value. */
  readonly idHash: string;
  readonly login: string;
  /** The synchronizer token every form of the session carries. */
  readonly csrfToken: string;
  readonly expiresAt: Date;
  readonly createdAt: Date;
}

export interface OAuthStore {
  /** False when another grant holds the same user code. */
  createGrant(grant: GrantRecord): Promise<boolean>;
  findGrant(codeHash: string): Promise<GrantRecord | undefined>;
  findGrantByUserCode(userCodeHash: string): Promise<GrantRecord | undefined>;
  /** Approves or denies a pending grant that has not expired; false when it is not pending or has expired. */
  decideGrant(
    codeHash: string,
    decision: 'approved' | 'denied',
    subject: string,
    now: Date,
  ): Promise<boolean>;
  /** Records a device's poll and the interval it must keep from now on. */
  recordPoll(codeHash: string, at: Date, intervalSeconds: number): Promise<void>;
  /**
   * Marks an approved, unexpired grant redeemed for a token family, atomically; false when it is
   * not approved any more (redeemed already, also by a request racing this one).
   */
  redeemGrant(codeHash: string, familyId: string, now: Date): Promise<boolean>;

  createRefreshToken(token: RefreshTokenRecord): Promise<void>;
  findRefreshToken(tokenHash: string): Promise<RefreshTokenRecord | undefined>;
  /**
   * Marks `previousHash` used and stores its successor, atomically; false, storing nothing, when
   * the previous token was used, revoked or expired already.
   */
  rotateRefreshToken(previousHash: string, next: RefreshTokenRecord): Promise<boolean>;
  /** Revokes every refresh token of the family and every unexpired access token issued with them. */
  revokeFamily(familyId: string, at: Date): Promise<void>;
  /** The family whose refresh token was issued with the access token `jti`, if any. */
  familyOfAccessToken(jti: string): Promise<string | undefined>;
  /** Revokes every family of the subject (`user:LOGIN`) as `revokeFamily` does, but `except`. */
  revokeFamiliesOf(subject: string, at: Date, except?: string): Promise<void>;

  createSession(session: WebSessionRecord): Promise<void>;
  /** The session, unless it has expired. */
  findSession(idHash: string, now: Date): Promise<WebSessionRecord | undefined>;
  deleteSession(idHash: string): Promise<void>;
  /** Signs the user out of every browser. */
  deleteSessionsOf(login: string): Promise<void>;

  /** Forgets grants, refresh tokens and sessions that expired before `before`. */
  purgeExpired(before: Date): Promise<void>;
}
