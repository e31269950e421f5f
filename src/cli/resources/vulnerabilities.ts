import {
  type Scan,
  type Severity,
  severities,
  type VulnerabilityReport,
} from '../../client/management-api.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import type { Spinner } from '../io.js';
import { digestOf, resolveImage } from './images.js';

/** `images vulns` and `images scan`. */

/** Statuses a scan stays in until someone asks for another. */
const finalStatuses: ReadonlySet<Scan['status']> = new Set([
  'succeeded',
  'failed',
  'unsupported',
  'scanner_unavailable',
  'not_scanned',
]);

export interface VulnerabilitiesResult extends VulnerabilityReport {
  /** PROJECT/REPOSITORY/IMAGE. */
  readonly fullName: string;
  /** With --fail-on: how many findings are at or above the threshold (whatever --severity shows). */
  readonly failOn?: { readonly severity: Severity; readonly count: number };
}

export interface ScanResult {
  readonly fullName: string;
  readonly digest: string;
  readonly scan: Scan;
}

/** `CRITICAL,high` → severities; a CliError naming the wrong one otherwise. */
export function parseSeverities(text: string): Severity[] {
  const names = text
    .split(',')
    .map((name) => name.trim().toUpperCase())
    .filter(Boolean);
  const unknown = names.filter((name) => !(severities as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new CliError('USAGE', `unknown severity ${unknown.join(', ') || `"${text}"`}`, {
      hint: `use ${severities.join(', ')} (any case, separated by commas)`,
    });
  }
  return names as Severity[];
}

/** Severities at or above `threshold`: HIGH → CRITICAL, HIGH. */
export function atOrAbove(threshold: Severity): Severity[] {
  return severities.slice(0, severities.indexOf(threshold) + 1);
}

/** The digest a reference names; an image without tag or digest means its `latest` tag, as in Docker. */
async function resolveDigest(context: CliContext, text: string, registryFlag?: string) {
  const resolved = resolveImage(context, text, registryFlag, 'latest');
  return { ...resolved, digest: await digestOf(resolved) };
}

/** Counts of findings by severity: the scan's summary, or each platform's added up for an index. */
function summaryOf(scan: Scan): Record<Severity, number> | undefined {
  if (scan.summary) return scan.summary;
  const platforms = (scan.platforms ?? []).filter((platform) => platform.summary);
  if (platforms.length === 0) return undefined;
  const total = Object.fromEntries(severities.map((severity) => [severity, 0])) as Record<Severity, number>;
  for (const platform of platforms)
    for (const severity of severities) total[severity] += platform.summary?.[severity] ?? 0;
  return total;
}

export async function vulnerabilities(
  context: CliContext,
  text: string,
  options: { severity?: string; failOn?: string; registry?: string },
): Promise<VulnerabilitiesResult> {
  const shown = options.severity ? parseSeverities(options.severity) : undefined;
  const threshold = options.failOn ? parseSeverities(options.failOn) : undefined;
  if (threshold && threshold.length !== 1)
    throw new CliError('USAGE', '--fail-on takes one severity, e.g. HIGH');
  const { api, reference, digest } = await resolveDigest(context, text, options.registry);
  const report = await api.vulnerabilities(
    reference.project,
    reference.repository,
    reference.image,
    digest,
    shown,
  );
  const fullName = `${reference.project}/${reference.repository}/${reference.image}`;
  const ref = `${fullName}@${digest}`;
  // The findings of the last finished scan stay while a rescan is queued, runs or fails.
  const summary = summaryOf(report.scan);
  if (!summary) throw noFindings(ref, report.scan);
  const current = report.scan.status === 'succeeded';
  if (!current) {
    const reason = report.scan.reason ? `: ${report.scan.reason}` : '';
    context.notice(
      `Not up to date: the latest scan of ${ref} ${statusPhrases[report.scan.status]}${reason}; these are the findings of the last scan that finished.`,
    );
  }
  if (!threshold?.[0]) return { ...report, fullName };
  const count = atOrAbove(threshold[0]).reduce((sum, severity) => sum + summary[severity], 0);
  // A gate passes only on a finished scan: findings of an older one cannot vouch for the image.
  if (count === 0 && !current) throw noFindings(ref, report.scan);
  return { ...report, fullName, failOn: { severity: threshold[0], count } };
}

const statusPhrases: Record<Scan['status'], string> = {
  not_scanned: 'was never run',
  queued: 'is queued',
  scanning: 'is running',
  succeeded: 'succeeded',
  failed: 'failed',
  unsupported: 'is not possible',
  scanner_unavailable: 'could not run the scanner',
};

/** Why there are no findings to show: the scan is not finished, failed, or cannot be done. */
function noFindings(ref: string, scan: Scan): CliError {
  const reason = scan.reason ?? 'no reason given';
  const rescan = `\`mistrive images scan ${ref} --wait\``;
  switch (scan.status) {
    case 'queued':
    case 'scanning':
      return new CliError('FAILED_PRECONDITION', `the scan of ${ref} is not finished yet (${scan.status})`, {
        hint: `wait for it: ${rescan}`,
      });
    case 'failed':
      return new CliError('FAILED_PRECONDITION', `the scan of ${ref} failed: ${reason}`, {
        hint: `try again: ${rescan}`,
      });
    case 'unsupported':
      return new CliError('FAILED_PRECONDITION', `${ref} cannot be scanned: ${reason}`, {
        hint: 'only container images are scanned, not other artifacts (charts, signatures, SBOMs)',
      });
    case 'scanner_unavailable':
      return new CliError(
        'FAILED_PRECONDITION',
        `the registry could not run its scanner for ${ref}: ${reason}`,
        {
          hint: `the registry's administrator can install Trivy (see "Installing Trivy" in the README); then ${rescan}`,
        },
      );
    default:
      return new CliError(
        'FAILED_PRECONDITION',
        `${ref} has not been scanned: its repository does not scan pushes`,
        {
          hint: `scan it now: ${rescan} (\`mistrive repos update REPOSITORY --project P --scanning\` scans every push)`,
        },
      );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks for a scan and, unless `wait` is off, polls until it finishes. */
export async function scanImage(
  context: CliContext,
  text: string,
  options: { wait: boolean; timeoutSeconds: number; registry?: string; spinner: (text: string) => Spinner },
): Promise<ScanResult> {
  const { api, reference, digest } = await resolveDigest(context, text, options.registry);
  const fullName = `${reference.project}/${reference.repository}/${reference.image}`;
  let scan = await api.scan(reference.project, reference.repository, reference.image, digest);
  if (!options.wait) return { fullName, digest, scan };
  const spinner = options.spinner(`Scanning ${fullName}@${digest.slice(0, 19)}…`);
  const deadline = context.now().getTime() + options.timeoutSeconds * 1000;
  while (!finalStatuses.has(scan.status)) {
    if (context.now().getTime() > deadline) {
      spinner.fail('The scan did not finish in time');
      throw new CliError(
        'TIMEOUT',
        `the scan of ${fullName}@${digest} did not finish within ${options.timeoutSeconds} s (it is ${scan.status})`,
        {
          hint: 'it goes on in the registry: look later with `mistrive images vulns`',
        },
      );
    }
    await sleep(500);
    scan =
      (await api.getDigest(reference.project, reference.repository, reference.image, digest)).scan ?? scan;
  }
  if (scan.status !== 'succeeded') {
    spinner.fail(`The scan ended: ${scan.status.replaceAll('_', ' ')}`);
    throw noFindings(`${fullName}@${digest}`, scan);
  }
  spinner.stop();
  return { fullName, digest, scan };
}

export { summaryOf };
