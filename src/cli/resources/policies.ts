import { Flags } from '@oclif/core';
import type {
  AllowedVulnerability,
  RateLimitChanges,
  SecurityPolicyChanges,
  SecurityPolicySettings,
} from '../../client/management-api.js';
import { CliError } from '../errors.js';

/**
 * The flags `projects update` and `repos update` share for security policies, and the rate limit
 * flags of `projects update`, turned into the management API's change documents.
 */

export const securityPolicyFlags = {
  'block-severity': Flags.string({
    description:
      'block pulls of images whose last scan found a vulnerability of this severity or worse (CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN); none: block none; inherit: follow the project',
    helpValue: 'SEVERITY',
  }),
  'block-unscanned': Flags.boolean({
    description: 'block pulls of images without a finished vulnerability scan',
    allowNo: true,
  }),
  'allow-cve': Flags.string({
    description:
      'a vulnerability that never blocks, until an optional date (UTC); repeat for several; replaces the list',
    helpValue: 'ID[=YYYY-MM-DD]',
    multiple: true,
  }),
  'clear-allowed-cves': Flags.boolean({ description: 'remove every allowed vulnerability' }),
  exempt: Flags.string({
    description:
      'a principal whose pulls are never blocked (user:EMAIL, serviceAccount:EMAIL); repeat for several; replaces the list',
    helpValue: 'MEMBER',
    multiple: true,
  }),
  'clear-exempt': Flags.boolean({ description: 'remove every exempt principal' }),
};

export interface SecurityPolicyFlagValues {
  readonly 'block-severity'?: string | undefined;
  readonly 'block-unscanned'?: boolean | undefined;
  readonly 'allow-cve'?: string[] | undefined;
  readonly 'clear-allowed-cves'?: boolean | undefined;
  readonly exempt?: string[] | undefined;
  readonly 'clear-exempt'?: boolean | undefined;
}

/** The policy changes the flags ask for; undefined when they ask for none. */
export function securityPolicyChanges(flags: SecurityPolicyFlagValues): SecurityPolicyChanges | undefined {
  const changes: { -readonly [K in keyof SecurityPolicyChanges]: SecurityPolicyChanges[K] } = {};
  const severity = flags['block-severity'];
  if (severity !== undefined) {
    const upper = severity.toUpperCase();
    changes.blockSeverity = upper === 'INHERIT' ? null : upper;
  }
  if (flags['block-unscanned'] !== undefined) changes.blockUnscanned = flags['block-unscanned'];
  if (flags['allow-cve'] && flags['clear-allowed-cves']) {
    throw new CliError('USAGE', '--allow-cve and --clear-allowed-cves cannot be used together');
  }
  if (flags['clear-allowed-cves']) changes.allowedVulnerabilities = null;
  else if (flags['allow-cve']) changes.allowedVulnerabilities = flags['allow-cve'].map(parseAllowed);
  if (flags.exempt && flags['clear-exempt']) {
    throw new CliError('USAGE', '--exempt and --clear-exempt cannot be used together');
  }
  if (flags['clear-exempt']) changes.exemptPrincipals = null;
  else if (flags.exempt) changes.exemptPrincipals = flags.exempt;
  return Object.keys(changes).length === 0 ? undefined : changes;
}

/** `CVE-2024-3094` or `CVE-2024-3094=2027-01-01`. */
function parseAllowed(text: string): AllowedVulnerability {
  const [id = '', expires, ...rest] = text.split('=');
  if (id === '' || rest.length > 0 || expires === '') {
    throw new CliError(
      'USAGE',
      `--allow-cve ${text}: expected ID or ID=YYYY-MM-DD, e.g. CVE-2024-3094=2027-01-01`,
    );
  }
  return expires === undefined ? { id } : { id, expires };
}

export const rateLimitFlags = {
  'pull-rate': Flags.string({
    description:
      "per principal, pulls from the project's repositories, e.g. 600/min; unlimited; default: the instance's",
    helpValue: 'RATE',
  }),
  'push-rate': Flags.string({
    description: 'per principal, pushes and deletes, e.g. 120/min; unlimited; default',
    helpValue: 'RATE',
  }),
  'repository-pull-rate': Flags.string({
    description: "per repository, every principal's pulls together; unlimited; default",
    helpValue: 'RATE',
  }),
  'repository-push-rate': Flags.string({
    description: "per repository, every principal's pushes together; unlimited; default",
    helpValue: 'RATE',
  }),
};

export interface RateLimitFlagValues {
  readonly 'pull-rate'?: string | undefined;
  readonly 'push-rate'?: string | undefined;
  readonly 'repository-pull-rate'?: string | undefined;
  readonly 'repository-push-rate'?: string | undefined;
}

/** The override changes the flags ask for (`default` returns to the instance's); undefined for none. */
export function rateLimitChanges(flags: RateLimitFlagValues): RateLimitChanges | undefined {
  const kinds = {
    pull: flags['pull-rate'],
    push: flags['push-rate'],
    repositoryPull: flags['repository-pull-rate'],
    repositoryPush: flags['repository-push-rate'],
  };
  const changes: Record<string, string | null> = {};
  for (const [kind, value] of Object.entries(kinds)) {
    if (value !== undefined) changes[kind] = value.toLowerCase() === 'default' ? null : value;
  }
  return Object.keys(changes).length === 0 ? undefined : changes;
}

/** One line per setting made, for people: `Block severity: HIGH`… */
export function describePolicy(settings: SecurityPolicySettings): string[] {
  const lines: string[] = [];
  if (settings.blockSeverity) lines.push(`Block severity: ${settings.blockSeverity}`);
  if (settings.blockUnscanned !== undefined)
    lines.push(`Block unscanned: ${settings.blockUnscanned ? 'yes' : 'no'}`);
  for (const entry of settings.allowedVulnerabilities ?? []) {
    lines.push(`Allowed: ${entry.id}${entry.expires ? ` until ${entry.expires.slice(0, 10)}` : ''}`);
  }
  if (settings.exemptPrincipals?.length) lines.push(`Exempt: ${settings.exemptPrincipals.join(', ')}`);
  return lines;
}
