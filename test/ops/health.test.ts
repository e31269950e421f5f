import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { mountSmallDisk, type SmallDisk } from '../support/small-disk.js';

const run = promisify(execFile);

interface ReadinessBody {
  status: string;
  failing?: string[];
  checks: { name: string; ok: boolean; message?: string }[];
}

async function readiness(url: string): Promise<{ status: number; body: ReadinessBody; text: string }> {
  const response = await fetch(`${url}/readyz`);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as ReadinessBody, text };
}

/** Liveness and readiness on a real filesystem (a small tmpfs) that fills up and goes read-only. */
describe('health checks', { timeout: 60_000 }, () => {
  let disk: SmallDisk;
  let registry: TestRegistry;
  let dataDir: string;

  beforeAll(async () => {
    disk = await mountSmallDisk(32);
    dataDir = join(disk.path, 'data');
    registry = await startTestRegistry({ dataDir, health: { minFreeBytes: '8MiB' } });
  });

  afterAll(async () => {
    await registry?.close();
    await disk?.unmount();
  });

  it('answers liveness without credentials', async () => {
    const response = await fetch(`${registry.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('is ready when the metadata store answers, the data directory is writable and space is free', async () => {
    const { status, body } = await readiness(registry.url);
    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(body.checks.map((check) => [check.name, check.ok])).toEqual([
      ['metadata', true],
      ['dataDirWritable', true],
      ['freeSpace', true],
    ]);
  });

  it('is not ready (503, naming the check) when free space falls below health.minFreeBytes, and ready again once freed', async () => {
    await disk.fill(1024 * 1024);
    try {
      const { status, body, text } = await readiness(registry.url);
      expect(status).toBe(503);
      expect(body.status).toBe('not ready');
      expect(body.failing).toEqual(['freeSpace']);
      expect(body.checks.find((check) => check.name === 'freeSpace')?.message).toMatch(
        /free on the data directory's filesystem, below the 8 MiB required \(health\.minFreeBytes\)/,
      );
      // Nothing about where the data lives.
      expect(text).not.toContain(disk.path);
    } finally {
      await disk.release();
    }
    expect((await readiness(registry.url)).status).toBe(200);
  });

  it('is not ready when the data directory cannot be written to', async () => {
    // A read-only bind mount over the data directory: files the daemon holds open stay writable
    // (they live on the mount beneath), anything new is refused with EROFS.
    await run('mount', ['--bind', dataDir, dataDir]);
    try {
      await run('mount', ['-o', 'remount,bind,ro', dataDir]);
      const { status, body, text } = await readiness(registry.url);
      expect(status).toBe(503);
      expect(body.failing).toEqual(['dataDirWritable']);
      expect(body.checks.find((check) => check.name === 'dataDirWritable')?.message).toBe(
        'the data directory cannot be written to (EROFS)',
      );
      expect(text).not.toContain(disk.path);
      // Liveness only says the process answers.
      expect((await fetch(`${registry.url}/healthz`)).status).toBe(200);
    } finally {
      await run('umount', [dataDir]);
    }
    expect((await readiness(registry.url)).status).toBe(200);
  });
});

describe('readiness of a closed metadata store', { timeout: 30_000 }, () => {
  it('is 503 naming the metadata check', async () => {
    const registry = await startTestRegistry();
    try {
      await registry.registry.context.metadata.close();
      const { status, body } = await readiness(registry.url);
      expect(status).toBe(503);
      expect(body.failing).toEqual(['metadata']);
      expect(body.checks[0]?.message).toMatch(/^the metadata store does not answer/);
    } finally {
      await registry.close();
    }
  });
});
