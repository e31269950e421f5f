import type { ManagementServices } from '../../api/api-routes.js';
import type { ManifestEntry } from '../../api/images/manifest-details.js';
import type { FindingView } from '../../api/images/scan-views.js';
import { type Severity, severities } from '../../db/scans.js';
import { allows } from '../../iam/policy.js';
import type { ConsolePage, Render } from '../console-page.js';
import {
  alert,
  card,
  command,
  csrf,
  formatBytes,
  html,
  type SafeHtml,
  severityLabels,
  tagList,
  time,
} from '../layout.js';
import { createdCell, digestPath, imageOf, imagePattern, platformsOf } from './image.js';
import { imagePath, loadRepository, repositoryFrame } from './repository.js';
import { scanCell, severityBar, statusLabel, summaryOf } from './scans.js';

/** Where a finding's identifier links: the scanner's own link, else the public record of a CVE. */
function advisoryUrl(finding: FindingView): string | undefined {
  if (finding.primaryUrl?.startsWith('https://')) return finding.primaryUrl;
  if (/^CVE-\d{4}-\d+$/.test(finding.vulnerabilityId))
    return `https://nvd.nist.gov/vuln/detail/${finding.vulnerabilityId}`;
  if (/^GHSA-/.test(finding.vulnerabilityId))
    return `https://github.com/advisories/${finding.vulnerabilityId}`;
  return finding.references.find((url) => url.startsWith('https://'));
}

function entries(list: readonly ManifestEntry[], link?: (entry: ManifestEntry) => string): SafeHtml {
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">Digest</th><th scope="col">Media type</th><th scope="col" class="num">Size</th></tr></thead><tbody>${list.map(
    (entry) =>
      html`<tr><td class="mono">${link ? html`<a href="${link(entry)}">${entry.digest}</a>` : entry.digest}${
        entry.platform
          ? html`<div class="hint">${[entry.platform.os, entry.platform.architecture, entry.platform.variant].filter(Boolean).join('/')}</div>`
          : ''
      }</td><td class="small">${entry.mediaType}</td><td class="num">${formatBytes(entry.size)}</td></tr>`,
  )}</tbody></table></div>`;
}

function annotationsTable(annotations: Record<string, string>): SafeHtml {
  const list = Object.entries(annotations);
  if (list.length === 0) return html`<p class="empty">None.</p>`;
  return html`<dl class="facts">${list.map(([key, value]) => html`<dt class="mono">${key}</dt><dd>${value}</dd>`)}</dl>`;
}

function severityFilter(chosen: Severity | undefined): SafeHtml {
  const link = (severity: Severity | undefined, label: string) => {
    const query = new URLSearchParams();
    if (severity) query.set('severity', severity);
    return html`<a href="?${query.toString()}#vulnerabilities"${severity === chosen ? html` aria-current="true"` : ''}>${label}</a>`;
  };
  return html`<nav class="chips" aria-label="Filter by severity">${link(undefined, 'All')}${severities.map((severity) => link(severity, severityLabels[severity]))}</nav>`;
}

function findingsTable(findings: readonly FindingView[], index: boolean): SafeHtml {
  return html`<div class="table-wrap"><table id="findings" class="cards"><thead><tr><th scope="col">Vulnerability</th><th scope="col">Severity</th><th scope="col">Package</th><th scope="col">Installed</th><th scope="col">Fixed in</th><th scope="col" class="wide">Found in</th></tr></thead><tbody>${findings.map(
    (finding) => {
      const url = advisoryUrl(finding);
      return html`<tr><td data-label="Vulnerability"><strong>${url ? html`<a href="${url}" rel="noreferrer noopener" target="_blank">${finding.vulnerabilityId}</a>` : finding.vulnerabilityId}</strong>${
        finding.title ? html`<div class="finding-title">${finding.title}</div>` : ''
      }${finding.description ? html`<details><summary>Description</summary><p>${finding.description}</p></details>` : ''}</td><td data-label="Severity"><span class="sev ${finding.severity}">${severityLabels[finding.severity]}</span></td><td data-label="Package" class="mono">${finding.pkgName}</td><td data-label="Installed" class="mono">${finding.installedVersion}</td><td data-label="Fixed in" class="mono">${finding.fixedVersion ?? html`<span class="muted">no fix</span>`}</td><td data-label="Found in" class="wide small">${finding.target}${
        index && finding.platform
          ? html`<div class="hint">${[finding.platform.os, finding.platform.architecture, finding.platform.variant].filter(Boolean).join('/')}</div>`
          : ''
      }</td></tr>`;
    },
  )}</tbody></table></div>`;
}

/** A digest: its manifest, what refers to it, and its full vulnerability report. */
export function digestPages(services: ManagementServices): ConsolePage[] {
  const render: Render = async (request, problem) => {
    const context = await loadRepository(services, request);
    const { project, id } = context.repository;
    const image = request.param('image');
    const digestId = request.param('digest');
    const inspection = await services.images.inspect(request.caller, project, id, image, digestId);
    const { digest, contents } = inspection;
    const wanted = request.query.get('severity');
    const severity = severities.includes(wanted as Severity) ? (wanted as Severity) : undefined;
    const report = await services.vulnerabilities.report(
      request.caller,
      project,
      id,
      image,
      digestId,
      severity ? { severities: [severity] } : {},
    );
    const host = new URL(request.origin).host;
    const path = digestPath(project, id, image, digest.digest);
    const isIndex = contents.manifests.length > 0;

    const facts = card(
      'Manifest',
      html`<dl class="facts"><dt>Digest</dt><dd class="mono">${digest.digest}</dd><dt>Media type</dt><dd class="mono">${digest.mediaType}</dd>${
        digest.artifactType ? html`<dt>Artifact type</dt><dd class="mono">${digest.artifactType}</dd>` : ''
      }<dt>Tags</dt><dd>${tagList(digest.tags)}</dd><dt>Size</dt><dd>${formatBytes(digest.size)} <span class="muted small">(${digest.size.toLocaleString('en')} bytes: manifest and all it references)</span></dd><dt>Created</dt><dd>${createdCell(digest)}</dd><dt>Pushed</dt><dd>${time(digest.createdAt)}</dd>${
        platformsOf(digest) ? html`<dt>Platforms</dt><dd>${platformsOf(digest)}</dd>` : ''
      }${
        digest.subject
          ? html`<dt>Refers to</dt><dd><a class="mono" href="${digestPath(project, id, image, digest.subject)}">${digest.subject}</a></dd>`
          : ''
      }<dt>Vulnerabilities</dt><dd>${scanCell(digest.scan)}</dd></dl>
<h3>Pull by digest</h3>${command('pull-digest', `docker pull ${host}/${context.repository.name}/${image}@${digest.digest}`, 'Pull by digest')}${
        allows(context.role, 'delete') ? html`<p><a href="${path}/delete">Delete this digest…</a></p>` : ''
      }`,
    );

    const scan = report.scan;
    const summary = summaryOf(scan);
    const rescan = allows(context.role, 'write')
      ? html`<form method="post" action="${path}/rescan">${csrf(request.viewer)}<button type="submit">Rescan</button></form>`
      : '';
    const scannedWith = scan.scannerVersion
      ? html`<p class="muted small">Scanned with Trivy ${scan.scannerVersion} at ${time(scan.scannedAt)}.</p>`
      : (scan.platforms ?? [])
          .filter((p) => p.scannerVersion)
          .map(
            (p) =>
              html`<p class="muted small">${p.platform ? [p.platform.os, p.platform.architecture, p.platform.variant].filter(Boolean).join('/') : p.digest}: Trivy ${p.scannerVersion} at ${time(p.scannedAt)}.</p>`,
          );
    const vulnerabilities = html`<section class="card" id="vulnerabilities"><div class="page-head"><h2>Vulnerabilities</h2>${rescan}</div>${alert(problem?.message)}
<p><strong>${statusLabel(scan)}</strong>${scan.reason ? html`: ${scan.reason}` : ''}</p>${scannedWith}${
      summary
        ? html`${severityBar(summary)}${severityFilter(severity)}${
            report.findings.length
              ? findingsTable(report.findings, isIndex)
              : html`<p class="empty">${severity ? `No ${severityLabels[severity].toLowerCase()} findings.` : 'No findings.'}</p>`
          }`
        : html`<p class="empty">${scan.status === 'not_scanned' ? 'Scanning is off for this repository, or this digest was pushed before it was turned on.' : 'No report yet.'}</p>`
    }</section>`;

    const layers = isIndex
      ? card(
          'Platform images',
          entries(contents.manifests, (entry) => digestPath(project, id, image, entry.digest)),
        )
      : card(
          'Config and layers',
          html`${contents.config ? html`<h3>Config</h3>${entries([contents.config])}` : ''}<h3>Layers (${contents.layers.length})</h3>${entries(contents.layers)}`,
        );
    const referrers = card(
      'Referrers',
      inspection.referrers.length === 0
        ? html`<p class="empty">No signatures, SBOMs or other artifacts refer to this digest.</p>`
        : html`<div class="table-wrap"><table><thead><tr><th scope="col">Digest</th><th scope="col">Artifact type</th><th scope="col">Pushed</th></tr></thead><tbody>${inspection.referrers.map(
            (referrer) =>
              html`<tr><td><a class="mono" href="${digestPath(project, id, image, referrer.digest)}">${referrer.digest.slice(0, 19)}…</a></td><td class="small">${referrer.artifactType ?? referrer.mediaType}</td><td>${time(referrer.createdAt)}</td></tr>`,
          )}</tbody></table></div>`,
    );
    return repositoryFrame(
      services,
      request,
      context,
      'images',
      html`<h2 class="subject mono">${image}@${digest.digest.slice(0, 19)}…</h2>${facts}${vulnerabilities}${layers}${card('Annotations', annotationsTable(inspection.annotations))}${referrers}`,
      [{ label: image, href: imagePath(project, id, image) }, { label: digest.digest.slice(7, 19) }],
    );
  };

  return [
    { name: 'console-digest', pattern: new RegExp(`${imagePattern}/digests/(?<digest>[^/]+)$`), render },
    {
      name: 'console-digest-rescan',
      pattern: new RegExp(`${imagePattern}/digests/(?<digest>[^/]+)/rescan$`),
      post: {
        page: render,
        act: async ({ caller, param }) => {
          const { project, repository, image } = imageOf(param);
          const digest = param('digest');
          await services.vulnerabilities.rescan(caller, project, repository, image, digest);
          return { redirect: digestPath(project, repository, image, digest), notice: 'rescan-queued' };
        },
      },
    },
  ];
}
