import { formatBytes, type RenderTarget, renderDetails } from './render.js';
import type { ImageCopy, ImageExport, ImageImport } from './resources/image-transfer.js';

/** What people read after a copy, an export or an import; scripts read --json. */

export function copySummary(result: ImageCopy, target: RenderTarget): string {
  const lines = result.images.map((image) => `Copied ${image.source} to ${image.destination}`).join('\n');
  return `${lines}\n${renderDetails(
    [
      ['Manifests', result.manifests.length],
      ['Blobs mounted', result.mounted],
      ['Blobs copied', `${result.copied} (${formatBytes(result.bytesCopied)})`],
      ['Blobs skipped', result.skipped],
    ],
    target,
  )}`;
}

export function exportSummary(result: ImageExport, target: RenderTarget): string {
  return `Exported ${result.image} (${result.digest}) to ${result.output === '-' ? 'stdout' : result.output}\n${renderDetails(
    [
      ['Format', result.format],
      ['Manifests', result.manifests],
      ['Blobs', result.blobs],
      ['Size', formatBytes(result.bytes)],
    ],
    target,
  )}`;
}

export function importSummary(result: ImageImport, target: RenderTarget): string {
  const uploaded = result.blobs.filter((blob) => blob.action === 'uploaded');
  return `Imported ${result.archive === '-' ? 'stdin' : result.archive} as ${result.image} (${result.digest})\n${renderDetails(
    [
      ['Format', result.format],
      ['Manifests', result.manifests],
      ['Blobs uploaded', `${uploaded.length} (${formatBytes(uploaded.reduce((t, b) => t + b.size, 0))})`],
      ['Blobs skipped', result.blobs.length - uploaded.length],
    ],
    target,
  )}`;
}
