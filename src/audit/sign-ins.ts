import type { IncomingMessage } from 'node:http';
import { basicUsernames } from '../auth/credential-service.js';
import { parseKeyFile } from '../auth/service-account-keys.js';
import { RegistryError } from '../errors/registry-error.js';
import { type Caller, foldLogin, subjectOf } from '../iam/principals.js';
import { notePrincipal } from '../server/request-identity.js';
import { type AuditLog, reasonOf } from './audit-log.js';

/** How a sign-in came in, as its audit entries name it. */
export type SignInMethod =
  /** The Docker token endpoint with Basic credentials or the password grant (docker, skopeo, podman). */
  | 'registry-token'
  /** `mistrive auth login --username`. */
  | 'cli-password'
  /** The browser sign-in page. */
  | 'login-page'
  /** A service-account key exchanged for a token (`mistrive auth activate-service-account`). */
  | 'service-account-assertion';

/** The account a set of Basic credentials names: what a failed sign-in is recorded against. */
export function namedAccount(username: string, secret: string): string {
  if (username === basicUsernames.keyJson || username === basicUsernames.keyBase64) {
    const email = parseKeyFile(secret)?.client_email;
    return email ? `serviceAccount:${email}` : 'anonymous';
  }
  if (username === basicUsernames.accessToken) return 'anonymous';
  return `user:${foldLogin(username)}`;
}

/**
 * Checks credentials at a sign-in endpoint and records the attempt: who signed in, or which account
 * was named and why it was refused. The request log names the principal of a sign-in that succeeds.
 */
export async function auditSignIn(
  audit: AuditLog,
  req: IncomingMessage,
  method: SignInMethod,
  named: string,
  check: () => Promise<Caller>,
): Promise<Caller> {
  let caller: Caller;
  try {
    caller = await check();
  } catch (error) {
    await audit.recordRequest(req, {
      actor: named,
      action: 'signIn',
      resource: named,
      // Wrong credentials are a failed sign-in; one the failure limits refused to even check is denied.
      outcome: error instanceof RegistryError && error.code === 'TOOMANYREQUESTS' ? 'denied' : 'failed',
      details: { method, reason: reasonOf(error) },
    });
    throw error;
  }
  notePrincipal(req, caller);
  const principal = subjectOf(caller) || 'anonymous';
  await audit.recordRequest(req, {
    actor: principal,
    action: 'signIn',
    resource: principal,
    outcome: 'success',
    details: { method },
  });
  return caller;
}
