import {
  type AuditEntry,
  type CleanupPolicy,
  type CleanupRun,
  type Digest,
  type DigestSummary,
  type Finding,
  type Platform,
  type Policy,
  type Project,
  type Repository,
  type Scan,
  type ServiceAccount,
  severities,
  type User,
} from '../client/management-api.js';
import { formatBinaryBytes } from '../lib/byte-sizes.js';
import { mediaTypes } from '../oci/media-types.js';
import {
  formatBytes,
  formatTime,
  type RenderTarget,
  renderDetails,
  renderTable,
  shortDigest,
} from './render.js';
import type { ImageDescription, ImageList, TagList } from './resources/images.js';
import type { KeyList } from './resources/service-accounts.js';
import { type ScanResult, summaryOf, type VulnerabilitiesResult } from './resources/vulnerabilities.js';

/**
 * How each result reads for people: pure functions of the result and the render target. Scripts
 * use --json (the result itself) or the tab-separated lines these print when piped.
 */

const time = (value: string | undefined, target: RenderTarget) => (target.tty ? formatTime(value) : value);
const yesNo = (value: boolean) => (value ? 'yes' : 'no');
/** Sizes read as `12.3 MB` on a terminal; piped, the byte count, for scripts. */
const bytes = (value: number | undefined, target: RenderTarget) => (target.tty ? formatBytes(value) : value);

export function projectTable(projects: readonly Project[], target: RenderTarget): string {
  return renderTable(
    [
      { header: 'Project', value: (row) => row.id },
      { header: 'Display name', value: (row) => row.displayName },
      { header: 'Organization', value: (row) => row.organization },
      { header: 'Created', value: (row) => time(row.createdAt, target) },
    ],
    projects,
    target,
    'No projects you can see. Create one with `mistrive projects create ID`.',
  );
}

export function projectDetails(project: Project, target: RenderTarget): string {
  return renderDetails(
    [
      ['Project', project.id],
      ['Display name', project.displayName],
      ['Description', project.description],
      ['Organization', project.organization],
      ['Logical size', bytes(project.usage.logicalBytes, target)],
      ['Unique size', bytes(project.usage.uniqueBytes, target)],
      [
        'Storage quota',
        project.storageQuota === undefined
          ? 'none'
          : target.tty
            ? `${formatBinaryBytes(project.storageQuota)} (${Math.round((100 * project.usage.logicalBytes) / Math.max(project.storageQuota, 1))} % used)`
            : project.storageQuota,
      ],
      ['Created', time(project.createdAt, target)],
      ['Updated', time(project.updatedAt, target)],
    ],
    target,
  );
}

export function repositoryTable(
  repositories: readonly Repository[],
  target: RenderTarget,
  project?: string,
): string {
  return renderTable(
    [
      { header: 'Repository', value: (row) => row.id },
      { header: 'Project', value: (row) => row.project },
      { header: 'Scanning', value: (row) => yesNo(row.scanning) },
      { header: 'Immutable tags', value: (row) => yesNo(row.immutableTags) },
      { header: 'Description', value: (row) => row.description },
      { header: 'Created', value: (row) => time(row.createdAt, target) },
      { header: 'Logical size', value: (row) => bytes(row.usage.logicalBytes, target) },
      { header: 'Unique size', value: (row) => bytes(row.usage.uniqueBytes, target) },
    ],
    repositories,
    target,
    project
      ? `No repositories you can see in project ${project}. Create one with \`mistrive repos create ID --project ${project}\`.`
      : 'No repositories.',
  );
}

export function repositoryDetails(repository: Repository, target: RenderTarget): string {
  return renderDetails(
    [
      ['Repository', repository.id],
      ['Project', repository.project],
      ['Name', repository.name],
      ['Display name', repository.displayName],
      ['Description', repository.description],
      ['Scanning', yesNo(repository.scanning)],
      ['Immutable tags', yesNo(repository.immutableTags)],
      ...remoteDetails(repository),
      ['Logical size', bytes(repository.usage.logicalBytes, target)],
      ['Unique size', bytes(repository.usage.uniqueBytes, target)],
      [
        'Cleanup',
        repository.cleanupPolicies.length === 0
          ? 'no policies'
          : `${repository.cleanupPolicies.length} ${repository.cleanupPolicies.length === 1 ? 'policy' : 'policies'}, ${repository.cleanupDryRun ? 'dry run (only records what would be deleted)' : 'deletes'}`,
      ],
      ...repository.cleanupPolicies.map(
        (policy) => [`Policy ${policy.name}`, describePolicy(policy)] as const,
      ),
      ['Created', time(repository.createdAt, target)],
      ['Updated', time(repository.updatedAt, target)],
    ],
    target,
  );
}

/** A remote repository's upstream, in the details; the password only as whether one is stored. */
function remoteDetails(repository: Repository): (readonly [string, string])[] {
  const { remote } = repository;
  if (!remote) return [];
  return [
    ['Remote URL', `${remote.url} (pull-through cache; pushes are refused)`],
    ['Remote prefix', remote.prefix === '' ? 'none' : remote.prefix],
    ['Remote user', remote.username ?? 'anonymous'],
    ['Remote password', remote.hasPassword ? 'stored (never shown)' : 'none'],
    ['Remote TTL', `${remote.ttl} before a cached tag is checked again`],
  ];
}

/** One policy in a line: `Delete untagged, older than 7d`. */
export function describePolicy(policy: CleanupPolicy): string {
  const parts: string[] = [];
  const { condition, mostRecentVersions } = policy;
  if (condition?.tagState && condition.tagState !== 'any') parts.push(condition.tagState);
  if (condition?.tagPrefixes) parts.push(`tags starting ${condition.tagPrefixes.join('|')}`);
  if (condition?.imageNamePrefixes) parts.push(`images starting ${condition.imageNamePrefixes.join('|')}`);
  if (condition?.olderThan) parts.push(`older than ${condition.olderThan}`);
  if (condition?.newerThan) parts.push(`newer than ${condition.newerThan}`);
  if (mostRecentVersions) {
    parts.push(
      `the ${mostRecentVersions.keepCount} most recent of each image` +
        (mostRecentVersions.imageNamePrefixes
          ? ` starting ${mostRecentVersions.imageNamePrefixes.join('|')}`
          : ''),
    );
  }
  if (parts.length === 0) parts.push('everything');
  return `${policy.action.type} ${parts.join(', ')}`;
}

/** What a cleanup run deleted, or would delete: a summary, then one row per digest. */
export function cleanupRunTable(run: CleanupRun, target: RenderTarget): string {
  const table = renderTable(
    [
      { header: 'Image', value: (row: CleanupRun['items'][number]) => row.image },
      { header: 'Digest', value: (row) => shortDigest(row.digest, target) },
      { header: 'Tags', value: (row) => row.tags.join(',') },
      { header: 'Policies', value: (row) => row.policies.join(',') },
      { header: 'Outcome', value: (row) => row.outcome },
    ],
    run.items,
    target,
    `Nothing to delete in ${run.project}/${run.repository}.`,
  );
  if (!target.tty) return table;
  const verb = run.dryRun ? 'Would delete' : 'Deleted';
  const summary = `${verb} ${run.deleted} digest${run.deleted === 1 ? '' : 's'} from ${run.project}/${run.repository}, freeing ${formatBytes(run.freedBytes)}${run.dryRun ? ' (dry run: nothing was deleted)' : ' once garbage collection runs'}.\n`;
  return run.items.length === 0 ? table : `${table}${summary}`;
}

export function policyTable(policy: Policy, target: RenderTarget): string {
  if (policy.bindings.length === 0 && target.tty) return `No bindings on ${policy.resource}.\n`;
  return renderTable(
    [
      { header: 'Role', value: (row) => row.role },
      { header: 'Member', value: (row) => row.member },
    ],
    policyRows(policy),
    target,
  );
}

/**
 * One row per digest: image, digest, tags, created, size, and for a platform image its platform and
 * the index listing it, the row placed under that index's.
 */
export function imageTable(list: ImageList, target: RenderTarget, untagged = false): string {
  const rows = list.images.flatMap((image) =>
    indexOrder(image.digests).map((digest) => ({ image: image.fullName, ...digest })),
  );
  return renderTable(
    [
      { header: 'Image', value: (row) => row.image },
      { header: 'Digest', value: (row) => shortDigest(row.digest, target) },
      { header: 'Tags', value: (row) => row.tags.join(',') },
      { header: 'Created', value: (row) => time(row.createdAt, target) },
      { header: 'Size', value: (row) => (target.tty ? formatBytes(row.size) : row.size) },
      {
        header: 'Platform',
        value: (row) => (row.platform ? platformName(row.platform) : row.indexes ? 'unknown' : ''),
      },
      {
        header: 'Index',
        value: (row) => (row.indexes ?? []).map((index) => shortDigest(index, target)).join(','),
      },
    ],
    rows,
    target,
    `No ${untagged ? 'untagged ' : ''}images in ${list.project}/${list.repository}.`,
  );
}

/** Digests with each platform image right after the first index listing it. */
function indexOrder(digests: readonly DigestSummary[]): DigestSummary[] {
  const present = new Set(digests.map((digest) => digest.digest));
  const children = new Map<string, DigestSummary[]>();
  const top: DigestSummary[] = [];
  for (const digest of digests) {
    const parent = digest.indexes?.find((index) => present.has(index));
    if (parent) children.set(parent, [...(children.get(parent) ?? []), digest]);
    else top.push(digest);
  }
  return top.flatMap((digest) => [digest, ...(children.get(digest.digest) ?? [])]);
}

const platformName = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

function platforms(digest: Digest, separator: string): string {
  return (digest.platforms ?? []).map(platformName).join(separator);
}

const mediaTypeNames: Record<string, string> = {
  [mediaTypes.ociManifest]: 'OCI image',
  [mediaTypes.ociIndex]: 'OCI index',
  [mediaTypes.dockerManifest]: 'Docker image',
  [mediaTypes.dockerManifestList]: 'Docker manifest list',
};

/** The usual manifest media types by a short name, for a terminal; any other one as it is. */
const mediaTypeName = (mediaType: string) => mediaTypeNames[mediaType] ?? mediaType;

export function imageDetails(description: ImageDescription, target: RenderTarget): string {
  const { image, digests } = description;
  const header = renderDetails(
    [
      ['Image', image.fullName],
      ['Created', time(image.createdAt, target)],
      ['Updated', time(image.updatedAt, target)],
    ],
    target,
  );
  // On a terminal the table fits the window: short digests (a prefix is accepted as input), short
  // names for the usual media types, and the long columns wrapped. Piped, every value is whole.
  const table = renderTable(
    [
      { header: 'Digest', value: (row: Digest) => shortDigest(row.digest, target) },
      { header: 'Tags', value: (row) => row.tags.join(target.tty ? ', ' : ','), wrap: true },
      { header: 'Size', value: (row) => (target.tty ? formatBytes(row.size) : row.size) },
      { header: 'Created', value: (row) => time(row.createdAt, target), wrap: true },
      {
        header: target.tty ? 'Type' : 'Media type',
        value: (row) => row.artifactType ?? (target.tty ? mediaTypeName(row.mediaType) : row.mediaType),
        wrap: true,
      },
      { header: 'Platforms', value: (row) => platforms(row, target.tty ? ', ' : ','), wrap: true },
      { header: 'Vulns', value: (row) => (row.scan ? scanSummary(row.scan) : ''), wrap: true },
      // Only when the repository's security policy can block pulls.
      ...(digests.some((digest) => digest.pullPolicy)
        ? [{ header: 'Pullable', value: (row: Digest) => pullableText(row), wrap: true }]
        : []),
    ],
    digests,
    target,
  );
  return target.tty ? `${header}\n${table}` : table;
}

export function tagTable(list: TagList, target: RenderTarget): string {
  return renderTable(
    [
      { header: 'Tag', value: (row) => row.name },
      { header: 'Digest', value: (row) => shortDigest(row.digest, target) },
      { header: 'Updated', value: (row) => time(row.updatedAt, target) },
    ],
    list.tags,
    target,
    `No tags on ${list.image}.`,
  );
}

export function auditTable(entries: readonly AuditEntry[], target: RenderTarget): string {
  return renderTable(
    [
      { header: 'Time', value: (row) => time(row.time, target) },
      { header: 'Actor', value: (row) => row.actor },
      { header: 'Client', value: (row) => row.client },
      { header: 'Action', value: (row) => row.action },
      { header: 'Resource', value: (row) => row.resource },
      { header: 'Outcome', value: (row) => row.outcome },
    ],
    entries,
    target,
    'No audit entries.',
  );
}

export function userTable(users: readonly User[], target: RenderTarget): string {
  return renderTable(
    [
      { header: 'Login', value: (row) => row.login },
      { header: 'Administrator', value: (row) => yesNo(row.admin) },
      { header: 'Disabled', value: (row) => yesNo(row.disabled) },
      { header: 'Created', value: (row) => time(row.createdAt, target) },
    ],
    users,
    target,
    'No users.',
  );
}

export function serviceAccountTable(
  accounts: readonly ServiceAccount[],
  target: RenderTarget,
  project?: string,
): string {
  return renderTable(
    [
      { header: 'Email', value: (row) => row.email },
      { header: 'Display name', value: (row) => row.displayName },
      { header: 'Created', value: (row) => time(row.createdAt, target) },
    ],
    accounts,
    target,
    project ? `No service accounts in project ${project}.` : 'No service accounts.',
  );
}

export function keyTable(list: KeyList, target: RenderTarget): string {
  return renderTable(
    [
      { header: 'Key', value: (row) => row.id },
      { header: 'Disabled', value: (row) => yesNo(row.disabled) },
      { header: 'Created', value: (row) => time(row.createdAt, target) },
    ],
    list.keys,
    target,
    `No keys for ${list.serviceAccount}.`,
  );
}

/** Whether a digest may be pulled under its repository's security policy, and why not. */
function pullableText(digest: Digest): string {
  if (!digest.pullPolicy) return '';
  return digest.pullPolicy.pullable
    ? 'yes'
    : `no: ${digest.pullPolicy.reason ?? 'blocked by the security policy'}`;
}

/** `2 critical, 1 high` for a finished scan; its status (and why) otherwise. */
export function scanSummary(scan: Scan): string {
  const summary = scan.status === 'succeeded' ? summaryOf(scan) : undefined;
  if (!summary)
    return scan.reason
      ? `${scan.status.replaceAll('_', ' ')}: ${scan.reason}`
      : scan.status.replaceAll('_', ' ');
  const found = severities.filter((severity) => summary[severity] > 0);
  return found.length === 0
    ? 'none found'
    : found.map((severity) => `${summary[severity]} ${severity.toLowerCase()}`).join(', ');
}

export function vulnerabilityTable(result: VulnerabilitiesResult, target: RenderTarget): string {
  const withPlatform = result.findings.some((finding) => finding.platform);
  const table = renderTable(
    [
      { header: 'Severity', value: (row: Finding) => row.severity },
      { header: 'Vulnerability', value: (row) => row.vulnerabilityId },
      { header: 'Package', value: (row) => row.pkgName },
      { header: 'Installed', value: (row) => row.installedVersion },
      { header: 'Fixed in', value: (row) => row.fixedVersion },
      ...(withPlatform
        ? [
            {
              header: 'Platform',
              value: (row: Finding) =>
                row.platform ? `${row.platform.os}/${row.platform.architecture}` : '',
            },
          ]
        : []),
      {
        header: 'Title',
        value: (row) =>
          target.tty && row.title && row.title.length > 60 ? `${row.title.slice(0, 59)}…` : row.title,
      },
    ],
    result.findings,
    target,
  );
  if (!target.tty) return table;
  const header = renderDetails(
    [
      ['Image', `${result.fullName}@${shortDigest(result.digest, target)}`],
      ['Scan', result.scan.status.replaceAll('_', ' ')],
      ['Reason', result.scan.reason],
      ['Scanned', time(result.scan.scannedAt, target)],
      ['Found', result.scan.status === 'succeeded' ? scanSummary(result.scan) : undefined],
    ],
    target,
  );
  return `${header}${table ? `\n${table}` : ''}`;
}

export function scanDetails(result: ScanResult, target: RenderTarget): string {
  return renderDetails(
    [
      ['Image', `${result.fullName}@${shortDigest(result.digest, target)}`],
      ['Scan', result.scan.status.replaceAll('_', ' ')],
      ['Reason', result.scan.reason],
      ['Scanned', time(result.scan.scannedAt, target)],
      ['Found', result.scan.status === 'succeeded' ? scanSummary(result.scan) : undefined],
    ],
    target,
  );
}

/** One row per member and role, the way a table shows a policy. */
export function policyRows(policy: Policy): { role: string; member: string }[] {
  return policy.bindings.flatMap((binding) =>
    binding.members.map((member) => ({ role: binding.role, member })),
  );
}
