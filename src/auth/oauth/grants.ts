import type { GrantRecord, OAuthStore } from '../../db/oauth.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Clock } from '../../lib/clock.js';
import type { CredentialService } from '../credential-service.js';
import { isCodeVerifier, verifierMatches } from './pkce.js';
import { randomSecret, secretHash } from './secrets.js';
import type { TokenIssuer, TokenResponse } from './token-issuer.js';
import { formatUserCode, newUserCode, normalizeUserCode } from './user-codes.js';

/** Authorization codes live a minute: the CLI redeems them at once (RFC 6749 §4.1.2 says at most ten). */
export const authorizationCodeTtlMs = 60_000;
/** Device codes live ten minutes: time to find a browser and sign in. */
export const deviceCodeTtlMs = 600_000;
/** The interval a device starts polling at, and what each `slow_down` adds (RFC 8628 §3.5). */
export const pollIntervalSeconds = 5;
const slowDownSeconds = 5;

export interface AuthorizationRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scope: string;
}

export interface DeviceAuthorization {
  readonly deviceCode: string;
  /** Formatted for people: `BCDF-GHJK`. */
  readonly userCode: string;
  readonly expiresIn: number;
  readonly interval: number;
}

/** What a code typed on the device page turned out to be. */
export type DeviceLookup =
  | { readonly kind: 'pending'; readonly grant: GrantRecord; readonly userCode: string }
  | { readonly kind: 'unknown' | 'expired' | 'decided' };

const invalidGrant = (message: string) => new RegistryError('INVALID_GRANT', message);

/**
 * The grants that end in tokens after a person agreed in a browser: authorization codes (bound to
 * client, redirect URI and PKCE challenge, single-use) and device codes (RFC 8628). Redeeming either
 * twice revokes what the first redemption issued (RFC 6749 §4.1.2).
 */
export class GrantService {
  constructor(
    private readonly store: OAuthStore,
    private readonly clock: Clock,
    private readonly tokens: TokenIssuer,
    private readonly credentials: CredentialService,
  ) {}

  /** A code for a request the user (`subject`) allowed. */
  async issueCode(request: AuthorizationRequest, subject: string): Promise<string> {
    const code = randomSecret();
    const now = this.clock.now();
    await this.store.createGrant({
      codeHash: secretHash(code),
      kind: 'authorization_code',
      clientId: request.clientId,
      scope: request.scope,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      userCodeHash: undefined,
      intervalSeconds: undefined,
      lastPolledAt: undefined,
      subject,
      status: 'approved',
      familyId: undefined,
      expiresAt: new Date(now.getTime() + authorizationCodeTtlMs),
      createdAt: now,
    });
    return code;
  }

  async exchangeCode(code: string, clientId: string, redirectUri: string | null, verifier: string | null) {
    if (!verifier) {
      throw new RegistryError('INVALID_ARGUMENT', 'code_verifier is required: PKCE with S256 is mandatory');
    }
    if (!isCodeVerifier(verifier)) {
      throw new RegistryError(
        'INVALID_ARGUMENT',
        'code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~',
      );
    }
    const grant = await this.store.findGrant(secretHash(code));
    if (grant?.kind !== 'authorization_code') throw invalidGrant('unknown authorization code');
    if (grant.status === 'redeemed') return this.replayed(grant.codeHash, 'authorization code');
    if (grant.clientId !== clientId)
      throw invalidGrant('the authorization code was issued to another client');
    if (grant.redirectUri !== redirectUri) {
      throw invalidGrant('redirect_uri differs from the one of the authorization request');
    }
    if (grant.expiresAt <= this.clock.now())
      throw invalidGrant('the authorization code has expired: sign in again');
    if (!grant.codeChallenge || !verifierMatches(verifier, grant.codeChallenge)) {
      throw invalidGrant('code_verifier does not match the code challenge of the authorization request');
    }
    return this.redeem(grant, 'authorization code');
  }

  /** Starts a device authorization (RFC 8628 §3.1–3.2). */
  async startDevice(clientId: string, scope: string): Promise<DeviceAuthorization> {
    const deviceCode = randomSecret();
    const now = this.clock.now();
    // About 2^34 user codes: a clash with a live one is rare, and simply drawn again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const userCode = newUserCode();
      const created = await this.store.createGrant({
        codeHash: secretHash(deviceCode),
        kind: 'device_code',
        clientId,
        scope,
        redirectUri: undefined,
        codeChallenge: undefined,
        userCodeHash: secretHash(userCode),
        intervalSeconds: pollIntervalSeconds,
        lastPolledAt: undefined,
        subject: undefined,
        status: 'pending',
        familyId: undefined,
        expiresAt: new Date(now.getTime() + deviceCodeTtlMs),
        createdAt: now,
      });
      if (created) {
        return {
          deviceCode,
          userCode: formatUserCode(userCode),
          expiresIn: deviceCodeTtlMs / 1000,
          interval: pollIntervalSeconds,
        };
      }
    }
    throw new RegistryError('UNKNOWN', 'could not allocate a free user code');
  }

  /** Finds the device request a person typed the code of. */
  async lookupDevice(typed: string): Promise<DeviceLookup> {
    const userCode = normalizeUserCode(typed);
    const grant = userCode ? await this.store.findGrantByUserCode(secretHash(userCode)) : undefined;
    if (!userCode || !grant || grant.kind !== 'device_code') return { kind: 'unknown' };
    if (grant.status !== 'pending') return { kind: 'decided' };
    if (grant.expiresAt <= this.clock.now()) return { kind: 'expired' };
    return { kind: 'pending', grant, userCode: formatUserCode(userCode) };
  }

  /** Records the signed-in user's answer; false when the request expired or was answered meanwhile. */
  async decideDevice(grant: GrantRecord, approve: boolean, subject: string): Promise<boolean> {
    return this.store.decideGrant(grant.codeHash, approve ? 'approved' : 'denied', subject, this.clock.now());
  }

  /** One poll of the token endpoint by a device (RFC 8628 §3.4–3.5). */
  async pollDevice(deviceCode: string, clientId: string): Promise<TokenResponse> {
    const grant = await this.store.findGrant(secretHash(deviceCode));
    if (grant?.kind !== 'device_code' || grant.clientId !== clientId) {
      throw invalidGrant('unknown device code');
    }
    if (grant.status === 'redeemed') return this.replayed(grant.codeHash, 'device code');
    const now = this.clock.now();
    if (grant.expiresAt <= now) {
      throw new RegistryError('EXPIRED_TOKEN', 'the device code has expired: start the sign-in again');
    }
    let interval = grant.intervalSeconds ?? pollIntervalSeconds;
    const tooSoon = grant.lastPolledAt && now.getTime() - grant.lastPolledAt.getTime() < interval * 1000;
    if (tooSoon) interval += slowDownSeconds;
    await this.store.recordPoll(grant.codeHash, now, interval);
    if (tooSoon) throw new RegistryError('SLOW_DOWN', `polling too fast: wait ${interval} s between polls`);
    switch (grant.status) {
      case 'pending':
        throw new RegistryError('AUTHORIZATION_PENDING', 'waiting for the user to approve the request');
      case 'denied':
        throw new RegistryError('ACCESS_DENIED', 'the user denied the request');
      default:
        return this.redeem(grant, 'device code');
    }
  }

  /**
   * Issues the tokens, then marks the grant redeemed for their family in one atomic step: of two
   * racing redemptions one wins, and the loser revokes both families.
   */
  private async redeem(grant: GrantRecord, what: string): Promise<TokenResponse> {
    const caller = grant.subject ? await this.credentials.principal(grant.subject) : undefined;
    if (!caller) throw invalidGrant('the account that approved the request no longer exists or is disabled');
    const familyId = randomSecret();
    const tokens = await this.tokens.startFamily(caller, grant.clientId, grant.scope, familyId);
    if (await this.store.redeemGrant(grant.codeHash, familyId, this.clock.now())) return tokens;
    await this.tokens.revokeFamily(familyId);
    return this.replayed(grant.codeHash, what);
  }

  private async replayed(codeHash: string, what: string): Promise<never> {
    const grant = await this.store.findGrant(codeHash);
    if (grant?.familyId) await this.tokens.revokeFamily(grant.familyId);
    throw invalidGrant(`the ${what} was used already; the tokens it issued have been revoked`);
  }
}
