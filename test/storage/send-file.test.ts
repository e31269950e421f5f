import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFile } from '../../src/storage/send-file.js';

/** A sink that copies what it is handed only when it calls back late, as a slow socket does. */
function slowSink(): { sink: Writable; received: () => Buffer } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, callback) {
      // Copied after a pause: a sender that reused the buffer early would show here as wrong bytes.
      setTimeout(() => {
        chunks.push(Buffer.from(chunk));
        callback();
      }, 2);
    },
  });
  return { sink, received: () => Buffer.concat(chunks) };
}

describe('sendFile', () => {
  let dir: string;
  let path: string;
  const bytes = randomBytes(100_000 + 17);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mistrive-send-'));
    path = join(dir, 'blob');
    await writeFile(path, bytes);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    ['the whole file in chunks smaller than it', 0, bytes.length - 1, 4096],
    ['the whole file in one chunk', 0, bytes.length - 1, 1024 * 1024],
    ['a range that starts and ends inside chunks', 5000, 70_123, 4096],
    ['one byte', 99_999, 99_999, 4096],
  ])('sends %s byte for byte, though its buffers are reused', async (_, start, end, chunk) => {
    const handle = await open(path, 'r');
    try {
      const { sink, received } = slowSink();
      await sendFile(handle, start, end, sink, chunk);
      expect(sink.writableFinished).toBe(true);
      expect(received().equals(bytes.subarray(start, end + 1))).toBe(true);
    } finally {
      await handle.close();
    }
  });

  it('says the file is shorter than the range asked for, rather than sending short', async () => {
    const handle = await open(path, 'r');
    try {
      const { sink } = slowSink();
      await expect(sendFile(handle, 0, bytes.length + 10, sink, 4096)).rejects.toThrow(/file ended at/);
    } finally {
      await handle.close();
    }
  });

  describe('to an HTTP client', () => {
    let server: Server;
    let url: string;
    const outcomes: Array<{ code?: string } | 'done'> = [];
    // Far more than the loopback socket buffers hold, so the sender is still waiting when the client goes.
    const bigSize = 64 * 1024 * 1024;

    beforeAll(async () => {
      await writeFile(join(dir, 'big'), Buffer.alloc(bigSize, 7));
      server = createServer((_req, res) => {
        void (async () => {
          const handle = await open(join(dir, 'big'), 'r');
          try {
            res.writeHead(200, { 'Content-Length': bigSize });
            await sendFile(handle, 0, bigSize - 1, res, 1024 * 1024);
            outcomes.push('done');
          } catch (error) {
            outcomes.push(error as { code?: string });
            res.destroy();
          } finally {
            await handle.close();
          }
        })();
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('ends with a client-gone error, not a hang, when the client hangs up part way', async () => {
      const request = get(url);
      const [response] = (await once(request, 'response')) as [NodeJS.ReadableStream & { destroy(): void }];
      response.pause();
      await sleep(50);
      request.destroy();
      for (let i = 0; i < 100 && outcomes.length === 0; i++) await sleep(20);
      expect(outcomes).toHaveLength(1);
      // Whichever the socket noticed first: the reset, the broken pipe, or the close.
      expect(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']).toContain(
        (outcomes[0] as { code?: string }).code,
      );
    });
  });
});
