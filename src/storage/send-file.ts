import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/**
 * Sends bytes `start`..`end` (inclusive) of an open file to `sink`, and ends it.
 *
 * Two buffers take turns: one is being read from disk while the other is written out, and a buffer
 * is reused only once `sink` has called back for it (libuv has handed it to the kernel). Next to
 * a read stream, which allocates a fresh buffer per chunk, this halves the CPU a large pull costs:
 * no allocation, no page faults on new memory, no garbage.
 */
export async function sendFile(
  handle: FileHandle,
  start: number,
  end: number,
  sink: Writable,
  chunkBytes: number,
): Promise<void> {
  const length = end - start + 1;
  const buffers = [
    Buffer.allocUnsafe(Math.min(chunkBytes, length)),
    Buffer.allocUnsafe(Math.min(chunkBytes, length)),
  ];
  const written: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  // A client that hangs up may leave a write's callback uncalled: closing ends every wait.
  let onClose = () => {};
  const closed = new Promise<never>((_, reject) => {
    onClose = () => {
      if (!sink.writableFinished) reject(prematureClose());
    };
  });
  closed.catch(() => undefined);
  sink.once('close', onClose);
  try {
    let position = start;
    let turn = 0;
    while (position <= end) {
      await Promise.race([written[turn], closed]);
      const buffer = buffers[turn] as Buffer;
      const wanted = Math.min(buffer.length, end - position + 1);
      const { bytesRead } = await handle.read(buffer, 0, wanted, position);
      if (bytesRead === 0) throw new Error(`file ended at ${position}, before byte ${end}`);
      position += bytesRead;
      const piece = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      const write = new Promise<void>((resolve, reject) => {
        // A write after the client hung up fails with ERR_STREAM_DESTROYED: that is the client gone too.
        sink.write(piece, (error) => {
          if (!error) resolve();
          else
            reject((error as { code?: string }).code === 'ERR_STREAM_DESTROYED' ? prematureClose() : error);
        });
      });
      write.catch(() => undefined);
      written[turn] = write;
      turn ^= 1;
    }
    await Promise.race([Promise.all(written), closed]);
    await Promise.race([new Promise<void>((resolve) => sink.end(resolve)), closed]);
  } finally {
    sink.off('close', onClose);
  }
}

function prematureClose(): Error {
  return Object.assign(new Error('the client closed the connection'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
