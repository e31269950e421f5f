import type { IncomingMessage } from 'node:http';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { auditSignIn, namedAccount } from '../../audit/sign-ins.js';
import { RegistryError } from '../../errors/registry-error.js';
import { clientAddress } from '../../server/request-identity.js';
import { cliClient, findClient, type OAuthClient } from './clients.js';
import type { OAuthServices } from './oauth-services.js';
import { oauthPaths } from './public-urls.js';
import { requestedScope } from './scopes.js';
import type { TokenResponse } from './token-issuer.js';

export const grantTypes = {
  authorizationCode: 'authorization_code',
  refreshToken: 'refresh_token',
  deviceCode: 'urn:ietf:params:oauth:grant-type:device_code',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
  password: 'password',
} as const;

const invalidRequest = (message: string) => new RegistryError('INVALID_ARGUMENT', message);

function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (!value) throw invalidRequest(`${name} is required`);
  return value;
}

/** The client a request names, if any. Clients are public: a secret or Authorization header is refused. */
export function namedClient(req: IncomingMessage, form: URLSearchParams): OAuthClient | undefined {
  if (req.headers.authorization || form.has('client_secret')) {
    throw new RegistryError(
      'INVALID_CLIENT',
      'this server has only public clients: send client_id and no secret',
    );
  }
  const id = form.get('client_id');
  if (id === null) return undefined;
  const client = findClient(id);
  if (!client) throw new RegistryError('INVALID_CLIENT', `unknown client "${id.slice(0, 100)}"`);
  return client;
}

/** The client a request must name (RFC 6749 §3.2.1: public clients identify themselves). */
export function requiredClient(req: IncomingMessage, form: URLSearchParams): OAuthClient {
  const client = namedClient(req, form);
  if (!client) throw new RegistryError('INVALID_CLIENT', 'client_id is required');
  return client;
}

/** Parameters must not be repeated (RFC 6749 §3.2). */
export function refuseRepeated(form: URLSearchParams): void {
  const names = [...form.keys()];
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (repeated.length > 0) throw invalidRequest(`${[...new Set(repeated)].join(', ')} must not be repeated`);
}

/** The token endpoint (RFC 6749 §3.2): one branch per grant type, each ending in tokens or an OAuth error. */
export async function grantTokens(
  services: OAuthServices,
  req: IncomingMessage,
  form: URLSearchParams,
): Promise<TokenResponse> {
  refuseRepeated(form);
  const grantType = required(form, 'grant_type');
  switch (grantType) {
    case grantTypes.authorizationCode: {
      const client = requiredClient(req, form);
      const code = required(form, 'code');
      return services.grants.exchangeCode(
        code,
        client.id,
        form.get('redirect_uri'),
        form.get('code_verifier'),
      );
    }
    case grantTypes.refreshToken: {
      const client = requiredClient(req, form);
      return services.tokens.refresh(required(form, 'refresh_token'), client.id, form.get('scope'));
    }
    case grantTypes.deviceCode: {
      const client = requiredClient(req, form);
      return services.grants.pollDevice(required(form, 'device_code'), client.id);
    }
    case grantTypes.jwtBearer:
      return jwtBearer(services, req, form);
    case grantTypes.password:
      return password(services, req, form);
    default:
      throw new RegistryError(
        'UNSUPPORTED_GRANT_TYPE',
        `unsupported grant_type "${grantType.slice(0, 100)}": use ${Object.values(grantTypes).join(', ')}`,
      );
  }
}

/** RFC 7523 §2.1: a JWT signed with a service-account key; iss = sub = the account, aud = this endpoint. */
async function jwtBearer(
  services: OAuthServices,
  req: IncomingMessage,
  form: URLSearchParams,
): Promise<TokenResponse> {
  const client = namedClient(req, form);
  const scope = requestedScope(form.get('scope'));
  const assertion = required(form, 'assertion');
  let keyId: string | undefined;
  let issuer: unknown;
  let subject: unknown;
  try {
    keyId = decodeProtectedHeader(assertion).kid;
    ({ iss: issuer, sub: subject } = decodeJwt(assertion));
  } catch {
    throw new RegistryError('INVALID_GRANT', 'the assertion is not a JWT');
  }
  if (typeof issuer !== 'string' || issuer !== subject) {
    throw new RegistryError(
      'INVALID_GRANT',
      'the assertion must name the service account in both iss and sub',
    );
  }
  const audience = services.urls.url(req, oauthPaths.token);
  const caller = await auditSignIn(
    services.audit,
    req,
    'service-account-assertion',
    `serviceAccount:${issuer.slice(0, 254)}`,
    async () => {
      const verified = await services.credentials.assertion(assertion, keyId, issuer, audience);
      if (verified) return verified;
      throw new RegistryError(
        'INVALID_GRANT',
        `the assertion is not signed by a live key (kid) of ${issuer.slice(0, 254)}, has expired, was used before (each assertion is good for one token), or is not addressed to ${audience}`,
      );
    },
  );
  return services.tokens.accessOnly(caller, client?.id ?? cliClient.id, scope);
}

/** `mistrive auth login --username U --password-stdin`: the CLI only, rate limited like every password check. */
async function password(
  services: OAuthServices,
  req: IncomingMessage,
  form: URLSearchParams,
): Promise<TokenResponse> {
  const client = requiredClient(req, form);
  const scope = requestedScope(form.get('scope'));
  const username = required(form, 'username');
  const secret = required(form, 'password');
  try {
    const caller = await auditSignIn(
      services.audit,
      req,
      'cli-password',
      namedAccount(username, secret),
      () => services.credentials.password(username, secret, clientAddress(req)),
    );
    return services.tokens.startFamily(caller, client.id, scope);
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'UNAUTHORIZED') {
      throw new RegistryError('INVALID_GRANT', 'invalid username or password');
    }
    throw error;
  }
}
