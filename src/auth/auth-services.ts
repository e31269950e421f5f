import { join } from 'node:path';
import { type ServeConfig, servesTls } from '../config/config.js';
import type { MetadataStore } from '../db/metadata.js';
import { AccessService } from '../iam/access-service.js';
import type { Clock } from '../lib/clock.js';
import type { RateLimitRefused } from '../metrics/metrics.js';
import { CredentialService } from './credential-service.js';
import { RegistryGuard } from './registry-guard.js';
import { RegistryTokenService } from './registry-tokens.js';
import { TokenSigner } from './token-signer.js';

export interface AuthServices {
  readonly signer: TokenSigner;
  readonly credentials: CredentialService;
  readonly access: AccessService;
  readonly registryTokens: RegistryTokenService;
  readonly guard: RegistryGuard;
}

/** Builds authentication and access control once, for the registry, the token endpoint and the API. */
export async function createAuthServices(
  config: ServeConfig,
  metadata: MetadataStore,
  clock: Clock,
  rateLimitRefused?: RateLimitRefused,
): Promise<AuthServices> {
  const { auth } = config;
  const signer = await TokenSigner.loadOrCreate(join(config.dataDir, 'keys', 'token-signing-key.jwk'), clock);
  const credentials = new CredentialService({
    users: metadata.users,
    serviceAccounts: metadata.serviceAccounts,
    revocations: metadata.revocations,
    signer,
    clock,
    passwordLimits: {
      perAccount: { failures: auth.failuresPerAccount, windowMs: auth.failureWindow },
      perClient: { failures: auth.failuresPerClient, windowMs: auth.failureWindow },
    },
    ...(rateLimitRefused ? { rateLimitRefused } : {}),
  });
  const access = new AccessService(metadata.catalog, metadata.iam);
  const registryTokens = new RegistryTokenService(
    clock,
    signer,
    access,
    auth.service,
    Math.round(auth.registryTokenTtl / 1000),
    config.autoCreateRepositories,
  );
  const realm = config.publicUrl ? new URL('/auth/token', config.publicUrl).toString() : undefined;
  const guard = new RegistryGuard(credentials, registryTokens, access, {
    realm,
    scheme: servesTls(config) ? 'https' : 'http',
    service: auth.service,
  });
  return { signer, credentials, access, registryTokens, guard };
}
