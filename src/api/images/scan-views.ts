import { z } from 'zod';
import { type Finding, scanStatuses, severities } from '../../db/scans.js';
import { indexManifestTypes } from '../../oci/media-types.js';
import type { PlatformScan, ScanService, ScanState } from '../../scan/scan-service.js';
import { iso, platformView, responseSchema, timestamp } from '../schemas.js';

/**
 * How vulnerability scans read in the management API: the `scan` of each digest (its status and
 * its summary by severity; for an index, the scan of each platform image) and the findings of a
 * report.
 */

const count = z.number().int().min(0);

export const severitySummary = responseSchema(
  'SeveritySummary',
  z.object({ CRITICAL: count, HIGH: count, MEDIUM: count, LOW: count, UNKNOWN: count }),
  'How many findings of each severity a scan reported',
);

export const scanStatusValues = ['not_scanned', ...scanStatuses] as const;
export type ScanStatusValue = (typeof scanStatusValues)[number];

const scanFields = {
  status: z
    .enum(scanStatusValues)
    .describe(
      'not_scanned (scanning is off, or the push predates it), queued, scanning, succeeded, failed, ' +
        'unsupported (not a container image) or scanner_unavailable (the scanner cannot be run)',
    ),
  reason: z.string().optional().describe('Why the scan failed, is unsupported or unavailable, or is retried'),
  summary: severitySummary
    .optional()
    .describe('Of the last successful scan, kept while a rescan is queued or runs'),
  scannerVersion: z.string().optional().describe('The scanner version of the last successful scan'),
  scannedAt: timestamp.optional().describe('When the last successful scan finished'),
};

export const platformScanView = responseSchema(
  'PlatformScan',
  z.object({
    digest: z.string().describe('The platform image'),
    platform: platformView.optional(),
    ...scanFields,
  }),
  'The scan of one platform image of an index',
);

export const scanView = responseSchema(
  'Scan',
  z.object({
    ...scanFields,
    platforms: z
      .array(platformScanView)
      .optional()
      .describe(
        'For an index: the scan of each platform image, each with its own summary. The status is then ' +
          'that of them all: scanning or queued while one is, else failed when one failed, else succeeded.',
      ),
  }),
  'The vulnerability scan of a digest',
);

export const findingView = responseSchema(
  'Finding',
  z.object({
    vulnerabilityId: z.string().describe('CVE-2019-18224, GHSA-…'),
    severity: z.enum(severities),
    pkgName: z.string(),
    pkgId: z.string().optional(),
    installedVersion: z.string(),
    fixedVersion: z.string().optional().describe('The first version that fixes it, when there is one'),
    title: z.string().optional(),
    description: z.string().optional(),
    references: z.array(z.string()),
    primaryUrl: z.string().optional(),
    target: z.string().describe('What was scanned: the OS packages (… (debian 10.1)) or a lock file'),
    class: z.string().optional().describe('os-pkgs or lang-pkgs'),
    type: z.string().optional().describe('The package ecosystem: debian, alpine, cargo, npm…'),
    digest: z
      .string()
      .describe('The image the finding is in: the digest asked about, or one of its platform images'),
    platform: platformView.optional().describe('For an index: the platform of that image'),
  }),
  'One vulnerability in one package',
);

export type ScanView = z.input<typeof scanView>;
export type PlatformScanView = z.input<typeof platformScanView>;
export type FindingView = z.input<typeof findingView>;
type Platform = z.input<typeof platformView>;

/** What the scan service knows of one image, as the API shows it. */
function viewState(state: ScanState): z.input<z.ZodObject<typeof scanFields>> {
  if (state.status === 'not_scanned') return { status: 'not_scanned' };
  return {
    status: state.status,
    ...(state.reason !== undefined ? { reason: state.reason } : {}),
    ...(state.result
      ? {
          summary: { ...state.result.summary },
          scannerVersion: state.result.scannerVersion,
          scannedAt: iso(state.result.scannedAt),
        }
      : {}),
  };
}

export function viewPlatform(platform: PlatformScan['platform']): Platform | undefined {
  if (!platform) return undefined;
  const { os, architecture, variant } = platform;
  const osVersion = platform['os.version'];
  return { os, architecture, ...(variant ? { variant } : {}), ...(osVersion ? { osVersion } : {}) };
}

/** `linux/arm64/v8`, for reasons a person reads. */
function platformLabel(scan: PlatformScanView): string {
  const platform = scan.platform;
  return platform
    ? [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/')
    : scan.digest;
}

/** The order in which one platform's status decides an index's: the first that any platform has. */
const precedence: readonly ScanStatusValue[] = [
  'scanning',
  'queued',
  'failed',
  'scanner_unavailable',
  'not_scanned',
  'succeeded',
  'unsupported',
];

/** An index's scan: the status of all its platform images together, and each of them. */
function viewIndex(platforms: PlatformScanView[]): ScanView {
  if (platforms.length === 0) {
    return { status: 'unsupported', reason: 'the index lists no platform images', platforms };
  }
  const status = precedence.find((candidate) =>
    platforms.some((p) => p.status === candidate),
  ) as ScanStatusValue;
  const explained = ['failed', 'scanner_unavailable', 'unsupported'].includes(status)
    ? platforms.find((p) => p.status === status && p.reason !== undefined)
    : undefined;
  return {
    status,
    ...(explained ? { reason: `${platformLabel(explained)}: ${explained.reason}` } : {}),
    platforms,
  };
}

interface ManifestRef {
  readonly digest: string;
  readonly mediaType: string;
}

/** Reads scans through the scan service and shapes them for the API. */
export class ScanViews {
  constructor(private readonly scans: ScanService) {}

  /** The scan of one manifest: an image's own, or an index's made of its platform images'. */
  async of(manifest: ManifestRef): Promise<ScanView> {
    return (await this.ofAll([manifest])).get(manifest.digest) as ScanView;
  }

  /** The scans of several manifests, by digest; images are read together. */
  async ofAll(manifests: readonly ManifestRef[]): Promise<Map<string, ScanView>> {
    const views = new Map<string, ScanView>();
    const images = manifests.filter((m) => !indexManifestTypes.has(m.mediaType)).map((m) => m.digest);
    const states = await this.scans.statuses(images);
    images.forEach((digest, index) => {
      views.set(digest, viewState(states[index] as ScanState));
    });
    for (const manifest of manifests) {
      if (indexManifestTypes.has(manifest.mediaType)) {
        views.set(manifest.digest, viewIndex(await this.platformsOf(manifest.digest)));
      }
    }
    return views;
  }

  /** Each platform image of an index with its scan, in the index's order. */
  async platformsOf(digest: string): Promise<PlatformScanView[]> {
    return (await this.scans.scansOf(digest)).map((scan) => {
      const platform = viewPlatform(scan.platform);
      return { digest: scan.digest, ...(platform ? { platform } : {}), ...viewState(scan.scan) };
    });
  }
}

export function viewFinding(finding: Finding, digest: string, platform?: Platform): FindingView {
  const optional = <K extends string, V>(key: K, value: V | undefined) =>
    (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;
  return {
    vulnerabilityId: finding.vulnerabilityId,
    severity: finding.severity,
    pkgName: finding.pkgName,
    ...optional('pkgId', finding.pkgId),
    installedVersion: finding.installedVersion,
    ...optional('fixedVersion', finding.fixedVersion),
    ...optional('title', finding.title),
    ...optional('description', finding.description),
    references: [...finding.references],
    ...optional('primaryUrl', finding.primaryUrl),
    target: finding.target,
    ...optional('class', finding.class),
    ...optional('type', finding.type),
    digest,
    ...optional('platform', platform),
  };
}
