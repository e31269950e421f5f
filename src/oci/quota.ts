import type { QuotaExceeded } from '../db/usage.js';
import { RegistryError } from '../errors/registry-error.js';
import { formatBinaryBytes } from '../lib/byte-sizes.js';

/** The one refusal for a push that would take a project over its storage quota, on every path. */
export function quotaRefusal(exceeded: QuotaExceeded): RegistryError {
  const { project, quota, usage, adding } = exceeded;
  return new RegistryError(
    'DENIED',
    `storage quota exceeded: project ${project} has a quota of ${formatBinaryBytes(quota)} and holds ` +
      `${formatBinaryBytes(usage)}; this push adds ${formatBinaryBytes(adding)}. Delete images or ask ` +
      'the administrator to raise the quota',
    { detail: { project, quotaBytes: quota, usageBytes: usage, addingBytes: adding } },
  );
}
