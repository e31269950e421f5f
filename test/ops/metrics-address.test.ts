import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServeConfig } from '../../src/config/config.js';
import { startRegistry } from '../../src/server/app.js';
import { tempDir } from '../support/temp.js';

describe('the metrics address', () => {
  it('in use, fails the start before anything is created: no data directory, no administrator', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    const dir = await tempDir();
    try {
      const dataDir = join(dir.path, 'data');
      const config = loadServeConfig(
        undefined,
        { port: 0, logLevel: 'silent', dataDir, metrics: { address: `127.0.0.1:${port}` } },
        {},
      );
      await expect(startRegistry(config)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      taken.close();
      await dir.remove();
    }
  });

  it('is refused in the configuration when it is not HOST:PORT', () => {
    expect(() => loadServeConfig(undefined, { metrics: { address: 'localhost' } }, {})).toThrow(
      /metrics\.address: must be HOST:PORT, such as 127\.0\.0\.1:9090/,
    );
  });
});
