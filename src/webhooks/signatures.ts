import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How deliveries are signed. The signature is an HMAC-SHA256, keyed with the webhook's secret, of
 * `TIMESTAMP.BODY`: the `X-Mistrive-Timestamp` header (Unix seconds), a dot, and the raw request
 * body. Signing the timestamp with the body lets a receiver refuse an old delivery replayed to it.
 */

export const signatureHeaders = {
  signature: 'x-mistrive-signature',
  timestamp: 'x-mistrive-timestamp',
  event: 'x-mistrive-event',
  eventId: 'x-mistrive-event-id',
  delivery: 'x-mistrive-delivery',
} as const;

export const minSecretLength = 16;
export const maxSecretLength = 256;

/** A new secret: 32 random bytes, prefixed so that one found in a file says what it is. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The `X-Mistrive-Signature` value: `sha256=` and the HMAC's hex. */
export function signPayload(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Checks a signature the way a receiver does, in constant time. */
export function verifySignature(secret: string, timestamp: number, body: string, signature: string): boolean {
  const expected = Buffer.from(signPayload(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
