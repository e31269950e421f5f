import type { PolicyStore, ProjectRateLimits, SecurityPolicySettings } from '../policies.js';
import { toRateLimits, toSecurityPolicy } from '../rows/policies.js';
import type { SqliteDatabase } from './database.js';

/** Rates and policies are small documents, stored as JSON; dates as ISO strings. */
export class SqlitePolicyStore implements PolicyStore {
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      rateLimits: db.prepare('SELECT limits FROM project_rate_limits WHERE project_id = ?').pluck(),
      setRateLimits: db.prepare(
        `INSERT INTO project_rate_limits (project_id, limits, updated_at)
         SELECT id, @limits, @at FROM projects WHERE id = @project
         ON CONFLICT (project_id) DO UPDATE SET limits = excluded.limits, updated_at = excluded.updated_at`,
      ),
      policy: db
        .prepare('SELECT policy FROM security_policies WHERE project_id = ? AND repository_id = ?')
        .pluck(),
      setProjectPolicy: db.prepare(
        `INSERT INTO security_policies (project_id, repository_id, policy, updated_at)
         SELECT id, '', @policy, @at FROM projects WHERE id = @project
         ON CONFLICT (project_id, repository_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
      ),
      setRepositoryPolicy: db.prepare(
        `INSERT INTO security_policies (project_id, repository_id, policy, updated_at)
         SELECT project_id, id, @policy, @at FROM repositories WHERE project_id = @project AND id = @repository
         ON CONFLICT (project_id, repository_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
      ),
    };
  }

  async rateLimits(project: string): Promise<ProjectRateLimits | undefined> {
    const text = this.statements.rateLimits.get(project) as string | undefined;
    return text === undefined ? undefined : toRateLimits(text);
  }

  async setRateLimits(project: string, limits: ProjectRateLimits, at: Date): Promise<boolean> {
    const result = this.statements.setRateLimits.run({
      project,
      limits: JSON.stringify(limits),
      at: at.getTime(),
    });
    return result.changes > 0;
  }

  async securityPolicy(
    project: string,
    repository: string | undefined,
  ): Promise<SecurityPolicySettings | undefined> {
    const text = this.statements.policy.get(project, repository ?? '') as string | undefined;
    return text === undefined ? undefined : toSecurityPolicy(text);
  }

  async setSecurityPolicy(
    project: string,
    repository: string | undefined,
    policy: SecurityPolicySettings,
    at: Date,
  ): Promise<boolean> {
    const values = { project, repository, policy: JSON.stringify(policy), at: at.getTime() };
    const statement =
      repository === undefined ? this.statements.setProjectPolicy : this.statements.setRepositoryPolicy;
    return statement.run(values).changes > 0;
  }
}
