import { randomUUID } from 'node:crypto';

/**
 * Token and key helpers without dependencies (jose is loaded only to sign an assertion), so the
 * credential helper can read a cached token without loading anything it does not need.
 */

/** A cached access token is refreshed when it has less than this left (seconds). */
export const refreshMarginSeconds = 300;

/** The claims the CLI reads from an access token it holds (it trusts the server that issued it). */
export function jwtClaims(token: string): { sub?: string; exp?: number } | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    return {
      sub: typeof claims.sub === 'string' ? claims.sub : undefined,
      exp: typeof claims.exp === 'number' ? claims.exp : undefined,
    };
  } catch {
    return undefined;
  }
}

/** When an access token expires (seconds since the epoch): its `exp`, else `expires_in` from now. */
export function expiryOf(accessToken: string, expiresIn: number | undefined, nowSeconds: number): number {
  return jwtClaims(accessToken)?.exp ?? nowSeconds + (expiresIn ?? 3600);
}

/** `user:admin` → `admin`; `serviceAccount:ci@p.iam` → `ci@p.iam`. */
export function accountNameOf(subject: string): { name: string; kind: 'user' | 'serviceAccount' } {
  if (subject.startsWith('serviceAccount:')) return { name: subject.slice(15), kind: 'serviceAccount' };
  return { name: subject.startsWith('user:') ? subject.slice(5) : subject, kind: 'user' };
}

/** A service-account key file, as `service-accounts keys create` hands it out once. */
export interface ServiceAccountKey {
  readonly type: 'service_account';
  readonly client_email: string;
  readonly private_key_id: string;
  readonly private_key: string;
  readonly project_id?: string;
  readonly token_uri?: string;
}

/** Parses a key file given as JSON or base64 JSON (`MISTRIVE_KEY`); undefined when it is neither. */
export function parseServiceAccountKey(text: string): ServiceAccountKey | undefined {
  const trimmed = text.trim();
  const candidates = trimmed.startsWith('{') ? [trimmed] : [Buffer.from(trimmed, 'base64').toString('utf8')];
  for (const candidate of candidates) {
    try {
      const value = JSON.parse(candidate) as Partial<ServiceAccountKey>;
      if (
        value.type === 'service_account' &&
        typeof value.client_email === 'string' &&
        typeof value.private_key_id === 'string' &&
        typeof value.private_key === 'string'
      ) {
        return value as ServiceAccountKey;
      }
    } catch {
      // not JSON
    }
  }
  return undefined;
}

/** A JWT-bearer assertion (RFC 7523) for the key: iss = sub = the account, aud = the token endpoint, ES256. */
export async function signAssertion(
  key: ServiceAccountKey,
  audience: string,
  nowSeconds: number,
): Promise<string> {
  const { SignJWT, importPKCS8 } = await import('jose');
  const privateKey = await importPKCS8(key.private_key, 'ES256');
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: key.private_key_id, typ: 'JWT' })
    .setIssuer(key.client_email)
    .setSubject(key.client_email)
    .setAudience(audience)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + 300)
    .setJti(randomUUID())
    .sign(privateKey);
}
