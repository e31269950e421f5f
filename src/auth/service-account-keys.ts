import { randomBytes } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type JWK, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Clock } from '../lib/clock.js';

const algorithm = 'ES256';

/** The key file a service account's key is handed out as, once. */
export const keyFileSchema = z.object({
  type: z.literal('service_account'),
  client_email: z.string(),
  private_key_id: z.string(),
  private_key: z.string(),
  project_id: z.string().optional(),
  token_uri: z.string().optional(),
});

export type KeyFile = z.infer<typeof keyFileSchema>;

export interface GeneratedKey {
  readonly id: string;
  /** What the server keeps: the public JWK. */
  readonly publicKey: string;
  /** What the caller gets, once. */
  readonly keyFile: KeyFile;
}

export async function generateServiceAccountKey(
  email: string,
  project: string,
  tokenUri: string,
): Promise<GeneratedKey> {
  const { publicKey, privateKey } = await generateKeyPair(algorithm, { extractable: true });
  const id = randomBytes(20).toString('hex');
  const jwk: JWK = { ...(await exportJWK(publicKey)), alg: algorithm, kid: id };
  return {
    id,
    publicKey: JSON.stringify(jwk),
    keyFile: {
      type: 'service_account',
      project_id: project,
      client_email: email,
      private_key_id: id,
      private_key: await exportPKCS8(privateKey),
      token_uri: tokenUri,
    },
  };
}

/** Parses a key file given as JSON text or its base64 encoding; undefined when it is neither. */
export function parseKeyFile(text: string): KeyFile | undefined {
  const attempts = [text];
  if (!text.trimStart().startsWith('{')) attempts.push(Buffer.from(text, 'base64').toString('utf8'));
  for (const attempt of attempts) {
    try {
      const parsed = keyFileSchema.safeParse(JSON.parse(attempt));
      if (parsed.success) return parsed.data;
    } catch {
      // not JSON: try the next form
    }
  }
  return undefined;
}

/**
 * True when the key file's private key is the one whose public half the server stored: the
 * public key derived from it must match. Used for `_json_key` Basic credentials.
 */
export async function keyFileMatches(keyFile: KeyFile, storedPublicKey: string): Promise<boolean> {
  try {
    const privateKey = await importPKCS8(keyFile.private_key, algorithm, { extractable: true });
    const { x, y, crv } = await exportJWK(privateKey);
    const stored = JSON.parse(storedPublicKey) as JWK;
    return x === stored.x && y === stored.y && crv === stored.crv;
  } catch {
    return false;
  }
}

/**
 * Verifies a JWT-bearer assertion (RFC 7523) signed with a service account's key: its `jti` and
 * expiry when valid, for the caller to make it single-use.
 */
export async function verifyAssertion(
  assertion: string,
  storedPublicKey: string,
  email: string,
  audience: string,
  clock: Clock,
): Promise<{ jti: string; expiresAt: Date } | undefined> {
  try {
    const key = await importJWK(JSON.parse(storedPublicKey) as JWK, algorithm);
    const { payload } = await jwtVerify(assertion, key, {
      issuer: email,
      subject: email,
      audience,
      algorithms: [algorithm],
      currentDate: clock.now(),
      maxTokenAge: '1h',
      requiredClaims: ['exp', 'iat', 'jti'],
    });
    if (payload.exp === undefined || payload.jti === undefined) return undefined;
    return { jti: payload.jti, expiresAt: new Date(payload.exp * 1000) };
  } catch {
    return undefined;
  }
}
