import type { GcReport, Removed } from '../gc/collector.js';
import type { VerifyReport } from '../gc/verify.js';
import { formatBytes, type RenderTarget, renderDetails, renderMessage, renderTable } from './render.js';
import type { GcResult, VerifyResult } from './resources/admin.js';

const gcRows: readonly (readonly [string, keyof GcReport])[] = [
  ['blobs', 'blobs'],
  ['unknown files', 'unknownFiles'],
  ['interrupted deletions finished', 'resumed'],
  ['image links expired', 'links'],
  ['empty images', 'images'],
  ['scan records', 'scans'],
  ['upload sessions', 'uploads'],
];

/** What a collection removed (or, dry, would remove), one line per kind, then the bytes. */
export function gcReportView(result: GcResult, target: RenderTarget): string {
  const { report } = result;
  if (!report) return renderMessage(`Started garbage collection ${result.run}.`, target, 'success');
  const verb = report.dryRun ? 'Would reclaim' : 'Reclaimed';
  const table = renderTable(
    [
      { header: 'what', value: ([label]: readonly [string, Removed]) => label },
      { header: 'count', value: ([, removed]) => removed.count },
      { header: 'bytes', value: ([, removed]) => (removed.bytes > 0 ? formatBytes(removed.bytes) : '') },
    ],
    gcRows.map(([label, key]) => [label, report[key] as Removed] as const),
    target,
  );
  const digests = [...report.blobs.items, ...report.unknownFiles.items];
  const listed = target.tty ? '' : digests.map((digest) => `${digest}\n`).join('');
  return `${table}${listed}${renderMessage(
    `${verb} ${formatBytes(report.bytesReclaimed)}${report.dryRun ? ' (dry run: nothing was removed)' : ''}.`,
    target,
    report.dryRun ? 'plain' : 'success',
  )}`;
}

/** The integrity check's findings: a summary, then each corrupt, missing and unknown blob. */
export function verifyReportView(result: VerifyResult, target: RenderTarget): string {
  const report = result.report as VerifyReport;
  const summary = renderDetails(
    [
      ['Checked', `${report.checked} blobs (${formatBytes(report.bytesChecked)})`],
      ['Corrupt', report.corrupt.count],
      ['Missing', report.missing.count],
      ['Unknown files', report.unknown.count],
    ],
    target,
  );
  const problems = renderTable(
    [
      { header: 'problem', value: (row: { problem: string }) => row.problem },
      { header: 'digest', value: (row) => row.digest },
      { header: 'action', value: (row) => row.action },
    ],
    [
      ...report.corrupt.items.map((item) => ({
        problem: 'corrupt',
        digest: item.digest,
        action: item.quarantined ? 'quarantined' : '',
      })),
      ...report.missing.items.map((digest) => ({ problem: 'missing', digest, action: '' })),
      ...report.unknown.items.map((item) => ({
        problem: 'unknown',
        digest: item.digest,
        action: item.removed ? 'removed' : '',
      })),
    ],
    target,
  );
  const verdict = report.healthy
    ? renderMessage('Every stored blob matches its digest.', target, 'success')
    : renderMessage(
        report.repair
          ? 'Problems found; corrupt blobs were quarantined and unknown files older than gc.delay removed.'
          : 'Problems found: run `mistrive admin verify --repair` to quarantine corrupt blobs and remove unknown files.',
        target,
      );
  return `${summary}${problems}${verdict}`;
}
