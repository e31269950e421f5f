import type { Caller } from '../iam/principals.js';

/**
 * A change to a project's rate limit overrides or to a project's or repository's security policy,
 * as it was committed. Where auditing hooks in: the server passes one listener for every change.
 */
export interface SettingsChange {
  readonly kind: 'rateLimits' | 'securityPolicy';
  readonly actor: Caller;
  readonly project: string;
  /** Set for a repository's security policy. */
  readonly repository: string | undefined;
  /** The settings before and after, as the management API shows them. */
  readonly before: unknown;
  readonly after: unknown;
  readonly at: Date;
}

export type SettingsChangeListener = (change: SettingsChange) => void;
