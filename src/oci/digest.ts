import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from '../errors/registry-error.js';

/** The digest algorithms this registry verifies, with the length of their hex encoding. */
const algorithms = { sha256: 64, sha512: 128 } as const;

export type DigestAlgorithm = keyof typeof algorithms;

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** `algorithm:hex`, the form used on the wire. */
  readonly value: string;
}

const digestShape = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Parses a digest, refusing unknown algorithms and malformed encodings with DIGEST_INVALID. */
export function parseDigest(text: string): Digest {
  const match = digestShape.exec(text);
  if (!match)
    throw new RegistryError('DIGEST_INVALID', `invalid digest "${clip(text)}": expected algorithm:hex`);
  const [, algorithm = '', hex = ''] = match;
  if (!isAlgorithm(algorithm)) {
    throw new RegistryError(
      'DIGEST_INVALID',
      `unsupported digest algorithm "${algorithm}": use sha256 or sha512`,
    );
  }
  if (hex.length !== algorithms[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new RegistryError(
      'DIGEST_INVALID',
      `invalid ${algorithm} digest "${clip(text)}": expected ${algorithms[algorithm]} lowercase hex characters`,
    );
  }
  return { algorithm, hex, value: text };
}

/** True when `text` has the shape of a digest (as opposed to a tag), whatever its validity. */
export function looksLikeDigest(text: string): boolean {
  return text.includes(':');
}

export function isAlgorithm(name: string): name is DigestAlgorithm {
  return Object.hasOwn(algorithms, name);
}

export function createDigester(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

function clip(text: string): string {
  return text.length > 140 ? `${text.slice(0, 137)}...` : text;
}
