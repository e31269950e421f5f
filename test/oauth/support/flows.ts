import { expect } from 'vitest';
import { testAdminPassword } from '../../support/registry.js';
import { postForm, type Reply, type WebClient } from './http.js';
import { cliClientId } from './oauth-registry.js';
import { pkcePair } from './pkce.js';

export const deviceGrant = 'urn:ietf:params:oauth:grant-type:device_code';

export function tokenRequest(base: string, fields: Record<string, string>): Promise<Reply> {
  return postForm(`${base}/oauth/token`, fields);
}

/** The password grant the CLI uses for `auth login --username U --password-stdin`: the quickest way to tokens. */
/** A successful token response with a refresh token. */
export interface TokenSet {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly scope: string;
}

export async function passwordTokens(
  base: string,
  password = testAdminPassword,
  username = 'admin',
): Promise<TokenSet> {
  const reply = await tokenRequest(base, {
    grant_type: 'password',
    client_id: cliClientId,
    username,
    password,
  });
  expect(reply.status, reply.text).toBe(200);
  return reply.json as unknown as TokenSet;
}

export interface AuthorizationRequest {
  readonly redirectUri: string;
  readonly challenge: string;
  readonly state: string;
}

export function authorizationParameters(request: AuthorizationRequest): Record<string, string> {
  return {
    response_type: 'code',
    client_id: cliClientId,
    redirect_uri: request.redirectUri,
    code_challenge: request.challenge,
    code_challenge_method: 'S256',
    state: request.state,
  };
}

/** A signed-in browser stand-in allows the request; returns the redirect the consent answer sends it to. */
export async function allow(web: WebClient, csrf: string, request: AuthorizationRequest): Promise<URL> {
  const answer = await web.post('/oauth/authorize', {
    ...authorizationParameters(request),
    csrf_token: csrf,
    decision: 'allow',
  });
  expect(answer.status, answer.text).toBe(303);
  return new URL(answer.headers.get('location') as string);
}

/** A code for a fresh PKCE pair, and what redeeming it needs. */
export async function authorizationCode(
  web: WebClient,
  csrf: string,
  redirectUri = 'http://127.0.0.1:49152/callback',
) {
  const { verifier, challenge } = pkcePair();
  const location = await allow(web, csrf, { redirectUri, challenge, state: 'state-1' });
  return { code: location.searchParams.get('code') as string, verifier, redirectUri };
}

export function redeem(
  base: string,
  code: { code: string; verifier: string; redirectUri: string },
): Promise<Reply> {
  return tokenRequest(base, {
    grant_type: 'authorization_code',
    client_id: cliClientId,
    code: code.code,
    redirect_uri: code.redirectUri,
    code_verifier: code.verifier,
  });
}

/** Whether the Docker token endpoint takes the token as `oauth2accesstoken` Basic credentials. */
export async function tokenEndpointAccepts(base: string, accessToken: string): Promise<number> {
  const basic = Buffer.from(`oauth2accesstoken:${accessToken}`).toString('base64');
  const response = await fetch(`${base}/auth/token?service=mistrive`, {
    headers: { Authorization: `Basic ${basic}` },
  });
  await response.arrayBuffer();
  return response.status;
}
