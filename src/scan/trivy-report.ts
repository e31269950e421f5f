import { z } from 'zod';
import { type Finding, type Severity, type SeverityCounts, severities } from '../db/scans.js';

/**
 * Trivy's JSON report (`--format json`, schema version 2): a `Results` list, one entry per thing
 * scanned (the OS packages, each lock file), each with its own `Vulnerabilities`, which Trivy
 * leaves out or sets to null when there are none. Only the fields Mistrive keeps are checked;
 * everything else Trivy adds is ignored.
 */
const vulnerabilitySchema = z
  .object({
    VulnerabilityID: z.string().min(1),
    PkgName: z.string(),
    PkgID: z.string().nullish(),
    InstalledVersion: z.string().nullish(),
    FixedVersion: z.string().nullish(),
    Severity: z.string().nullish(),
    Title: z.string().nullish(),
    Description: z.string().nullish(),
    References: z.array(z.string()).nullish(),
    PrimaryURL: z.string().nullish(),
  })
  .loose();

const resultSchema = z
  .object({
    Target: z.string(),
    Class: z.string().nullish(),
    Type: z.string().nullish(),
    Vulnerabilities: z.array(vulnerabilitySchema).nullish(),
  })
  .loose();

const reportSchema = z
  .object({
    SchemaVersion: z.literal(2, { error: 'SchemaVersion must be 2' }),
    Trivy: z.object({ Version: z.string().nullish() }).loose().nullish(),
    ArtifactName: z.string().nullish(),
    Results: z.array(resultSchema).nullish(),
  })
  .loose();

export interface ParsedReport {
  readonly findings: Finding[];
  readonly summary: SeverityCounts;
  /** The version the report names, when it names one. */
  readonly scannerVersion: string | undefined;
}

export class ReportError extends Error {
  override name = 'ReportError';
}

const knownSeverities: ReadonlySet<string> = new Set(severities);

/** Trivy's severities are the five of `severities`; anything else is counted as UNKNOWN. */
function severityOf(value: string | null | undefined): Severity {
  const upper = value?.toUpperCase() ?? 'UNKNOWN';
  return knownSeverities.has(upper) ? (upper as Severity) : 'UNKNOWN';
}

const orUndefined = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

export function emptySummary(): Record<Severity, number> {
  return { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
}

/** Parses what `trivy image --format json` printed; throws ReportError when it is not a report. */
export function parseTrivyReport(text: string): ParsedReport {
  if (text.trim() === '') throw new ReportError('Trivy printed no report (empty output)');
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ReportError(
      `Trivy printed something that is not a JSON report (${(error as Error).message}): ${excerpt(text)}`,
    );
  }
  const parsed = reportSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'the report';
    throw new ReportError(`Trivy's report is not in the expected format at ${where}: ${issue?.message}`);
  }
  const findings: Finding[] = [];
  const summary = emptySummary();
  for (const result of parsed.data.Results ?? []) {
    for (const vulnerability of result.Vulnerabilities ?? []) {
      const severity = severityOf(vulnerability.Severity);
      summary[severity] += 1;
      findings.push({
        vulnerabilityId: vulnerability.VulnerabilityID,
        pkgName: vulnerability.PkgName,
        pkgId: orUndefined(vulnerability.PkgID),
        installedVersion: vulnerability.InstalledVersion ?? '',
        fixedVersion: orUndefined(vulnerability.FixedVersion) || undefined,
        severity,
        title: orUndefined(vulnerability.Title),
        description: orUndefined(vulnerability.Description),
        references: vulnerability.References ?? [],
        primaryUrl: orUndefined(vulnerability.PrimaryURL),
        target: result.Target,
        class: orUndefined(result.Class),
        type: orUndefined(result.Type),
      });
    }
  }
  return { findings, summary, scannerVersion: orUndefined(parsed.data.Trivy?.Version) };
}

/** The start of some output, on one line, for a reason a person reads. */
export function excerpt(text: string, limit = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > limit ? `${flat.slice(0, limit)}…` : flat;
}
