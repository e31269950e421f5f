import type { ScanView } from '../../api/images/scan-views.js';
import { severities } from '../../db/scans.js';
import { html, type SafeHtml, type SeverityCounts, severityBadges, severityLabels } from '../layout.js';

const statusLabels: Record<ScanView['status'], string> = {
  not_scanned: 'Not scanned',
  queued: 'Queued',
  scanning: 'Scanning',
  succeeded: 'Scanned',
  failed: 'Scan failed',
  unsupported: 'Not scannable',
  scanner_unavailable: 'Scanner unavailable',
};

const zero: SeverityCounts = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };

/** The counts by severity of a scan: its own, or for an index the sum of its platform images'. */
export function summaryOf(scan: ScanView): SeverityCounts | undefined {
  if (scan.summary) return scan.summary;
  const scanned = (scan.platforms ?? []).filter((platform) => platform.summary);
  if (scanned.length === 0) return undefined;
  const total = { ...zero };
  for (const platform of scanned)
    for (const severity of severities) total[severity] += platform.summary?.[severity] ?? 0;
  return total;
}

/** A digest's vulnerability summary for a table cell: the counts, and the status when not simply done. */
export function scanCell(scan: ScanView): SafeHtml {
  const summary = summaryOf(scan);
  const status =
    scan.status === 'succeeded'
      ? ''
      : html`<div class="status ${scan.status}">${statusLabels[scan.status]}${scan.reason ? html`: ${scan.reason}` : ''}</div>`;
  return html`${summary ? severityBadges(summary) : ''}${status}`;
}

export function statusLabel(scan: ScanView): string {
  return statusLabels[scan.status];
}

/** The share of each severity as one bar: SVG attributes, since the CSP allows no inline style. */
export function severityBar(summary: SeverityCounts): SafeHtml {
  const total = severities.reduce((sum, severity) => sum + summary[severity], 0);
  if (total === 0) return html`<p class="notice">No vulnerabilities found.</p>`;
  let x = 0;
  const parts = severities.map((severity) => {
    const width = (summary[severity] / total) * 100;
    const rect = html`<rect x="${x.toFixed(3)}%" y="0" width="${width.toFixed(3)}%" height="12" class="${severity}"><title>${severityLabels[severity]}: ${summary[severity]}</title></rect>`;
    x += width;
    return rect;
  });
  const legend = severities.map(
    (severity) =>
      html`<span><span class="sev ${severity}${summary[severity] === 0 ? ' zero' : ''}">${summary[severity]}</span> ${severityLabels[severity]}</span>`,
  );
  return html`<svg class="bar" role="img" aria-label="${total} findings" width="100%" height="12">${parts}</svg><div class="legend">${legend}</div>`;
}
