import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** An unguessable token (256 bits), base64url: codes, refresh tokens, session IDs, CSRF tokens. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What the server keeps of a secret it hands out: its SHA-256, base64url. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Compares two secrets in time that does not depend on where they differ. */
export function secretsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
