import { mkdtemp, rm, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';

/** Chunks arriving over time, as a slow client sends them: a failed disk write lands between two. */
async function* slowChunks(count: number, bytes: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < count; i++) {
    await sleep(20);
    yield Buffer.alloc(bytes, i);
  }
}

describe('filesystem blob store', () => {
  let root: string;
  let store: FilesystemBlobStore;
  const unhandled: unknown[] = [];
  const recordUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'mistrive-blobs-'));
    store = new FilesystemBlobStore(root);
    await store.init();
    unhandled.length = 0;
    process.on('unhandledRejection', recordUnhandled);
  });

  afterEach(async () => {
    process.off('unhandledRejection', recordUnhandled);
    await rm(root, { recursive: true, force: true });
  });

  it('reports a full disk to the caller of append, and nothing else sees the failed write', async () => {
    await store.createUpload('full');
    // /dev/full fails every write with ENOSPC, as a full disk does.
    const uploadFile = join(root, 'uploads', 'full');
    await unlink(uploadFile);
    await symlink('/dev/full', uploadFile);

    await expect(store.append('full', 0, slowChunks(4, 1024 * 1024))).rejects.toMatchObject({
      code: 'ENOSPC',
    });
    await sleep(50);
    expect(unhandled).toEqual([]);
  });

  it('appends in order and resumes from the bytes already stored', async () => {
    await store.createUpload('resume');
    const first = await store.append('resume', 0, slowChunks(2, 700 * 1024));
    expect(first).toBe(1400 * 1024);
    await expect(store.append('resume', 10, slowChunks(1, 1))).rejects.toMatchObject({ expected: first });
    const second = await store.append('resume', first, slowChunks(1, 100));
    expect(second).toBe(first + 100);
    expect(await store.uploadSize('resume')).toBe(second);
  });
});
