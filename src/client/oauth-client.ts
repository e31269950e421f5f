import { CliError, hints } from '../cli/errors.js';
import { httpRequest, parseJson } from './http.js';

/** The CLI's OAuth client ID: a public client (PKCE, no secret). */
export const cliClientId = 'mistrive-cli';

export const grantTypes = {
  authorizationCode: 'authorization_code',
  refreshToken: 'refresh_token',
  password: 'password',
  deviceCode: 'urn:ietf:params:oauth:grant-type:device_code',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
} as const;

/** RFC 8414 authorization server metadata: the fields the CLI uses. */
export interface AuthorizationServerMetadata {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly device_authorization_endpoint?: string;
  readonly revocation_endpoint?: string;
}

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in?: number;
  readonly refresh_token?: string;
  readonly scope?: string;
}

/** RFC 8628 §3.2. */
export interface DeviceAuthorization {
  readonly device_code: string;
  readonly user_code: string;
  readonly verification_uri: string;
  readonly verification_uri_complete?: string;
  readonly expires_in: number;
  readonly interval?: number;
}

/** An OAuth error answer (RFC 6749 §5.2): `invalid_grant`, `authorization_pending`, `slow_down`, … */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string | undefined,
    readonly status: number,
  ) {
    super(description ? `${error}: ${description}` : error);
    this.name = 'OAuthError';
  }
}

const formHeaders = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };

/** Discovers the registry's authorization server (RFC 8414). */
export async function fetchMetadata(registry: string): Promise<AuthorizationServerMetadata> {
  const url = new URL('/.well-known/oauth-authorization-server', registry).toString();
  const response = await httpRequest(url, { headers: { accept: 'application/json' } });
  if (response.status === 404) {
    throw new CliError('NOT_FOUND', `${registry} does not offer OAuth sign-in`, {
      hint: 'check the registry URL: it should point at a Mistrive registry',
    });
  }
  if (response.status !== 200) {
    throw new CliError('SERVER_ERROR', `the registry answered ${response.status} to ${url}`);
  }
  const metadata = parseJson<Partial<AuthorizationServerMetadata>>(response, url);
  if (!metadata.token_endpoint || !metadata.authorization_endpoint) {
    throw new CliError('SERVER_ERROR', `the authorization server metadata at ${url} lacks its endpoints`);
  }
  return metadata as AuthorizationServerMetadata;
}

async function postForm<T>(endpoint: string, form: Record<string, string>): Promise<T> {
  const response = await httpRequest(endpoint, {
    method: 'POST',
    headers: formHeaders,
    body: new URLSearchParams(form).toString(),
  });
  const body = parseJson<Record<string, unknown>>(response, endpoint);
  if (response.status >= 200 && response.status < 300) return body as T;
  if (typeof body.error === 'string') {
    throw new OAuthError(
      body.error,
      typeof body.error_description === 'string' ? body.error_description : undefined,
      response.status,
    );
  }
  // A registry-style error body: {"errors":[{code,message}]}.
  const first = (body.errors as { code?: string; message?: string }[] | undefined)?.[0];
  throw new OAuthError(first?.code?.toLowerCase() ?? 'server_error', first?.message, response.status);
}

/** Any grant at the token endpoint. */
export function requestToken(tokenEndpoint: string, form: Record<string, string>): Promise<TokenResponse> {
  return postForm<TokenResponse>(tokenEndpoint, { client_id: cliClientId, ...form });
}

export function requestDeviceAuthorization(endpoint: string): Promise<DeviceAuthorization> {
  return postForm<DeviceAuthorization>(endpoint, { client_id: cliClientId });
}

/** RFC 7009: revokes a token; true when the server confirmed. */
export async function revokeToken(endpoint: string, token: string, hint: 'refresh_token' | 'access_token') {
  const response = await httpRequest(endpoint, {
    method: 'POST',
    headers: formHeaders,
    body: new URLSearchParams({ client_id: cliClientId, token, token_type_hint: hint }).toString(),
  });
  return response.status === 200;
}

/** The CLI error for a refused grant, with what to do. */
export function grantFailed(error: unknown, registry: string, what: string): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof OAuthError) {
    if (error.error === 'invalid_grant' || error.error === 'invalid_client' || error.status === 401) {
      return new CliError('AUTH_REQUIRED', `${what} was refused: ${error.description ?? error.error}`, {
        hint: hints.signIn(registry),
        cause: error,
      });
    }
    if (error.error === 'access_denied') {
      return new CliError('LOGIN_DENIED', `${what} was denied: ${error.description ?? 'access denied'}`, {
        cause: error,
      });
    }
    if (error.error === 'too_many_requests' || error.error === 'toomanyrequests' || error.status === 429) {
      return new CliError(
        'SERVER_ERROR',
        `${what} was refused: ${error.description ?? 'too many attempts'}`,
        {
          hint: 'wait a few minutes and try again',
          cause: error,
        },
      );
    }
    if (error.status >= 500) {
      return new CliError('SERVER_ERROR', `${what} failed: the registry answered ${error.message}`, {
        cause: error,
      });
    }
    return new CliError('INVALID_ARGUMENT', `${what} was refused: ${error.message}`, { cause: error });
  }
  return new CliError('INTERNAL', `${what} failed: ${(error as Error).message}`, { cause: error });
}
