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
  // Accounts: logins fold to lower case (`Bob@x` and `bob@x` are one user); users get `valid_since`,
  // before which no token of theirs is honoured (moved by a disable, a password reset, a deletion).
  // Two logins that differ only in case cannot be folded safely (whose password, whose bindings?):
  // the migration refuses, naming them, and changes nothing. Bindings naming no user (left by one
  // deleted by hand) go first, so that folding cannot hand them to another. Refresh tokens, grants
  // and sessions of a login that is not folded already are deleted rather than folded: they may be
  // a deleted account's, and their holders sign in again.
  `
  CREATE TEMP TABLE fold_logins_check (x);
  CREATE TEMP TRIGGER fold_logins_refuse BEFORE INSERT ON fold_logins_check
  WHEN EXISTS (SELECT 1 FROM users GROUP BY lower(login) HAVING count(*) > 1)
  BEGIN
    SELECT RAISE(ABORT, 'logins are now one account whatever their case, and these users differ only in case: '
      || (SELECT group_concat(logins, '; ') FROM
           (SELECT group_concat(login, ' and ') AS logins FROM users GROUP BY lower(login) HAVING count(*) > 1))
      || '. Keep one of each: with mistrive stopped, delete the others'
      || ' (sqlite3 DATA_DIR/metadata.db "DELETE FROM users WHERE login = ''LOGIN''"), then start it again');
  END;
  INSERT INTO fold_logins_check VALUES (1);
  DROP TRIGGER fold_logins_refuse;
  DROP TABLE fold_logins_check;
  DELETE FROM iam_bindings WHERE substr(member, 1, 5) = 'user:' AND substr(member, 6) NOT IN (SELECT login FROM users);
  UPDATE users SET login = lower(login) WHERE login <> lower(login);
  ALTER TABLE users ADD COLUMN valid_since INTEGER NOT NULL DEFAULT 0;
  UPDATE users SET valid_since = created_at;
  UPDATE OR IGNORE iam_bindings SET member = substr(member, 1, instr(member, ':')) || lower(substr(member, instr(member, ':') + 1))
    WHERE (substr(member, 1, 5) = 'user:' OR substr(member, 1, 15) = 'serviceAccount:')
      AND substr(member, instr(member, ':') + 1) <> lower(substr(member, instr(member, ':') + 1));
  DELETE FROM iam_bindings
    WHERE (substr(member, 1, 5) = 'user:' OR substr(member, 1, 15) = 'serviceAccount:')
      AND substr(member, instr(member, ':') + 1) <> lower(substr(member, instr(member, ':') + 1));
  DELETE FROM refresh_tokens WHERE substr(subject, 1, 5) = 'user:' AND subject <> 'user:' || lower(substr(subject, 6));
  DELETE FROM oauth_grants WHERE substr(subject, 1, 5) = 'user:' AND subject <> 'user:' || lower(substr(subject, 6));
  DELETE FROM web_sessions WHERE login <> lower(login);
  -- What a disable, a password change or a deletion revokes, found by account.
  CREATE INDEX refresh_tokens_by_subject ON refresh_tokens(subject);
  CREATE INDEX refresh_tokens_by_access_token ON refresh_tokens(access_token_id);
  CREATE INDEX web_sessions_by_login ON web_sessions(login);
  `,
  // Storage lifecycle: one row per stored file (blob or manifest bytes) with the collector's state,
  // the time each image's link to a blob was last promised to a client, when each image was last
  // pushed to, the collector's lease, and the record of collection and verification runs.
  `
  CREATE TABLE blobs (
    digest TEXT PRIMARY KEY,
    size INTEGER,
    deleting TEXT
  ) WITHOUT ROWID;
  CREATE INDEX blobs_deleting ON blobs(deleting) WHERE deleting IS NOT NULL;
  INSERT OR IGNORE INTO blobs (digest, size) SELECT digest, max(size) FROM manifests GROUP BY digest;
  INSERT OR IGNORE INTO blobs (digest) SELECT DISTINCT digest FROM image_blobs;
  ALTER TABLE image_blobs ADD COLUMN promised_at INTEGER NOT NULL DEFAULT 0;
  UPDATE image_blobs SET promised_at = created_at;
  ALTER TABLE images ADD COLUMN touched_at INTEGER NOT NULL DEFAULT 0;
  UPDATE images SET touched_at = created_at;
  CREATE TABLE maintenance_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE TABLE maintenance_runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    progress TEXT,
    report TEXT,
    error TEXT,
    requested_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  );
  CREATE INDEX maintenance_runs_by_time ON maintenance_runs(requested_at);
  `,
  // Storage usage, quotas and cleanup policies: the size of each linked blob (so usage is a query,
  // not a walk of the blob store), a project's optional quota, a repository's cleanup policies and
  // dry-run switch, and the last cleanup run of each repository.
  `
  ALTER TABLE image_blobs ADD COLUMN size INTEGER;
  ALTER TABLE projects ADD COLUMN storage_quota INTEGER;
  ALTER TABLE repositories ADD COLUMN cleanup_policies TEXT NOT NULL DEFAULT '[]';
  ALTER TABLE repositories ADD COLUMN cleanup_dry_run INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX images_by_repository ON images(project_id, repository_id);
  CREATE TABLE cleanup_runs (
    project_id TEXT NOT NULL,
    repository_id TEXT NOT NULL,
    dry_run INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    freed_bytes INTEGER NOT NULL,
    items TEXT NOT NULL,
    PRIMARY KEY (project_id, repository_id),
    FOREIGN KEY (project_id, repository_id) REFERENCES repositories(project_id, id) ON DELETE CASCADE
  ) WITHOUT ROWID;
  -- Each project's logical bytes (its distinct digests' sizes), kept by the triggers below in the
  -- transaction that links or unlinks a digest, so a quota check reads one row.
  CREATE TABLE project_usage (
    project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    logical_bytes INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  INSERT INTO project_usage (project_id, logical_bytes)
    SELECT project_id, sum(size) FROM (
      SELECT project_id, digest, max(size) AS size FROM (
        SELECT i.project_id, b.digest, coalesce(b.size, 0) AS size FROM image_blobs b JOIN images i ON i.id = b.image_id
        UNION ALL
        SELECT i.project_id, m.digest, m.size FROM manifests m JOIN images i ON i.id = m.image_id)
      GROUP BY project_id, digest)
    GROUP BY project_id;
  -- An image's rows go before the image does, so the triggers still find the project they count in.
  -- A project's own delete reaches its images after the project row is gone, so the counter
  -- triggers below make a row only for a project that still exists.
  CREATE TRIGGER images_usage_before_delete BEFORE DELETE ON images BEGIN
    DELETE FROM manifests WHERE image_id = OLD.id;
    DELETE FROM image_blobs WHERE image_id = OLD.id;
  END;
  CREATE TRIGGER image_blobs_usage_insert AFTER INSERT ON image_blobs
  WHEN NOT EXISTS (SELECT 1 FROM image_blobs b JOIN images i ON i.id = b.image_id
                   WHERE b.digest = NEW.digest AND b.image_id <> NEW.image_id AND i.project_id = (SELECT project_id FROM images WHERE id = NEW.image_id))
   AND NOT EXISTS (SELECT 1 FROM manifests m JOIN images i ON i.id = m.image_id
                   WHERE m.digest = NEW.digest AND i.project_id = (SELECT project_id FROM images WHERE id = NEW.image_id))
  BEGIN
    INSERT OR IGNORE INTO project_usage (project_id)
      SELECT i.project_id FROM images i JOIN projects p ON p.id = i.project_id WHERE i.id = NEW.image_id;
    UPDATE project_usage SET logical_bytes = logical_bytes + coalesce(NEW.size, 0)
      WHERE project_id = (SELECT project_id FROM images WHERE id = NEW.image_id);
  END;
  CREATE TRIGGER image_blobs_usage_delete AFTER DELETE ON image_blobs
  WHEN NOT EXISTS (SELECT 1 FROM image_blobs b JOIN images i ON i.id = b.image_id
                   WHERE b.digest = OLD.digest AND i.project_id = (SELECT project_id FROM images WHERE id = OLD.image_id))
   AND NOT EXISTS (SELECT 1 FROM manifests m JOIN images i ON i.id = m.image_id
                   WHERE m.digest = OLD.digest AND i.project_id = (SELECT project_id FROM images WHERE id = OLD.image_id))
  BEGIN
    INSERT OR IGNORE INTO project_usage (project_id)
      SELECT i.project_id FROM images i JOIN projects p ON p.id = i.project_id WHERE i.id = OLD.image_id;
    UPDATE project_usage SET logical_bytes = logical_bytes - coalesce(OLD.size, 0)
      WHERE project_id = (SELECT project_id FROM images WHERE id = OLD.image_id);
  END;
  CREATE TRIGGER manifests_usage_insert AFTER INSERT ON manifests
  WHEN NOT EXISTS (SELECT 1 FROM image_blobs b JOIN images i ON i.id = b.image_id
                   WHERE b.digest = NEW.digest AND i.project_id = (SELECT project_id FROM images WHERE id = NEW.image_id))
   AND NOT EXISTS (SELECT 1 FROM manifests m JOIN images i ON i.id = m.image_id
                   WHERE m.digest = NEW.digest AND m.image_id <> NEW.image_id AND i.project_id = (SELECT project_id FROM images WHERE id = NEW.image_id))
  BEGIN
    INSERT OR IGNORE INTO project_usage (project_id)
      SELECT i.project_id FROM images i JOIN projects p ON p.id = i.project_id WHERE i.id = NEW.image_id;
    UPDATE project_usage SET logical_bytes = logical_bytes + coalesce(NEW.size, 0)
      WHERE project_id = (SELECT project_id FROM images WHERE id = NEW.image_id);
  END;
  CREATE TRIGGER manifests_usage_delete AFTER DELETE ON manifests
  WHEN NOT EXISTS (SELECT 1 FROM image_blobs b JOIN images i ON i.id = b.image_id
                   WHERE b.digest = OLD.digest AND i.project_id = (SELECT project_id FROM images WHERE id = OLD.image_id))
   AND NOT EXISTS (SELECT 1 FROM manifests m JOIN images i ON i.id = m.image_id
                   WHERE m.digest = OLD.digest AND i.project_id = (SELECT project_id FROM images WHERE id = OLD.image_id))
  BEGIN
    INSERT OR IGNORE INTO project_usage (project_id)
      SELECT i.project_id FROM images i JOIN projects p ON p.id = i.project_id WHERE i.id = OLD.image_id;
    UPDATE project_usage SET logical_bytes = logical_bytes - coalesce(OLD.size, 0)
      WHERE project_id = (SELECT project_id FROM images WHERE id = OLD.image_id);
  END;
  `,
  // The web console lists an image's manifests by push time, a page at a time, each with its tags
  // (without an index by digest, finding a manifest's tags reads every tag of the image).
  `
  CREATE INDEX manifests_by_push_time ON manifests(image_id, created_at, digest);
  CREATE INDEX tags_by_digest ON tags(image_id, digest);
  `,
  // The audit log: who changed what, from where, when, and how it ended. Read newest first, by time,
  // actor or resource; pruned by age.
  `
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    client TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
    details TEXT
  );
  CREATE INDEX audit_log_by_time ON audit_log(at);
  CREATE INDEX audit_log_by_actor ON audit_log(actor, id);
  CREATE INDEX audit_log_by_resource ON audit_log(resource, id);
  `,
  // Remote repositories (pull-through caches of an upstream registry), and when each cached tag was
  // last checked against its upstream.
  `
  CREATE TABLE remote_repositories (
    project_id TEXT NOT NULL,
    repository_id TEXT NOT NULL,
    url TEXT NOT NULL,
    username TEXT,
    sealed_password TEXT,
    prefix TEXT NOT NULL DEFAULT '',
    ttl_ms INTEGER NOT NULL,
    PRIMARY KEY (project_id, repository_id),
    FOREIGN KEY (project_id, repository_id) REFERENCES repositories(project_id, id) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE TABLE remote_tag_checks (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    checked_at INTEGER NOT NULL,
    PRIMARY KEY (image_id, tag)
  ) WITHOUT ROWID;
  `,
  // Webhooks per project and their delivery queue: claimed with leases like scans, so deliveries
  // survive a restart and instances share them. Each attempt's outcome is kept for the owner to read.
  `
  CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX webhooks_by_project ON webhooks(project_id, id);
  CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    finished_at INTEGER,
    redelivery_of TEXT,
    claimed_by TEXT,
    lease_expires_at INTEGER,
    last_status_code INTEGER,
    last_error TEXT,
    last_duration_ms INTEGER
  );
  CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
  CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries(webhook_id, seq);
  CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    response_prefix TEXT,
    PRIMARY KEY (delivery_id, attempt)
  ) WITHOUT ROWID;
  `,
  // Per-project rate limit overrides and security policies (a project's under repository_id '').
  // A repository's policy goes with the repository; a project's rows go with the project.
  `
  CREATE TABLE project_rate_limits (
    project_id TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    limits TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE security_policies (
    project_id TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    repository_id TEXT NOT NULL,
    policy TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, repository_id)
  );
  CREATE TRIGGER repositories_drop_security_policy AFTER DELETE ON repositories BEGIN
    DELETE FROM security_policies WHERE project_id = OLD.project_id AND repository_id = OLD.id;
  END;
  `,
];
