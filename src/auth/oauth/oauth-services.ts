import type { AuditLog } from '../../audit/audit-log.js';
import type { ServeConfig } from '../../config/config.js';
import type { MetadataStore } from '../../db/metadata.js';
import type { Clock } from '../../lib/clock.js';
import type { AuthServices } from '../auth-services.js';
import type { CredentialService } from '../credential-service.js';
import { FailureRateLimiter } from '../rate-limiter.js';
import type { TokenSigner } from '../token-signer.js';
import { GrantService } from './grants.js';
import { Housekeeping } from './housekeeping.js';
import { PublicUrls } from './public-urls.js';
import { TokenIssuer } from './token-issuer.js';
import { WebSessions } from './web-sessions.js';

/** Wrong device codes a signed-in user may type per window before the page refuses more (RFC 8628 §5.1). */
const deviceCodeGuesses = { failures: 10, windowMs: 15 * 60_000 };

/** Everything the authorization server's routes use, built once. */
export interface OAuthServices {
  readonly urls: PublicUrls;
  readonly signer: TokenSigner;
  readonly credentials: CredentialService;
  readonly tokens: TokenIssuer;
  readonly grants: GrantService;
  readonly sessions: WebSessions;
  /** Failed device-code lookups per signed-in user. */
  readonly deviceCodeGuesses: FailureRateLimiter;
  readonly housekeeping: Housekeeping;
  /** Sign-ins and device approvals are recorded. */
  readonly audit: AuditLog;
}

export function createOAuthServices(
  config: ServeConfig,
  metadata: MetadataStore,
  auth: AuthServices,
  clock: Clock,
  audit: AuditLog,
): OAuthServices {
  const urls = PublicUrls.of(config);
  const tokens = new TokenIssuer({
    signer: auth.signer,
    credentials: auth.credentials,
    store: metadata.oauth,
    revocations: metadata.revocations,
    clock,
    accessTokenTtlMs: config.auth.accessTokenTtl,
    refreshTokenTtlMs: config.auth.refreshTokenTtl,
  });
  return {
    urls,
    signer: auth.signer,
    credentials: auth.credentials,
    tokens,
    grants: new GrantService(metadata.oauth, clock, tokens, auth.credentials),
    sessions: new WebSessions(metadata.oauth, clock, auth.credentials, urls.secure),
    deviceCodeGuesses: new FailureRateLimiter(deviceCodeGuesses, clock),
    housekeeping: new Housekeeping(metadata.oauth, metadata.revocations, clock),
    audit,
  };
}
