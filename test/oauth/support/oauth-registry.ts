import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadServeConfig } from '../../../src/config/config.js';
import type { RunningRegistry } from '../../../src/server/app.js';
import { startRegistry } from '../../../src/server/app.js';
import { FakeClock } from '../../support/fake-clock.js';
import { testMetadata } from '../../support/postgres.js';
import { startTestRegistry, testAdminPassword } from '../../support/registry.js';
import { tempDir } from '../../support/temp.js';

/** The OAuth client the CLI is. */
export const cliClientId = 'mistrive-cli';

export interface ClockedRegistry {
  readonly url: string;
  readonly registry: RunningRegistry;
  readonly clock: FakeClock;
  close(): Promise<void>;
}

export interface FileSettings {
  readonly publicUrl?: string;
  /** Keys of the config file's `auth` section (rate limits, token lifetimes). */
  readonly auth?: Record<string, unknown>;
}

/** The real registry in this process, on a loopback port, on a clock the test moves. */
export async function startClockedRegistry(): Promise<ClockedRegistry> {
  const clock = new FakeClock();
  const { url, registry, close } = await startTestRegistry({}, { clock });
  return { url, registry, clock, close };
}

/** The same, started from a config file, for settings only a file carries (publicUrl, auth limits). */
export async function startConfiguredRegistry(settings: FileSettings): Promise<ClockedRegistry> {
  const dir = await tempDir();
  const file = join(dir.path, 'serve.json');
  await writeFile(file, JSON.stringify({ ...settings, auth: settings.auth ?? {} }));
  const dataDir = join(dir.path, 'data');
  const config = loadServeConfig(
    file,
    { port: 0, logLevel: 'silent', dataDir, metadata: await testMetadata(dataDir) },
    { MISTRIVE_ADMIN_PASSWORD: testAdminPassword },
  );
  const clock = new FakeClock();
  const registry = await startRegistry(config, { clock });
  return {
    url: registry.url,
    registry,
    clock,
    async close() {
      await registry.close();
      await dir.remove();
    },
  };
}
