import type { ImageStats, ImageSummary, TaggedManifest, TagRecord } from '../resources.js';
import { type ManifestRow, toManifest } from './manifests.js';
import { fromJson } from './values.js';

/** Images' and tags' rows and their records, shared by the SQLite and PostgreSQL stores. */

export interface ImageRow {
  id: number;
  name: string;
  created_at: number;
  updated_at: number;
}

export interface TaggedManifestRow extends ManifestRow {
  /** A JSON array (SQLite) or an array (PostgreSQL). */
  tags: string | string[];
}

export interface TagRow {
  name: string;
  digest: string;
  updated_at: number;
}

export const toTag = (row: TagRow): TagRecord => ({
  name: row.name,
  digest: row.digest,
  updatedAt: new Date(row.updated_at),
});

export const toImage = (row: ImageRow): ImageSummary => ({
  id: row.id,
  name: row.name,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

export const toTaggedManifest = (row: TaggedManifestRow): TaggedManifest => ({
  ...toManifest(row),
  tags: fromJson<string[]>(row.tags),
});

export interface StatsRow {
  id: number;
  name: string;
  digests: number;
  tags: number;
  latest_tag: string | null;
  latest_digest: string | null;
  updated_at: number;
}

export const tagFilters = {
  all: '',
  tagged: 'AND EXISTS (SELECT 1 FROM tags t WHERE t.image_id = m.image_id AND t.digest = m.digest)',
  untagged: 'AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.image_id = m.image_id AND t.digest = m.digest)',
} as const;

export const toStats = (row: StatsRow): ImageStats => ({
  id: row.id,
  name: row.name,
  digests: row.digests,
  tags: row.tags,
  latestTag: row.latest_tag ?? undefined,
  latestDigest: row.latest_digest ?? undefined,
  updatedAt: new Date(row.updated_at),
});
