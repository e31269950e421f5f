import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../../errors/registry-error.js';
import { readForm, sendJson } from '../../server/http.js';
import type { Route } from '../../server/router.js';
import { authorizeRoutes } from './authorize-routes.js';
import { deviceRoutes } from './device-routes.js';
import { oauthEndpoint, sendOAuthJson } from './oauth-responses.js';
import type { OAuthServices } from './oauth-services.js';
import { challengeMethod } from './pkce.js';
import { oauthPaths } from './public-urls.js';
import { requestedScope, supportedScopes } from './scopes.js';
import { signInRoutes } from './sign-in-routes.js';
import { grantTokens, grantTypes, namedClient, refuseRepeated, requiredClient } from './token-grants.js';

/** RFC 8414 server metadata: where everything is and what is supported. */
function serverMetadata(services: OAuthServices, req: IncomingMessage) {
  const issuer = services.urls.issuer(req);
  return {
    issuer,
    authorization_endpoint: `${issuer}${oauthPaths.authorize}`,
    token_endpoint: `${issuer}${oauthPaths.token}`,
    device_authorization_endpoint: `${issuer}${oauthPaths.deviceAuthorization}`,
    revocation_endpoint: `${issuer}${oauthPaths.revoke}`,
    jwks_uri: `${issuer}${oauthPaths.jwks}`,
    scopes_supported: supportedScopes,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: Object.values(grantTypes),
    code_challenge_methods_supported: [challengeMethod],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    authorization_response_iss_parameter_supported: true,
  };
}

/** The JSON endpoints: metadata, keys, token, device authorization and revocation. */
function endpointRoutes(services: OAuthServices): Route[] {
  const { urls, grants, tokens, housekeeping } = services;
  return [
    {
      name: 'oauth-metadata',
      pattern: /^\/\.well-known\/oauth-authorization-server$/,
      methods: {
        GET: {
          action: 'none',
          handler: oauthEndpoint(async ({ req, res }) => sendJson(res, 200, serverMetadata(services, req))),
        },
      },
    },
    {
      name: 'oauth-jwks',
      pattern: /^\/\.well-known\/jwks\.json$/,
      methods: {
        GET: {
          action: 'none',
          handler: async ({ res }) =>
            sendJson(res, 200, services.signer.jwks(), { 'Cache-Control': 'max-age=300' }),
        },
      },
    },
    {
      name: 'oauth-token',
      pattern: /^\/oauth\/token$/,
      methods: {
        POST: {
          action: 'none',
          handler: oauthEndpoint(async ({ req, res }) => {
            const form = await readForm(req);
            await housekeeping.tick();
            sendOAuthJson(res, await grantTokens(services, req, form));
          }),
        },
      },
    },
    {
      name: 'oauth-device-authorization',
      pattern: /^\/oauth\/device_authorization$/,
      methods: {
        POST: {
          action: 'none',
          handler: oauthEndpoint(async ({ req, res }) => {
            const form = await readForm(req);
            refuseRepeated(form);
            const client = requiredClient(req, form);
            await housekeeping.tick();
            const started = await grants.startDevice(client.id, requestedScope(form.get('scope')));
            const verificationUri = urls.url(req, oauthPaths.device);
            sendOAuthJson(res, {
              device_code: started.deviceCode,
              user_code: started.userCode,
              verification_uri: verificationUri,
              verification_uri_complete: `${verificationUri}?${new URLSearchParams({ user_code: started.userCode })}`,
              expires_in: started.expiresIn,
              interval: started.interval,
            });
          }),
        },
      },
    },
    {
      name: 'oauth-revoke',
      pattern: /^\/oauth\/revoke$/,
      methods: {
        POST: {
          action: 'none',
          handler: oauthEndpoint(async ({ req, res }) => {
            const form = await readForm(req);
            refuseRepeated(form);
            namedClient(req, form);
            const token = form.get('token');
            if (!token) throw new RegistryError('INVALID_ARGUMENT', 'token is required');
            await tokens.revoke(token);
            // RFC 7009 §2.2: 200 whether or not the token was valid, so nothing is learned from the answer.
            res.writeHead(200, { 'Cache-Control': 'no-store', 'Content-Length': 0 });
            res.end();
          }),
        },
      },
    },
  ];
}

/** The OAuth 2.0 authorization server the CLI signs in against: its JSON endpoints and its pages. */
export function oauthRoutes(services: OAuthServices): Route[] {
  return [
    ...endpointRoutes(services),
    ...authorizeRoutes(services),
    ...deviceRoutes(services),
    ...signInRoutes(services),
  ];
}
