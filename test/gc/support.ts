import { join } from 'node:path';
import type { GcReport } from '../../src/gc/collector.js';
import { adminFetch } from '../support/admin-session.js';

/** Where the filesystem store keeps a blob (its layout, drawn once in `filesystem-blob-store.ts`). */
export function blobFile(dataDir: string, digest: string): string {
  const [algorithm = '', hex = ''] = digest.split(':');
  return join(dataDir, 'blobs', algorithm, hex.slice(0, 2), hex);
}

export async function headBlob(url: string, name: string, digest: string): Promise<number> {
  return (await adminFetch(`${url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' })).status;
}

export async function deleteManifest(url: string, name: string, digest: string): Promise<void> {
  const response = await adminFetch(`${url}/v2/${name}/manifests/${digest}`, { method: 'DELETE' });
  if (response.status !== 202)
    throw new Error(`manifest delete failed: ${response.status} ${await response.text()}`);
}

/** Runs a collection through the management API as the administrator and waits for its report. */
export async function collectThroughApi(url: string, dryRun = false): Promise<GcReport> {
  const started = await adminFetch(`${url}/api/v1/admin/gc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ dryRun }),
  });
  if (started.status !== 202) throw new Error(`gc start failed: ${started.status} ${await started.text()}`);
  const { id } = (await started.json()) as { id: string };
  for (;;) {
    const response = await adminFetch(`${url}/api/v1/admin/gc/${id}`);
    const run = (await response.json()) as { status: string; report?: GcReport; error?: string };
    if (run.status === 'succeeded') return run.report as GcReport;
    if (run.status === 'failed') throw new Error(`gc failed: ${run.error}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
