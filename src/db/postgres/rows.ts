import type { ManifestRecord } from '../metadata.js';

/** What the PostgreSQL stores share: the manifest row and its mapping. */

export interface ManifestRow {
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  annotations: Record<string, string> | null;
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
    annotations: row.annotations ?? undefined,
    subjectDigest: row.subject_digest ?? undefined,
    createdAt: new Date(row.created_at),
  };
}

export const optionalDate = (ms: number | null): Date | undefined => (ms === null ? undefined : new Date(ms));
