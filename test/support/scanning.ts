import type { ServeOverrides } from '../../src/config/config.js';
import type { MetadataStore } from '../../src/db/metadata.js';
import type { ScanService, ScanState } from '../../src/scan/scan-service.js';
import { pushBlob, pushManifest } from './oci-client.js';
import { type BuiltImage, type BuiltIndex, layoutMediaTypes } from './oci-layout.js';
import { startTestRegistry, type TestRegistry } from './registry.js';
import type { Standin } from './trivy-standin.js';
import { waitFor } from './wait.js';

/** Scan statuses a scan stays in once reached, until someone asks for a rescan. */
export const finalStatuses = new Set(['succeeded', 'failed', 'unsupported', 'scanner_unavailable']);

/** The registry in this process, scanning with the stand-in, its timings shortened for tests. */
export function startScanningRegistry(
  standin: Pick<Standin, 'path'>,
  scanning: ServeOverrides['scanning'] = {},
  overrides: ServeOverrides = {},
): Promise<TestRegistry> {
  return startTestRegistry({
    ...overrides,
    scanning: {
      pollInterval: '100ms',
      retryBackoff: '50ms',
      lease: '3s',
      ...scanning,
      trivy: { path: standin.path, ...scanning.trivy },
    },
  });
}

/** Creates PROJECT/REPOSITORY (when missing) and sets its scanning flag. */
export async function createRepository(
  metadata: MetadataStore,
  project: string,
  repository: string,
  scanning: boolean,
): Promise<void> {
  const now = new Date();
  await metadata.catalog.ensureRepository(project, repository, now);
  const updated = await metadata.repositories.update(project, repository, { scanning }, now);
  if (updated?.scanning !== scanning) throw new Error(`could not set scanning on ${project}/${repository}`);
}

/** Pushes an image's blobs and manifest over the distribution API; returns the manifest digest. */
export async function pushBuiltImage(
  url: string,
  name: string,
  tag: string,
  image: BuiltImage,
): Promise<string> {
  for (const blob of [image.config, ...image.layers]) await pushBlob(url, name, blob.bytes);
  return pushManifest(url, name, tag, image.manifest.bytes, image.manifest.descriptor.mediaType);
}

/** Pushes every platform image of an index, then the index. */
export async function pushBuiltIndex(
  url: string,
  name: string,
  tag: string,
  built: BuiltIndex,
): Promise<string> {
  for (const image of built.images) {
    await pushBuiltImage(url, name, image.manifest.descriptor.digest, image);
  }
  return pushManifest(url, name, tag, built.index.bytes, layoutMediaTypes.index);
}

/** Polls until the digest's scan reaches a final status, and returns it. */
export function waitForScan(scans: Pick<ScanService, 'statuses'>, digest: string, timeoutMs = 30_000) {
  return waitFor(
    `the scan of ${digest} to finish`,
    async () => {
      const [state] = await scans.statuses([digest]);
      return state && finalStatuses.has(state.status)
        ? (state as Exclude<ScanState, { status: 'not_scanned' }>)
        : undefined;
    },
    timeoutMs,
    25,
  );
}
