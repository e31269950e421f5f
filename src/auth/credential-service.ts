import type { RevocationStore, ServiceAccountStore, UserStore } from '../db/identity.js';
import { RegistryError } from '../errors/registry-error.js';
import { type Caller, foldLogin } from '../iam/principals.js';
import type { Clock } from '../lib/clock.js';
import { inWords } from '../lib/wait-words.js';
import type { RateLimitRefused } from '../metrics/metrics.js';
import { verifyPassword } from './passwords.js';
import { FailureRateLimiter, type RateLimit } from './rate-limiter.js';
import { keyFileMatches, parseKeyFile, verifyAssertion } from './service-account-keys.js';
import type { TokenSigner } from './token-signer.js';

/** OAuth access tokens: what the CLI holds and `auth print-access-token` prints. */
export const accessTokenAudience = 'mistrive';
export const accessTokenType = 'at+jwt';

/** The Basic usernames that carry something other than a password. */
export const basicUsernames = {
  accessToken: 'oauth2accesstoken',
  keyJson: '_json_key',
  keyBase64: '_json_key_base64',
} as const;

export interface CredentialDeps {
  readonly users: UserStore;
  readonly serviceAccounts: ServiceAccountStore;
  readonly revocations: RevocationStore;
  readonly signer: TokenSigner;
  readonly clock: Clock;
  readonly passwordLimits: { perAccount: RateLimit; perClient: RateLimit };
  /** Told of each sign-in refused by the failure limits. */
  readonly rateLimitRefused?: RateLimitRefused;
}

const badCredentials = () => new RegistryError('UNAUTHORIZED', 'invalid username or password');

/**
 * The `validSince` a disable, a password reset or a deletion sets: the start of the next second.
 * Token times are whole seconds (JWT `iat`), so a token signed earlier in the same second could not
 * be told apart from one signed after; all of them are refused, and a sign-in in the same second
 * as the change has to be repeated a second later.
 */
export function tokensRevokedAt(now: Date): Date {
  return new Date((Math.floor(now.getTime() / 1000) + 1) * 1000);
}

/** A token time (`iat`, whole seconds) or a record's creation, in the seconds tokens count in. */
export function tokenSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** Turns whatever a client presents (password, access token, service-account key) into a caller. */
export class CredentialService {
  private readonly perAccount: FailureRateLimiter;
  private readonly perClient: FailureRateLimiter;

  constructor(private readonly deps: CredentialDeps) {
    this.perAccount = new FailureRateLimiter(deps.passwordLimits.perAccount, deps.clock);
    this.perClient = new FailureRateLimiter(deps.passwordLimits.perClient, deps.clock);
  }

  /** Basic credentials as Docker, skopeo and curl send them. Throws UNAUTHORIZED (or 429) when they fail. */
  async basic(username: string, secret: string, client: string): Promise<Caller> {
    let caller: Caller | undefined;
    if (username === basicUsernames.accessToken) caller = await this.accessToken(secret);
    else if (username === basicUsernames.keyJson || username === basicUsernames.keyBase64) {
      caller = await this.keyFile(secret);
    } else return this.password(username, secret, client);
    if (!caller) throw badCredentials();
    return caller;
  }

  /** A local user's login and password, rate limited per account and per client, checked in constant time. */
  async password(given: string, password: string, client: string): Promise<Caller> {
    // Folded first: `Bob@x` and `bob@x` are one account, and one rate-limit bucket.
    const login = foldLogin(given);
    const wait = Math.max(this.perAccount.retryAfter(login), this.perClient.retryAfter(client));
    if (wait > 0) {
      this.deps.rateLimitRefused?.('sign-in-failures');
      throw new RegistryError(
        'TOOMANYREQUESTS',
        `too many failed sign-in attempts; try again ${inWords(wait)}`,
        {
          headers: { 'Retry-After': String(wait) },
        },
      );
    }
    // Counted as failures before the check and forgiven after a success: parallel guesses each
    // take a slot at once, so a burst cannot get more tries than the limit while scrypt runs.
    this.perAccount.recordFailure(login);
    this.perClient.recordFailure(client);
    const user = await this.deps.users.find(login);
    const valid = await verifyPassword(password, user?.passwordHash);
    if (!user || !valid || user.disabled) throw badCredentials();
    this.perAccount.reset(login);
    this.perClient.forgive(client);
    return { kind: 'user', login: user.login, admin: user.admin };
  }

  /** An OAuth access token issued by this server and neither expired nor revoked. */
  async accessToken(token: string): Promise<Caller | undefined> {
    const claims = await this.deps.signer.verify(token, accessTokenAudience, accessTokenType);
    if (!claims || (await this.deps.revocations.isRevoked(claims.jti))) return undefined;
    const caller = await this.principal(claims.sub, claims.iat ?? 0);
    return caller?.kind === 'user' ? { ...caller, tokenId: claims.jti } : caller;
  }

  /** A service-account key file (JSON or base64), whose private key matches a live key of the account. */
  async keyFile(text: string): Promise<Caller | undefined> {
    const keyFile = parseKeyFile(text);
    if (!keyFile) return undefined;
    const key = await this.liveKey(keyFile.private_key_id, keyFile.client_email);
    if (!key || !(await keyFileMatches(keyFile, key.publicKey))) return undefined;
    return this.principal(`serviceAccount:${keyFile.client_email}`);
  }

  /**
   * A JWT-bearer assertion (RFC 7523) signed with a service-account key. Each is good for one token:
   * a replayed assertion (its `jti` seen before, RFC 7523 §3) is refused like a forged one.
   */
  async assertion(assertion: string, keyId: string | undefined, email: string, audience: string) {
    const key = keyId ? await this.liveKey(keyId, email) : undefined;
    const verified =
      key && (await verifyAssertion(assertion, key.publicKey, email, audience, this.deps.clock));
    if (!verified) return undefined;
    // Namespaced by account: the client picks the jti, and must not be able to spend another's.
    if (!(await this.deps.revocations.revokeOnce(`assertion:${email}:${verified.jti}`, verified.expiresAt)))
      return undefined;
    return this.principal(`serviceAccount:${email}`);
  }

  /**
   * Resolves a principal string to a live caller: disabled users and deleted accounts resolve to
   * nothing. With `issuedAt` (a token's `iat`, in seconds), an account whose tokens are valid only
   * since a later time resolves to nothing too: the token was issued to an earlier account of the
   * same name, deleted since, or before the user was disabled or had the password reset.
   */
  async principal(subject: string, issuedAt?: number): Promise<Caller | undefined> {
    const predates = (validSince: Date) => issuedAt !== undefined && issuedAt < tokenSeconds(validSince);
    if (subject.startsWith('user:')) {
      // Not folded: a subject is what this server signed, folded since logins are; a token signed
      // for another spelling was issued before they were, perhaps to an account deleted since.
      const user = await this.deps.users.find(subject.slice('user:'.length));
      if (!user || user.disabled || predates(user.validSince)) return undefined;
      return { kind: 'user', login: user.login, admin: user.admin };
    }
    if (subject.startsWith('serviceAccount:')) {
      const account = await this.deps.serviceAccounts.find(subject.slice('serviceAccount:'.length));
      if (!account || predates(account.createdAt)) return undefined;
      return { kind: 'serviceAccount', email: account.email, project: account.project };
    }
    return undefined;
  }

  private async liveKey(id: string, email: string) {
    const key = await this.deps.serviceAccounts.findKey(id);
    return key && !key.disabled && key.email === email ? key : undefined;
  }
}
