import type { IncomingMessage } from 'node:http';
import type { AuditEntry, AuditOutcome, AuditStore } from '../db/audit.js';
import { RegistryError } from '../errors/registry-error.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { clientAddress, principalOf } from '../server/request-identity.js';

/** What happened, as a part of the registry tells the audit log. */
export interface AuditEvent {
  /** `user:LOGIN`, `serviceAccount:EMAIL` or `anonymous`; for a failed sign-in, the account it named. */
  readonly actor: string;
  /** The client's address, behind any trusted proxies (`clientAddress(req)`). */
  readonly client: string;
  /** What was done, as a verb and noun: `createProject`, `signIn`, `deleteManifest`, `updateRateLimits`. */
  readonly action: string;
  /** What it was done to, as a path of names: `projects/p/repositories/r`, `users/bob@example.com`. */
  readonly resource: string;
  readonly outcome: AuditOutcome;
  /** What else tells the story; fields whose names suggest a secret are dropped before storing. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The event of a request: who made it and from where come from the request itself. */
export type RequestAuditEvent = Omit<AuditEvent, 'actor' | 'client'> & { readonly actor?: string };

/** Field names never stored or logged, whatever part of the registry hands them in. */
const secretField = /pass|secret|token|assertion|private|credential|csrf/i;

/** A value with every field that looks like a secret removed, however deep (a remote repository's `remote.password`). */
function stripSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSecrets);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([name]) => !secretField.test(name))
      .map(([name, field]) => [name, stripSecrets(field)]),
  );
}

/** The details without anything that looks like a secret, or undefined when nothing is left. */
export function withoutSecrets(
  details: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> | undefined {
  if (details === undefined) return undefined;
  const kept = Object.entries(details)
    .filter(([name, value]) => !secretField.test(name) && value !== undefined && value !== '')
    .map(([name, value]) => [name, stripSecrets(value)]);
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/** How a refused or failed attempt ends in the log: no credentials or rights is `denied`, anything else `failed`. */
export function outcomeOfError(error: unknown): AuditOutcome {
  if (error instanceof RegistryError) {
    if (error.status === 401 || error.status === 403 || error.code === 'TOOMANYREQUESTS') return 'denied';
  }
  return 'failed';
}

/** Why an attempt failed, in the registry's own words (never a stack). */
export function reasonOf(error: unknown): string {
  return error instanceof RegistryError ? `${error.code}: ${error.message}` : 'internal error';
}

/**
 * The audit log: every change of permissions, projects, repositories, users, service accounts and
 * keys, every delete, every sign-in and every policy change, with who, from where, what, when and how
 * it ended. `record` is the one entry point: it stores the entry in the metadata store and writes it
 * as a JSON line to the log. Recording never fails the change it describes: a store that cannot take
 * the entry is logged as an error with the entry itself, so it is still on record.
 */
export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async record(event: AuditEvent): Promise<void> {
    const entry: Omit<AuditEntry, 'id'> = {
      at: this.clock.now(),
      actor: event.actor,
      client: event.client,
      action: event.action,
      resource: event.resource,
      outcome: event.outcome,
      details: withoutSecrets(event.details),
    };
    const line = { audit: { ...entry, at: entry.at.toISOString() } };
    try {
      await this.store.append(entry);
      this.logger.info(line, 'audit');
    } catch (error) {
      this.logger.error({ ...line, err: error }, 'audit entry could not be stored');
    }
  }

  /** Records what a request did, as the principal its credentials named, from its client's address. */
  recordRequest(req: IncomingMessage, event: RequestAuditEvent): Promise<void> {
    return this.record({ ...event, actor: event.actor ?? principalOf(req), client: clientAddress(req) });
  }

  /** Deletes entries older than `retention` milliseconds; how many went. */
  prune(retention: number): Promise<number> {
    return this.store.pruneBefore(new Date(this.clock.now().getTime() - retention));
  }
}
