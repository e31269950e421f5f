import type { RemoteSettings, RemoteStore } from '../remotes.js';
import { type RemoteRow, toRemote } from '../rows/resources.js';
import type { SqliteDatabase } from './database.js';

export class SqliteRemoteStore implements RemoteStore {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      find: db.prepare(
        'SELECT url, username, sealed_password, prefix, ttl_ms FROM remote_repositories WHERE project_id = ? AND repository_id = ?',
      ),
      checkedAt: db
        .prepare('SELECT checked_at FROM remote_tag_checks WHERE image_id = ? AND tag = ?')
        .pluck(),
      // A check only moves forward: two instances checking at once keep the later time.
      recordCheck: db.prepare(
        `INSERT INTO remote_tag_checks (image_id, tag, checked_at) VALUES (?, ?, ?)
         ON CONFLICT (image_id, tag) DO UPDATE SET checked_at = max(checked_at, excluded.checked_at)`,
      ),
    };
  }

  async find(project: string, repository: string): Promise<RemoteSettings | undefined> {
    const row = this.statements.find.get(project, repository) as RemoteRow | undefined;
    return row && toRemote(row);
  }

  async tagCheckedAt(imageId: number, tag: string): Promise<Date | undefined> {
    const at = this.statements.checkedAt.get(imageId, tag) as number | undefined;
    return at === undefined ? undefined : new Date(at);
  }

  async recordTagCheck(imageId: number, tag: string, at: Date): Promise<void> {
    this.statements.recordCheck.run(imageId, tag, at.getTime());
  }
}
