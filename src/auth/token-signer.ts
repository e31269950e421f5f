import type { webcrypto } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { Clock } from '../lib/clock.js';

type CryptoKey = webcrypto.CryptoKey;

export const tokenIssuer = 'mistrive';
const algorithm = 'ES256';

export interface SignOptions {
  readonly audience: string;
  readonly subject: string;
  readonly ttlSeconds: number;
  /** The JWT `typ` header, so one kind of token is never accepted as another. */
  readonly type: string;
}

export interface VerifiedToken extends JWTPayload {
  readonly sub: string;
  readonly exp: number;
  readonly jti: string;
}

/**
 * Signs and verifies the daemon's JWTs (registry tokens, OAuth access tokens) with one ES256 key.
 * The key is created on first start in the data directory, readable only by the daemon's user.
 */
export class TokenSigner {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly publicJwk: JWK,
    private readonly clock: Clock,
  ) {}

  static async loadOrCreate(path: string, clock: Clock): Promise<TokenSigner> {
    let jwk: JWK;
    try {
      jwk = JSON.parse(await readFile(path, 'utf8')) as JWK;
      // A key written by an older version, or copied in, is the signing secret: the owner's alone.
      await chmod(path, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const { privateKey } = await generateKeyPair(algorithm, { extractable: true });
      jwk = { ...(await exportJWK(privateKey)), alg: algorithm, use: 'sig' };
      jwk.kid = await calculateJwkThumbprint(jwk);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      try {
        await writeFile(path, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
      } catch (writeError) {
        // Another instance sharing the data directory created it first: use theirs.
        if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
        jwk = JSON.parse(await readFile(path, 'utf8')) as JWK;
      }
    }
    const { d: _private, ...publicJwk } = jwk;
    const privateKey = (await importJWK(jwk, algorithm)) as CryptoKey;
    const publicKey = (await importJWK(publicJwk, algorithm)) as CryptoKey;
    return new TokenSigner(privateKey, publicKey, publicJwk, clock);
  }

  /** The public key set, for anyone who wants to verify tokens themselves. */
  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  async sign(
    claims: JWTPayload,
    options: SignOptions,
  ): Promise<{ token: string; expiresAt: number; jti: string }> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const jti = randomUUID();
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: algorithm, kid: this.publicJwk.kid, typ: options.type })
      .setIssuer(tokenIssuer)
      .setAudience(options.audience)
      .setSubject(options.subject)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + options.ttlSeconds)
      .setJti(jti)
      .sign(this.privateKey);
    return { token, expiresAt: now + options.ttlSeconds, jti };
  }

  /** Verifies signature, issuer, audience, type and lifetime; undefined for any token that fails. */
  async verify(token: string, audience: string, type: string): Promise<VerifiedToken | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        issuer: tokenIssuer,
        audience,
        typ: type,
        algorithms: [algorithm],
        currentDate: this.clock.now(),
        requiredClaims: ['sub', 'exp', 'jti'],
      });
      return payload as VerifiedToken;
    } catch {
      return undefined;
    }
  }
}
