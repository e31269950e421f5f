import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/**
 * A pass-through stream that hashes what flows through it and, at the end, hands the digest and the
 * byte count to `finish`; an error `finish` returns fails the stream (a digest that does not match).
 */
export function digesting(
  algorithm: string,
  finish: (digest: string, size: number) => Error | undefined,
): Transform {
  const hash = createHash(algorithm);
  let size = 0;
  return new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      callback(finish(`${algorithm}:${hash.digest('hex')}`, size));
    },
  });
}
