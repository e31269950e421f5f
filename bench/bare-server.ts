import { createHash } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * The ceiling for a blob push on this machine: a node:http server that does only what any
 * registry must do with a blob body (SHA-256 it, write it in 1 MiB batches, fdatasync it) and
 * nothing else. Run as `node --import tsx bench/bare-server.ts DATA_DIR`.
 */

const writeBatchBytes = 1024 * 1024;
const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: bare-server.ts DATA_DIR');
let received = 0;

async function store(req: IncomingMessage, path: string): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'w');
  try {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let position = 0;
    // One write in flight while the next batch arrives: a well-written server overlaps the two.
    let writing: Promise<unknown> = Promise.resolve();
    const write = async () => {
      await writing;
      writing = handle.writev(batch, position);
      position += batchBytes;
      batch = [];
      batchBytes = 0;
    };
    for await (const chunk of req as AsyncIterable<Buffer>) {
      hash.update(chunk);
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= writeBatchBytes) await write();
    }
    if (batchBytes > 0) await write();
    await writing;
    await handle.datasync();
  } finally {
    await handle.close();
  }
  return `sha256:${hash.digest('hex')}`;
}

const server = createServer({ requestTimeout: 0 }, (req, res) => {
  const path = join(dataDir, `body-${received++}`);
  store(req, path).then(
    (digest) => {
      res.writeHead(201, { 'Docker-Content-Digest': digest, 'Content-Length': 0 });
      res.end();
      // Only the receive path is measured; the bytes need not stay.
      void unlink(path);
    },
    (error: unknown) => {
      res.writeHead(500, { 'Content-Length': 0 });
      res.end();
      process.stderr.write(`${String(error)}\n`);
    },
  );
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`bare server listening on http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
