import { collectorLease, type MaintenanceRun, type StoredBlob } from '../lifecycle.js';
import { fromJson, optionalDate } from './values.js';

/**
 * The storage lifecycle's rows, their records, and the conditions its queries share (both SQL
 * dialects read them alike), for the SQLite and PostgreSQL stores.
 */

export interface BlobRow {
  digest: string;
  size: number | null;
}

export const toBlob = (row: BlobRow): StoredBlob => ({ digest: row.digest, size: row.size ?? undefined });

type Json = string | Record<string, unknown>;

export interface RunRow {
  id: string;
  kind: MaintenanceRun['kind'];
  options: Json;
  status: MaintenanceRun['status'];
  progress: Json | null;
  report: Json | null;
  error: string | null;
  requested_at: number;
  started_at: number | null;
  finished_at: number | null;
}

const parse = (value: Json | null) => (value === null ? undefined : fromJson<Record<string, unknown>>(value));

export const toRun = (row: RunRow): MaintenanceRun => ({
  id: row.id,
  kind: row.kind,
  options: parse(row.options) ?? {},
  status: row.status,
  progress: parse(row.progress),
  report: parse(row.report),
  error: row.error ?? undefined,
  requestedAt: new Date(row.requested_at),
  startedAt: optionalDate(row.started_at),
  finishedAt: optionalDate(row.finished_at),
});

/** Neither linked into an image nor a manifest of one: nothing holds the blob `b`. */
export const unheld = `NOT EXISTS (SELECT 1 FROM image_blobs l WHERE l.digest = b.digest)
  AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.digest = b.digest)`;

/** A link `l` no manifest of its image references, and no client was promised since `@before`. */
export const expirable = `l.promised_at < @before AND NOT EXISTS
  (SELECT 1 FROM manifest_references r WHERE r.image_id = l.image_id AND r.digest = l.digest)`;

export const emptyImage = `i.touched_at < @before
  AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.image_id = i.id)
  AND NOT EXISTS (SELECT 1 FROM image_blobs l WHERE l.image_id = i.id)
  AND NOT EXISTS (SELECT 1 FROM upload_sessions u WHERE u.image_id = i.id)`;

export const holdsLease = `EXISTS (SELECT 1 FROM maintenance_leases WHERE name = '${collectorLease}'
  AND holder = @holder AND expires_at > @at)`;
