/**
 * Versioned schema migrations, applied in order; `PRAGMA user_version` records the last one run.
 * Append new migrations; never edit one that has shipped.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  );
  CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    display_name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE repositories (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    scanning INTEGER NOT NULL DEFAULT 0,
    immutable_tags INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, id)
  );
  CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    repository_id TEXT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    FOREIGN KEY (project_id, repository_id) REFERENCES repositories(project_id, id) ON DELETE CASCADE
  );
  CREATE TABLE image_blobs (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (image_id, digest)
  ) WITHOUT ROWID;
  CREATE INDEX image_blobs_by_digest ON image_blobs(digest);
  CREATE TABLE manifests (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    artifact_type TEXT,
    annotations TEXT,
    subject_digest TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (image_id, digest)
  ) WITHOUT ROWID;
  CREATE INDEX manifests_by_subject ON manifests(image_id, subject_digest) WHERE subject_digest IS NOT NULL;
  CREATE INDEX manifests_by_digest ON manifests(digest);
  CREATE TABLE manifest_references (
    image_id INTEGER NOT NULL,
    manifest_digest TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (image_id, manifest_digest, digest),
    FOREIGN KEY (image_id, manifest_digest) REFERENCES manifests(image_id, digest) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX manifest_references_by_digest ON manifest_references(digest);
  CREATE TABLE tags (
    image_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (image_id, name),
    FOREIGN KEY (image_id, digest) REFERENCES manifests(image_id, digest) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE TABLE upload_sessions (
    id TEXT PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX upload_sessions_by_age ON upload_sessions(created_at);
  INSERT INTO organizations (id, display_name, created_at)
    VALUES ('default', 'Default organization', CAST(unixepoch('subsec') * 1000 AS INTEGER));
  `,
];
