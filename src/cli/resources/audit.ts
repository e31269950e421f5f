import { type AuditEntry, type AuditQuery, ManagementApi } from '../../client/management-api.js';
import type { CliContext } from '../context.js';

/** `audit list` (the instance administrator). */

export interface AuditList {
  readonly entries: AuditEntry[];
}

export async function listAuditEntries(
  context: CliContext,
  query: AuditQuery,
  limit: number,
  registry?: string,
): Promise<AuditList> {
  const api = new ManagementApi(context.api(context.registry(registry)));
  return { entries: await api.listAuditEntries(query, limit) };
}
