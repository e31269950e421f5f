import { createHash } from 'node:crypto';
import { secretsEqual } from './secrets.js';

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const verifierShape = /^[A-Za-z0-9._~-]{43,128}$/;
/** BASE64URL(SHA256(verifier)): always 43 characters. */
const challengeShape = /^[A-Za-z0-9_-]{43}$/;

/** The only transformation accepted: `plain` would hand the verifier to whoever sees the request. */
export const challengeMethod = 'S256';

export function isCodeChallenge(value: string): boolean {
  return challengeShape.test(value);
}

export function isCodeVerifier(value: string): boolean {
  return verifierShape.test(value);
}

/** True when the verifier hashes to the challenge (RFC 7636 §4.6). */
export function verifierMatches(verifier: string, challenge: string): boolean {
  if (!isCodeVerifier(verifier)) return false;
  return secretsEqual(createHash('sha256').update(verifier, 'ascii').digest('base64url'), challenge);
}
