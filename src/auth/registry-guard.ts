import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../errors/registry-error.js';
import type { AccessService } from '../iam/access-service.js';
import { allows, type Permission, requiredRole } from '../iam/policy.js';
import { anonymous, type Caller } from '../iam/principals.js';
import type { RoleLevel } from '../iam/roles.js';
import { type ImageName, parseImageName } from '../oci/names.js';
import { quotedString } from '../server/host-header.js';
import { clientAddress, notePrincipal } from '../server/request-identity.js';
import type { Action } from '../server/router.js';
import { presentedCredentials } from './authorization-header.js';
import type { CredentialService } from './credential-service.js';
import { formatScope, scopeActions } from './registry-scopes.js';
import type { RegistryTokenService } from './registry-tokens.js';

/** Who is calling /v2/, and, when they came with a registry token, exactly what it grants. */
export interface RegistryAuth {
  readonly caller: Caller;
  /** True when the request carried credentials (so a refusal is not a request to sign in). */
  readonly authenticated: boolean;
  readonly tokenAccess: ReadonlyMap<string, ReadonlySet<string>> | undefined;
}

const permissionOf: Record<'pull' | 'push' | 'delete', Permission> = {
  pull: 'read',
  push: 'write',
  delete: 'delete',
};

const actionWords: Record<'pull' | 'push' | 'delete', string> = {
  pull: 'pulling from',
  push: 'pushing to',
  delete: 'deleting from',
};

/**
 * The 403 a client shows as `denied: …`: the spec's words first, then what was refused, the role it
 * takes and the role the caller holds. Only reached when the caller may see the repository
 * (DESIGN §4), so nothing here tells a stranger that it exists.
 */
function deniedFor(
  action: 'pull' | 'push' | 'delete',
  name: string,
  repository: ImageName | undefined,
  held: RoleLevel | undefined,
): RegistryError {
  const needed = requiredRole[permissionOf[action]];
  const where = repository ? `${repository.project}/${repository.repository}` : name;
  return new RegistryError(
    'DENIED',
    `access forbidden: ${actionWords[action]} ${name} needs the ${needed} role on repository ${where}${held ? ` (you have ${held})` : ''}`,
    { detail: { requiredRole: needed, repository: where, ...(held ? { role: held } : {}) } },
  );
}

export interface ChallengeOptions {
  /** The token endpoint's URL; when unset, derived from the Host the client used. */
  readonly realm: string | undefined;
  /** The scheme of a realm derived from the Host: `https` when the daemon serves TLS. */
  readonly scheme: 'http' | 'https';
  readonly service: string;
}

/**
 * Authentication and authorization for the distribution API, in front of every /v2/ handler.
 * Access is evaluated live against IAM when the request starts (so a long transfer outlives its
 * token), and a registry token can only narrow it to the actions it was issued for.
 */
export class RegistryGuard {
  private readonly authenticated = new WeakMap<
    IncomingMessage,
    { readonly auth: RegistryAuth; readonly action: Action }
  >();

  constructor(
    private readonly credentials: CredentialService,
    private readonly tokens: RegistryTokenService,
    private readonly access: AccessService,
    private readonly challenge: ChallengeOptions,
  ) {}

  /** Throws UNAUTHORIZED, DENIED or NAME_UNKNOWN as DESIGN §4 says, or returns when the request may go on. */
  async check(req: IncomingMessage, action: Action, name: string | undefined): Promise<void> {
    const auth = await this.authenticate(req, action, name);
    notePrincipal(req, auth.caller);
    this.authenticated.set(req, { auth, action });
    if (action === 'catalog') return;
    if (action === 'none') {
      if (!auth.authenticated) throw this.unauthorized(req, 'authentication required', undefined);
      return;
    }
    const repository = name === undefined ? undefined : parseImageName(name);
    const role = repository
      ? await this.access.roleOnRepository(auth.caller, repository.project, repository.repository)
      : undefined;
    const needed = permissionOf[action];
    const tokenAllows = (wanted: string) =>
      !auth.tokenAccess || (auth.tokenAccess.get(name ?? '')?.has(wanted) ?? false);
    const scope = { type: 'repository', name: name ?? '', actions: [...scopeActions[action]] };
    if (allows(role, needed) && tokenAllows(action)) return;
    if (!auth.authenticated) throw this.unauthorized(req, 'authentication required', formatScope(scope));
    if (!allows(role, 'read')) throw new RegistryError('NAME_UNKNOWN', 'repository not found');
    // The caller holds the role but its token was issued for less: it needs a token for this scope.
    if (allows(role, needed))
      throw this.unauthorized(req, 'the token does not grant this action', formatScope(scope));
    throw deniedFor(action, name ?? '', repository, role);
  }

  /** Who the request was checked as: the caller `check` authenticated, or anonymous before it ran. */
  callerOf(req: IncomingMessage): Caller {
    return this.authenticated.get(req)?.auth.caller ?? anonymous;
  }

  /**
   * Whether the request's caller may read an image (mount sources, catalog entries). A mount source
   * must also be granted `pull` by the registry token the request came with, as the Docker token
   * spec has it (clients ask for `repository:FROM:pull` beside the target's scope): a token issued
   * for one repository must not copy blobs out of the caller's others. The catalog is not narrowed:
   * it lists what the caller may see, whatever repositories its token names.
   */
  async canRead(req: IncomingMessage, name: string): Promise<boolean> {
    const { auth, action } = this.authenticated.get(req) ?? {
      auth: { caller: anonymous, authenticated: false, tokenAccess: undefined },
      action: 'none',
    };
    if (action !== 'catalog' && auth.tokenAccess && !auth.tokenAccess.get(name)?.has('pull')) return false;
    try {
      const parsed = parseImageName(name);
      return allows(
        await this.access.roleOnRepository(auth.caller, parsed.project, parsed.repository),
        'read',
      );
    } catch {
      return false;
    }
  }

  /** The 401 with the Bearer challenge that sends Docker clients to the token endpoint. */
  unauthorized(req: IncomingMessage, message: string, scope: string | undefined): RegistryError {
    // The Host was checked when the request came in; quoting anyway keeps every value inside its quotes.
    const realm =
      this.challenge.realm ?? `${this.challenge.scheme}://${req.headers.host ?? 'localhost'}/auth/token`;
    const parts = [`realm=${quotedString(realm)}`, `service=${quotedString(this.challenge.service)}`];
    if (scope) parts.push(`scope=${quotedString(scope)}`);
    return new RegistryError('UNAUTHORIZED', message, {
      headers: { 'WWW-Authenticate': `Bearer ${parts.join(',')}` },
    });
  }

  private async authenticate(
    req: IncomingMessage,
    action: Action,
    name: string | undefined,
  ): Promise<RegistryAuth> {
    const scope =
      name && action in scopeActions
        ? formatScope({
            type: 'repository',
            name,
            actions: [...scopeActions[action as keyof typeof scopeActions]],
          })
        : undefined;
    let presented: ReturnType<typeof presentedCredentials>;
    try {
      presented = presentedCredentials(req);
    } catch (error) {
      throw this.unauthorized(req, (error as Error).message, scope);
    }
    if (presented.scheme === 'none')
      return { caller: anonymous, authenticated: false, tokenAccess: undefined };
    if (presented.scheme === 'basic') {
      try {
        const caller = await this.credentials.basic(
          presented.username,
          presented.password,
          clientAddress(req),
        );
        return { caller, authenticated: true, tokenAccess: undefined };
      } catch (error) {
        if (error instanceof RegistryError && error.code === 'UNAUTHORIZED') {
          throw this.unauthorized(req, error.message, scope);
        }
        throw error;
      }
    }
    const registryToken = await this.tokens.verify(presented.token);
    if (registryToken) {
      const caller = registryToken.subject
        ? await this.credentials.principal(registryToken.subject, registryToken.issuedAt)
        : anonymous;
      if (!caller)
        throw this.unauthorized(
          req,
          'the token belongs to an account that no longer exists or is disabled',
          scope,
        );
      return { caller, authenticated: caller.kind !== 'anonymous', tokenAccess: registryToken.access };
    }
    const caller = await this.credentials.accessToken(presented.token);
    if (!caller) throw this.unauthorized(req, 'invalid or expired token', scope);
    return { caller, authenticated: true, tokenAccess: undefined };
  }
}
