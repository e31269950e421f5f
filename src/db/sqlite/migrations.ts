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
  // Identity and access: users, service accounts and their keys, IAM bindings, OAuth state.
  `
  CREATE TABLE users (
    login TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    admin INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE service_accounts (
    email TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    display_name TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  );
  CREATE INDEX service_accounts_by_project ON service_accounts(project_id);
  CREATE TABLE service_account_keys (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL REFERENCES service_accounts(email) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX service_account_keys_by_email ON service_account_keys(email);
  CREATE TABLE iam_bindings (
    resource_kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    member TEXT NOT NULL,
    role TEXT NOT NULL,
    PRIMARY KEY (resource_kind, resource_id, member, role)
  ) WITHOUT ROWID;
  CREATE INDEX iam_bindings_by_member ON iam_bindings(member);
  CREATE TABLE oauth_grants (
    code_hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    redirect_uri TEXT,
    code_challenge TEXT,
    user_code_hash TEXT UNIQUE,
    interval_seconds INTEGER,
    last_polled_at INTEGER,
    subject TEXT,
    status TEXT NOT NULL,
    family_id TEXT,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX oauth_grants_by_expiry ON oauth_grants(expires_at);
  CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL DEFAULT '',
    access_token_id TEXT NOT NULL,
    access_expires_at INTEGER NOT NULL,
    used_at INTEGER,
    revoked_at INTEGER,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family_id);
  CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens(expires_at);
  CREATE TABLE revoked_access_tokens (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX web_sessions_by_expiry ON web_sessions(expires_at);
  -- Vulnerability scans, by manifest digest: the queue (status, lease, retries) and the last result.
  CREATE TABLE scans (
    digest TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    queued_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    claimed_by TEXT,
    lease_expires_at INTEGER,
    scanned_at INTEGER,
    scanner_version TEXT,
    critical INTEGER,
    high INTEGER,
    medium INTEGER,
    low INTEGER,
    unknown INTEGER
  );
  CREATE INDEX scans_due ON scans(next_attempt_at) WHERE status = 'queued';
  CREATE INDEX scans_leased ON scans(lease_expires_at) WHERE status = 'scanning';
  CREATE TABLE scan_findings (
    digest TEXT NOT NULL REFERENCES scans(digest) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    vulnerability_id TEXT NOT NULL,
    pkg_name TEXT NOT NULL,
    pkg_id TEXT,
    installed_version TEXT NOT NULL,
    fixed_version TEXT,
    severity TEXT NOT NULL,
    title TEXT,
    description TEXT,
    refs TEXT NOT NULL,
    primary_url TEXT,
    target TEXT NOT NULL,
    class TEXT,
    type TEXT,
    PRIMARY KEY (digest, position)
  ) WITHOUT ROWID;
  `,
  // The web console lists an image's manifests by push time, a page at a time, each with its tags
  // (without an index by digest, finding a manifest's tags reads every tag of the image).
  `
  CREATE INDEX manifests_by_push_time ON manifests(image_id, created_at, digest);
  CREATE INDEX tags_by_digest ON tags(image_id, digest);
  `,
];
