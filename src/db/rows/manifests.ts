import type { ManifestRecord, Page } from '../metadata.js';
import { fromJson } from './values.js';

/** What the SQLite and PostgreSQL stores share: the manifest row and its mapping, and keyset pages. */

export interface ManifestRow {
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  annotations: string | Record<string, string> | null;
  subject_digest: string | null;
  created_at: number;
}

/** The columns of `ManifestRow`, from the `manifests` table aliased `m`. */
export const manifestColumns =
  'm.digest, m.media_type, m.size, m.artifact_type, m.annotations, m.subject_digest, m.created_at';

export function toManifest(row: ManifestRow): ManifestRecord {
  return {
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    artifactType: row.artifact_type ?? undefined,
    annotations: row.annotations ? fromJson<Record<string, string>>(row.annotations) : undefined,
    subjectDigest: row.subject_digest ?? undefined,
    createdAt: new Date(row.created_at),
  };
}

/** Queries fetch one more row than asked, to tell whether another page follows. */
export function page<T>(rows: T[], limit: number): Page<T> {
  return { items: rows.slice(0, limit), more: rows.length > limit };
}
