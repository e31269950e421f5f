import { formatByteSize } from '../lib/byte-sizes.js';

/**
 * What a transfer tells the person watching: bytes moved, the rate, blobs done. On a terminal one
 * line on stderr is redrawn a few times a second; piped, nothing is written.
 */
export interface TransferProgress {
  /** A blob of `size` bytes will be moved (or found there already). */
  planned(size: number): void;
  /** `bytes` more were moved. */
  moved(bytes: number): void;
  /** A blob is done (moved, mounted or skipped). */
  done(): void;
  /** Clears the line. */
  finish(): void;
}

export const silentProgress: TransferProgress = {
  planned() {},
  moved() {},
  done() {},
  finish() {},
};

export function terminalProgress(
  stream: NodeJS.WritableStream,
  verb: string,
  now: () => number = () => performance.now(),
): TransferProgress {
  const started = now();
  let total = 0;
  let moved = 0;
  let blobs = 0;
  let finished = 0;
  const draw = () => {
    const seconds = (now() - started) / 1000;
    const rate = seconds > 0 ? moved / seconds : 0;
    stream.write(
      `\r\x1b[2K${verb}: ${finished}/${blobs} blobs, ${formatByteSize(moved, 'binary')} of ${formatByteSize(total, 'binary')}, ${formatByteSize(rate, 'decimal')}/s`,
    );
  };
  const timer = setInterval(draw, 200);
  timer.unref();
  return {
    planned(size) {
      total += size;
      blobs += 1;
      // The first line shows at once, not a tick later: a small copy may be over before the tick.
      if (blobs === 1) draw();
    },
    moved(bytes) {
      moved += bytes;
    },
    done() {
      finished += 1;
    },
    finish() {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}

/**
 * The chunks of `source`, reporting each as it passes. An async iterable rather than a stream in
 * between: an HTTP client that ends a request body as soon as the server answers would otherwise
 * close the stream before it emitted 'end', and fail the transfer with "premature close".
 */
export async function* metered(
  source: AsyncIterable<Buffer>,
  progress: TransferProgress,
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    progress.moved(chunk.length);
    yield chunk;
  }
}
