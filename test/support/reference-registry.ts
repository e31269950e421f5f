import { Cleanup } from '../../bench/cleanup.js';
import { startReference } from '../../bench/daemons.js';
import { tempDir } from './temp.js';

/**
 * Debian's `docker-registry` (CNCF distribution 2.8), the reference registry, started as the
 * benchmark starts it: a free loopback port, its own storage, no authentication. A foreign peer for
 * copies between registries.
 */
export interface ReferenceRegistry {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `127.0.0.1:PORT`, as image references name it. */
  readonly host: string;
  stop(): Promise<void>;
}

export async function startReferenceRegistry(): Promise<ReferenceRegistry> {
  const dir = await tempDir('mistrive-reference-');
  const server = await startReference(new Cleanup(), dir.path, 'docker-registry');
  return {
    url: server.url,
    host: new URL(server.url).host,
    async stop() {
      await server.stop();
      await dir.remove();
    },
  };
}
