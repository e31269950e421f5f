import type { AccessService } from '../iam/access-service.js';
import { allows, type Permission } from '../iam/policy.js';
import { type Caller, subjectOf } from '../iam/principals.js';
import type { Clock } from '../lib/clock.js';
import { LruCache } from '../lib/lru-cache.js';
import { type ImageName, resolveImageName } from '../oci/names.js';
import type { Scope } from './registry-scopes.js';
import type { TokenSigner, VerifiedToken } from './token-signer.js';

export const registryTokenType = 'registry+jwt';

/** Registry actions and the permission each needs. */
const actionPermissions: Record<string, Permission> = { pull: 'read', push: 'write', delete: 'delete' };

export interface RegistryToken {
  readonly token: string;
  readonly expiresIn: number;
  readonly issuedAt: string;
}

export interface VerifiedRegistryToken {
  readonly subject: string;
  /** When the token was signed (`iat`, seconds): a token older than its account was issued to an earlier one. */
  readonly issuedAt: number;
  /** Granted actions per repository name, and `catalog` when the catalog scope was granted. */
  readonly access: ReadonlyMap<string, ReadonlySet<string>>;
}

interface AccessClaim {
  type: string;
  name: string;
  actions: string[];
}

/** Issues and verifies the short-lived JWTs of the Docker token flow, scoped to what the caller holds. */
export class RegistryTokenService {
  /** Verifying an ES256 signature costs more than a whole manifest HEAD: remember verified tokens. */
  private readonly verified = new LruCache<VerifiedToken>(10_000, () => 1);

  constructor(
    private readonly clock: Clock,
    private readonly signer: TokenSigner,
    private readonly access: AccessService,
    private readonly service: string,
    private readonly ttlSeconds: number,
    /** One- and two-part names stand for full ones (`--auto-create-repositories`). */
    private readonly takeShortNames: boolean,
  ) {}

  /** The subset of the requested scopes the caller holds; repositories it may not see grant nothing. */
  async grant(caller: Caller, scopes: readonly Scope[]): Promise<AccessClaim[]> {
    const granted: AccessClaim[] = [];
    for (const scope of scopes) {
      if (scope.type === 'registry' && scope.name === 'catalog') {
        granted.push({ type: 'registry', name: 'catalog', actions: ['*'] });
        continue;
      }
      if (scope.type !== 'repository') continue;
      let role: Awaited<ReturnType<AccessService['roleOnRepository']>>;
      let name: ImageName;
      try {
        name = resolveImageName(scope.name, this.takeShortNames);
        role = await this.access.roleOnRepository(caller, name.project, name.repository);
      } catch {
        continue;
      }
      const wanted = scope.actions.includes('*') ? Object.keys(actionPermissions) : scope.actions;
      const actions = wanted.filter((action) => {
        const permission = actionPermissions[action];
        return permission !== undefined && allows(role, permission);
      });
      // Under the full name: the registry checks every request's access by the full name.
      if (actions.length > 0) granted.push({ type: 'repository', name: name.full, actions });
    }
    return granted;
  }

  async issue(caller: Caller, access: AccessClaim[]): Promise<RegistryToken> {
    const { token, expiresAt } = await this.signer.sign(
      { access },
      {
        audience: this.service,
        subject: subjectOf(caller),
        ttlSeconds: this.ttlSeconds,
        type: registryTokenType,
      },
    );
    return {
      token,
      expiresIn: this.ttlSeconds,
      issuedAt: new Date((expiresAt - this.ttlSeconds) * 1000).toISOString(),
    };
  }

  async verify(token: string): Promise<VerifiedRegistryToken | undefined> {
    let claims = this.verified.get(token);
    if (claims && claims.exp * 1000 <= this.clock.now().getTime()) claims = undefined;
    if (!claims) {
      claims = await this.signer.verify(token, this.service, registryTokenType);
      if (!claims) return undefined;
      this.verified.set(token, claims);
    }
    const access = new Map<string, Set<string>>();
    for (const claim of (claims.access ?? []) as AccessClaim[]) {
      const key = claim.type === 'registry' ? 'catalog' : claim.name;
      access.set(key, new Set([...(access.get(key) ?? []), ...claim.actions]));
    }
    return { subject: claims.sub, issuedAt: claims.iat ?? 0, access };
  }
}
