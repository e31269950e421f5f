import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegistryError } from '../../errors/registry-error.js';
import { subjectOf } from '../../iam/principals.js';
import { readForm } from '../../server/http.js';
import type { Route } from '../../server/router.js';
import { findClient, loopbackRedirect, type OAuthClient } from './clients.js';
import type { AuthorizationRequest } from './grants.js';
import { oauthErrorName } from './oauth-responses.js';
import type { OAuthServices } from './oauth-services.js';
import { pageEndpoint, redirect, sendPage, signInFirst } from './page-responses.js';
import { consentPage, messagePage } from './pages.js';
import { challengeMethod, isCodeChallenge } from './pkce.js';
import { oauthPaths } from './public-urls.js';
import { requestedScope } from './scopes.js';

/** The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3). */
const requestParameters = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
] as const;

type ParsedRequest =
  /** Client or redirect URI unusable: say so on the page, never redirect (RFC 6749 §4.1.2.1). */
  | { readonly kind: 'invalid'; readonly message: string }
  /** Anything else wrong goes back to the client as an error on its redirect URI. */
  | {
      readonly kind: 'refused';
      readonly redirectUri: URL;
      readonly error: RegistryError;
      readonly state: string | undefined;
    }
  | {
      readonly kind: 'valid';
      readonly client: OAuthClient;
      readonly redirectUri: URL;
      readonly state: string | undefined;
      readonly request: AuthorizationRequest;
      /** The request's parameters as received, carried from the consent page to its answer. */
      readonly parameters: Record<string, string>;
    };

function parseRequest(params: URLSearchParams): ParsedRequest {
  const repeated = requestParameters.filter((name) => params.getAll(name).length > 1);
  if (repeated.includes('client_id') || repeated.includes('redirect_uri')) {
    return { kind: 'invalid', message: 'The request names more than one client or redirect URI.' };
  }
  const client = findClient(params.get('client_id'));
  if (!client)
    return { kind: 'invalid', message: 'The request comes from an application this server does not know.' };
  const redirectUri = loopbackRedirect(params.get('redirect_uri'));
  if (!redirectUri) {
    return {
      kind: 'invalid',
      message:
        'The redirect URI must be a loopback address on this computer (http://127.0.0.1:PORT/…, http://[::1]:PORT/… or http://localhost:PORT/…).',
    };
  }
  const state = params.get('state') ?? undefined;
  const refuse = (error: RegistryError): ParsedRequest => ({ kind: 'refused', redirectUri, error, state });
  const invalid = (message: string) => refuse(new RegistryError('INVALID_ARGUMENT', message));
  if (repeated.length > 0) return invalid(`${repeated.join(', ')} must not be repeated`);
  if (params.get('response_type') !== 'code') {
    return refuse(new RegistryError('UNSUPPORTED_RESPONSE_TYPE', 'response_type must be code'));
  }
  const challenge = params.get('code_challenge');
  if (!challenge) return invalid('code_challenge is required: PKCE with S256 is mandatory');
  if (params.get('code_challenge_method') !== challengeMethod) {
    return invalid('code_challenge_method must be S256; plain is not accepted');
  }
  if (!isCodeChallenge(challenge))
    return invalid('code_challenge must be the base64url SHA-256 of the verifier');
  let scope: string;
  try {
    scope = requestedScope(params.get('scope'));
  } catch (error) {
    return refuse(error as RegistryError);
  }
  const parameters: Record<string, string> = {};
  for (const name of requestParameters) {
    const value = params.get(name);
    if (value !== null) parameters[name] = value;
  }
  return {
    kind: 'valid',
    client,
    redirectUri,
    state,
    request: {
      clientId: client.id,
      redirectUri: params.get('redirect_uri') as string,
      codeChallenge: challenge,
      scope,
    },
    parameters,
  };
}

/** The authorization endpoint (RFC 6749 §4.1): sign in if needed, then the consent page and its answer. */
export function authorizeRoutes(services: OAuthServices): Route[] {
  const { sessions, grants, urls } = services;

  /** Back to the client's loopback listener, with `state` and `iss` (RFC 9207) beside the result. */
  const answer = (
    req: IncomingMessage,
    res: ServerResponse,
    to: URL,
    result: Record<string, string>,
    state?: string,
  ) => {
    const location = new URL(to.href);
    for (const [name, value] of Object.entries(result)) location.searchParams.set(name, value);
    if (state !== undefined) location.searchParams.set('state', state);
    location.searchParams.set('iss', urls.issuer(req));
    redirect(res, location.href);
  };
  const refuse = (req: IncomingMessage, res: ServerResponse, to: URL, error: RegistryError, state?: string) =>
    answer(req, res, to, { error: oauthErrorName(error), error_description: error.message }, state);
  const invalidPage = (res: ServerResponse, message: string) =>
    sendPage(res, messagePage('This sign-in request is not valid', message), { status: 400 });

  return [
    {
      name: 'oauth-authorize',
      pattern: /^\/oauth\/authorize$/,
      methods: {
        GET: {
          action: 'none',
          handler: pageEndpoint(async ({ req, res, query }) => {
            const parsed = parseRequest(query);
            if (parsed.kind === 'invalid') return invalidPage(res, parsed.message);
            if (parsed.kind === 'refused')
              return refuse(req, res, parsed.redirectUri, parsed.error, parsed.state);
            const session = await sessions.current(req);
            if (!session) return signInFirst(res, `${oauthPaths.authorize}?${query}`);
            const page = consentPage({
              login: session.login,
              client: parsed.client,
              redirectUri: parsed.request.redirectUri,
              csrfToken: session.csrfToken,
              request: parsed.parameters,
            });
            // The answer is a redirect to the loopback listener: the page's form must be allowed to lead there.
            const ipv6 = parsed.redirectUri.hostname.startsWith('[');
            sendPage(res, page, { formTargets: ipv6 ? 'any' : [parsed.redirectUri.origin] });
          }),
        },
        POST: {
          action: 'none',
          handler: pageEndpoint(async ({ req, res }) => {
            const form = await readForm(req);
            const parsed = parseRequest(form);
            if (parsed.kind === 'invalid') return invalidPage(res, parsed.message);
            if (parsed.kind === 'refused')
              return refuse(req, res, parsed.redirectUri, parsed.error, parsed.state);
            const session = await sessions.current(req);
            if (!session) {
              return signInFirst(res, `${oauthPaths.authorize}?${new URLSearchParams(parsed.parameters)}`);
            }
            sessions.checkCsrf(session, form);
            if (form.get('decision') !== 'allow') {
              const denied = new RegistryError('ACCESS_DENIED', 'the user denied the request');
              return refuse(req, res, parsed.redirectUri, denied, parsed.state);
            }
            const code = await grants.issueCode(parsed.request, subjectOf(session.caller));
            answer(req, res, parsed.redirectUri, { code }, parsed.state);
          }),
        },
      },
    },
  ];
}
