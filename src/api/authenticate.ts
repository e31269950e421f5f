import type { IncomingMessage } from 'node:http';
import { presentedCredentials } from '../auth/authorization-header.js';
import type { CredentialService } from '../auth/credential-service.js';
import { RegistryError } from '../errors/registry-error.js';
import { anonymous, type Caller } from '../iam/principals.js';
import { clientAddress, notePrincipal } from '../server/request-identity.js';

/** The challenge management API refusals carry: sign in and send a Bearer access token. */
export const apiChallenge = 'Bearer realm="mistrive"';

export function unauthenticated(message = 'authentication required'): RegistryError {
  return new RegistryError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': apiChallenge } });
}

/**
 * Who is calling the management API: an OAuth access token as `Authorization: Bearer`, or Basic
 * credentials (a password, `oauth2accesstoken`, or a service-account key). No credentials make an
 * anonymous caller, who sees only public repositories; bad ones are refused with 401.
 */
export async function authenticate(req: IncomingMessage, credentials: CredentialService): Promise<Caller> {
  const caller = await callerOf(req, credentials);
  notePrincipal(req, caller);
  return caller;
}

async function callerOf(req: IncomingMessage, credentials: CredentialService): Promise<Caller> {
  let presented: ReturnType<typeof presentedCredentials>;
  try {
    presented = presentedCredentials(req);
  } catch (error) {
    throw unauthenticated((error as Error).message);
  }
  switch (presented.scheme) {
    case 'none':
      return anonymous;
    case 'basic':
      try {
        return await credentials.basic(presented.username, presented.password, clientAddress(req));
      } catch (error) {
        if (error instanceof RegistryError && error.code === 'UNAUTHORIZED')
          throw unauthenticated(error.message);
        throw error;
      }
    case 'bearer': {
      const caller = await credentials.accessToken(presented.token);
      if (!caller)
        throw unauthenticated('invalid or expired access token: sign in again (mistrive auth login)');
      return caller;
    }
  }
}
