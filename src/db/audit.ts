import type { Page } from './metadata.js';

/** How a recorded attempt ended: done, refused for lack of rights or credentials, or failed otherwise. */
export type AuditOutcome = 'success' | 'denied' | 'failed';

/** One entry of the audit log, as stored. */
export interface AuditEntry {
  /** Increasing with every entry: the newest has the highest. */
  readonly id: number;
  readonly at: Date;
  /** Who: `user:LOGIN`, `serviceAccount:EMAIL`, or `anonymous`; for a failed sign-in, the account it named. */
  readonly actor: string;
  /** From where: the client's address, behind any trusted proxies. */
  readonly client: string;
  /** What was done, e.g. `createProject`, `signIn`, `deleteManifest`. */
  readonly action: string;
  /** What it was done to, as a path of names: `projects/p/repositories/r`, `users/bob@example.com`. */
  readonly resource: string;
  readonly outcome: AuditOutcome;
  /** What else tells the story (the member and role of a binding, why it failed); never a secret. */
  readonly details: Readonly<Record<string, unknown>> | undefined;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

/** What to read back; every field narrows, none is required. */
export interface AuditFilter {
  /** Entries at or after this time. */
  readonly since?: Date;
  readonly actor?: string;
  /** The resource itself and everything below it (`projects/p` takes `projects/p/repositories/r`). */
  readonly resource?: string;
  readonly action?: string;
}

/** The audit log in the metadata store: appended to, read newest first, pruned by age. */
export interface AuditStore {
  append(entry: NewAuditEntry): Promise<void>;
  /** Newest first: up to `limit` entries older than the entry `before` (an id), matching `filter`. */
  list(filter: AuditFilter, before: number | undefined, limit: number): Promise<Page<AuditEntry>>;
  /** Deletes the entries older than `before`; how many went. */
  pruneBefore(before: Date): Promise<number>;
}
