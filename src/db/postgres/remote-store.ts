import type { RemoteSettings, RemoteStore } from '../remotes.js';
import { type RemoteRow, toRemote } from '../rows/resources.js';
import { type PostgresDatabase, sql } from './database.js';

const remotes = {
  find: sql(
    `SELECT url, username, sealed_password, prefix, ttl_ms FROM remote_repositories
     WHERE project_id = @project AND repository_id = @repository`,
    'remotes.find',
  ),
  checkedAt: sql(
    'SELECT checked_at FROM remote_tag_checks WHERE image_id = @imageId AND tag = @tag',
    'remotes.checkedAt',
  ),
  // A check only moves forward: two instances checking at once keep the later time.
  recordCheck: sql(
    `INSERT INTO remote_tag_checks (image_id, tag, checked_at) VALUES (@imageId, @tag, @at)
     ON CONFLICT (image_id, tag) DO UPDATE SET checked_at = greatest(remote_tag_checks.checked_at, excluded.checked_at)`,
  ),
};

export class PostgresRemoteStore implements RemoteStore {
  constructor(private readonly db: PostgresDatabase) {}

  async find(project: string, repository: string): Promise<RemoteSettings | undefined> {
    const row = await this.db.row<RemoteRow>(remotes.find, { project, repository });
    return row && toRemote(row);
  }

  async tagCheckedAt(imageId: number, tag: string): Promise<Date | undefined> {
    const row = await this.db.row<{ checked_at: number }>(remotes.checkedAt, { imageId, tag });
    return row && new Date(row.checked_at);
  }

  async recordTagCheck(imageId: number, tag: string, at: Date): Promise<void> {
    await this.db.run(remotes.recordCheck, { imageId, tag, at: at.getTime() });
  }
}
