import type { IncomingMessage } from 'node:http';
import type { AuditLog } from '../audit/audit-log.js';
import { auditSignIn, namedAccount } from '../audit/sign-ins.js';
import { RegistryError } from '../errors/registry-error.js';
import { anonymous, type Caller } from '../iam/principals.js';
import { readForm, sendJson } from '../server/http.js';
import { clientAddress, notePrincipal } from '../server/request-identity.js';
import type { Route } from '../server/router.js';
import { presentedCredentials } from './authorization-header.js';
import type { CredentialService } from './credential-service.js';
import { parseScopes } from './registry-scopes.js';
import type { RegistryTokenService } from './registry-tokens.js';

export const tokenPath = '/auth/token';

/** The challenge a refusal of the token endpoint carries: it takes Basic credentials (RFC 7235 §3.1). */
const tokenChallenge = 'Basic realm="mistrive"';

/** Runs `check`, giving any 401 it throws the challenge every 401 must carry. */
async function challenged<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'UNAUTHORIZED') {
      throw new RegistryError('UNAUTHORIZED', error.message, {
        headers: { ...error.headers, 'WWW-Authenticate': tokenChallenge },
      });
    }
    throw error;
  }
}

/**
 * The Docker token endpoint: `GET` with Basic credentials (or none, for public repositories) as
 * `docker login` and skopeo use it, and `POST` with the OAuth2 form (`password`, and
 * `refresh_token` carrying an identity token, as Docker sends it from a credential helper).
 */
export function tokenRoutes(
  credentials: CredentialService,
  tokens: RegistryTokenService,
  audit: AuditLog,
): Route[] {
  /** Basic credentials (a password, a key) are a sign-in, and recorded; a Bearer token comes from one already. */
  const signIn = (req: IncomingMessage, username: string, secret: string) =>
    auditSignIn(audit, req, 'registry-token', namedAccount(username, secret), () =>
      credentials.basic(username, secret, clientAddress(req)),
    );

  const callerOf = async (req: IncomingMessage): Promise<Caller> => {
    const presented = presentedCredentials(req);
    if (presented.scheme === 'none') return anonymous;
    if (presented.scheme === 'basic') return signIn(req, presented.username, presented.password);
    const caller = await credentials.accessToken(presented.token);
    if (!caller) throw new RegistryError('UNAUTHORIZED', 'invalid or expired token');
    return caller;
  };

  const formCaller = async (req: IncomingMessage, form: URLSearchParams): Promise<Caller> => {
    const grant = form.get('grant_type');
    if (grant === 'password') {
      const username = form.get('username');
      const password = form.get('password');
      if (!username || !password)
        throw new RegistryError('INVALID_ARGUMENT', 'the password grant needs username and password');
      return signIn(req, username, password);
    }
    if (grant === 'refresh_token') {
      const token = form.get('refresh_token');
      const caller = token ? await credentials.accessToken(token) : undefined;
      if (!caller)
        throw new RegistryError('UNAUTHORIZED', 'invalid or expired identity token: sign in again');
      return caller;
    }
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `unsupported grant_type "${grant ?? ''}": use password or refresh_token`,
    );
  };

  return [
    {
      name: 'registry-token',
      pattern: /^\/auth\/token$/,
      methods: {
        GET: {
          action: 'none',
          handler: async ({ req, res, query }) => {
            const caller = await challenged(() => callerOf(req));
            notePrincipal(req, caller);
            const token = await tokens.issue(
              caller,
              await tokens.grant(caller, parseScopes(query.getAll('scope'))),
            );
            sendJson(
              res,
              200,
              {
                token: token.token,
                access_token: token.token,
                expires_in: token.expiresIn,
                issued_at: token.issuedAt,
              },
              { 'Cache-Control': 'no-store' },
            );
          },
        },
        POST: {
          action: 'none',
          handler: async ({ req, res }) => {
            const form = await readForm(req);
            const caller = await challenged(() => formCaller(req, form));
            notePrincipal(req, caller);
            const scopes = parseScopes(form.getAll('scope'));
            const token = await tokens.issue(caller, await tokens.grant(caller, scopes));
            sendJson(
              res,
              200,
              {
                access_token: token.token,
                token_type: 'Bearer',
                expires_in: token.expiresIn,
                issued_at: token.issuedAt,
                scope: form.getAll('scope').join(' '),
              },
              { 'Cache-Control': 'no-store' },
            );
          },
        },
      },
    },
  ];
}
