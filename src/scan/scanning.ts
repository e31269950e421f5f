import { join } from 'node:path';
import type { ScanningConfig } from '../config/config.js';
import type { RegistryContext } from '../oci/registry-context.js';
import { ScanService } from './scan-service.js';
import { ScanWorkers } from './scan-workers.js';
import type { Scanner } from './scanner.js';
import { TrivyScanner } from './trivy-scanner.js';

export interface Scanning {
  readonly service: ScanService;
  readonly workers: ScanWorkers;
}

/** Builds the scan service and its workers (not started) over the registry's stores. */
export function createScanning(
  context: RegistryContext,
  config: ScanningConfig,
  dataDir: string,
  scanner: Scanner = new TrivyScanner(config.trivy),
): Scanning {
  const workers = new ScanWorkers(
    {
      store: context.metadata.scans,
      blobs: context.blobs,
      scanner,
      clock: context.clock,
      ids: context.ids,
      logger: context.logger,
      events: context.events,
    },
    {
      workers: config.workers,
      timeout: config.timeout,
      maxAttempts: config.maxAttempts,
      retryBackoff: config.retryBackoff,
      pollInterval: config.pollInterval,
      lease: config.lease,
      // Beside the blobs by default, so that the layout's blobs are hard links, not copies.
      workDir: config.workDir ?? join(dataDir, 'scan-work'),
    },
  );
  const service = new ScanService(context, () => workers.wake());
  return { service, workers };
}
