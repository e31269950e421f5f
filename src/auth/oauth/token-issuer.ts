import type { RevocationStore } from '../../db/identity.js';
import type { OAuthStore } from '../../db/oauth.js';
import { RegistryError } from '../../errors/registry-error.js';
import { type Caller, subjectOf } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import {
  accessTokenAudience,
  accessTokenType,
  type CredentialService,
  tokenSeconds,
} from '../credential-service.js';
import type { TokenSigner } from '../token-signer.js';
import { requestedScope, scopeWithin } from './scopes.js';
import { randomSecret, secretHash } from './secrets.js';

/** The token endpoint's success response (RFC 6749 §5.1). */
export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  readonly expires_in: number;
  readonly refresh_token?: string;
  readonly scope: string;
}

export interface TokenIssuerDeps {
  readonly signer: TokenSigner;
  readonly credentials: CredentialService;
  readonly store: OAuthStore;
  readonly revocations: RevocationStore;
  readonly clock: Clock;
  readonly accessTokenTtlMs: number;
  readonly refreshTokenTtlMs: number;
}

const invalidGrant = (message: string) => new RegistryError('INVALID_GRANT', message);
const signInAgain = 'sign in again (mistrive auth login)';

/**
 * Issues access tokens (ES256 JWTs of type `at+jwt`, the ones /v2/ and the Docker token endpoint
 * accept) and rotating refresh tokens (opaque, stored hashed, grouped in families so that a replayed
 * one revokes every token of its sign-in, RFC 9700 §4.14.2), and revokes them (RFC 7009).
 */
export class TokenIssuer {
  private readonly accessTtlSeconds: number;

  constructor(private readonly deps: TokenIssuerDeps) {
    this.accessTtlSeconds = Math.max(1, Math.round(deps.accessTokenTtlMs / 1000));
  }

  /** An access token alone: for JWT-bearer grants, whose key is the long-lived credential. */
  async accessOnly(caller: Caller, clientId: string, scope: string): Promise<TokenResponse> {
    const access = await this.accessToken(caller, clientId, scope);
    return { access_token: access.token, token_type: 'Bearer', expires_in: this.accessTtlSeconds, scope };
  }

  /** An access token and the first refresh token of a new family (one sign-in). */
  async startFamily(
    caller: Caller,
    clientId: string,
    scope: string,
    familyId: string = randomSecret(),
  ): Promise<TokenResponse> {
    const access = await this.accessToken(caller, clientId, scope);
    const refreshToken = randomSecret();
    await this.deps.store.createRefreshToken(
      this.refreshRecord(refreshToken, familyId, subjectOf(caller), clientId, scope, access),
    );
    return this.response(access.token, refreshToken, scope);
  }

  /** Exchanges a refresh token for new tokens; a spent one revokes its whole family. */
  async refresh(refreshToken: string, clientId: string, scope: string | null): Promise<TokenResponse> {
    const tokenHash = secretHash(refreshToken);
    const record = await this.deps.store.findRefreshToken(tokenHash);
    const now = this.deps.clock.now();
    if (!record || record.clientId !== clientId) throw invalidGrant('unknown refresh token');
    if (record.revokedAt) throw invalidGrant(`the refresh token has been revoked: ${signInAgain}`);
    if (record.usedAt) return this.replayed(record.familyId);
    if (record.expiresAt <= now) throw invalidGrant(`the refresh token has expired: ${signInAgain}`);
    const granted = scope === null ? record.scope : requestedScope(scope);
    if (!scopeWithin(granted, record.scope)) {
      throw new RegistryError('INVALID_SCOPE', `the refresh token was granted "${record.scope}" only`);
    }
    // A refresh token issued before the account was disabled or had its password reset stays dead.
    const caller = await this.deps.credentials.principal(record.subject, tokenSeconds(record.createdAt));
    if (!caller) {
      await this.revokeFamily(record.familyId);
      throw invalidGrant(
        `the account no longer exists, is disabled or had its tokens revoked: ${signInAgain}`,
      );
    }
    const access = await this.accessToken(caller, clientId, granted);
    const next = randomSecret();
    const rotated = await this.deps.store.rotateRefreshToken(
      tokenHash,
      this.refreshRecord(next, record.familyId, record.subject, clientId, record.scope, access),
    );
    // A request racing this one spent the token first: one of the two is not the rightful holder.
    if (!rotated) return this.replayed(record.familyId);
    return this.response(access.token, next, granted);
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.deps.store.revokeFamily(familyId, this.deps.clock.now());
  }

  /**
   * RFC 7009: a refresh token revokes its family; an access token is remembered as revoked until
   * it expires. Anything else (unknown, expired, foreign) is ignored, as the RFC asks.
   */
  async revoke(token: string): Promise<void> {
    const record = await this.deps.store.findRefreshToken(secretHash(token));
    if (record) {
      await this.revokeFamily(record.familyId);
      return;
    }
    const claims = await this.deps.signer.verify(token, accessTokenAudience, accessTokenType);
    if (claims) await this.deps.revocations.revoke(claims.jti, new Date(claims.exp * 1000));
  }

  private async replayed(familyId: string): Promise<never> {
    await this.revokeFamily(familyId);
    throw invalidGrant(
      `the refresh token was used already, so every token of this sign-in has been revoked: ${signInAgain}`,
    );
  }

  private async accessToken(caller: Caller, clientId: string, scope: string) {
    const { token, jti, expiresAt } = await this.deps.signer.sign(
      { client_id: clientId, scope },
      {
        audience: accessTokenAudience,
        type: accessTokenType,
        subject: subjectOf(caller),
        ttlSeconds: this.accessTtlSeconds,
      },
    );
    return { token, jti, expiresAt: new Date(expiresAt * 1000) };
  }

  private refreshRecord(
    token: string,
    familyId: string,
    subject: string,
    clientId: string,
    scope: string,
    access: { jti: string; expiresAt: Date },
  ) {
    const now = this.deps.clock.now();
    return {
      tokenHash: secretHash(token),
      familyId,
      subject,
      clientId,
      scope,
      accessTokenId: access.jti,
      accessExpiresAt: access.expiresAt,
      usedAt: undefined,
      revokedAt: undefined,
      expiresAt: new Date(now.getTime() + this.deps.refreshTokenTtlMs),
      createdAt: now,
    };
  }

  private response(accessToken: string, refreshToken: string, scope: string): TokenResponse {
    return {
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: this.accessTtlSeconds,
      refresh_token: refreshToken,
      scope,
    };
  }
}
