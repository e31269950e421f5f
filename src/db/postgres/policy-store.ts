import type { PolicyStore, ProjectRateLimits, SecurityPolicySettings } from '../policies.js';
import { type StoredPolicy, toRateLimits, toSecurityPolicy } from '../rows/policies.js';
import { type PostgresDatabase, sql } from './database.js';

const policies = {
  // Read on the registry's hot path (each instance caches a project's overrides briefly): prepared.
  rateLimits: sql(
    'SELECT limits FROM project_rate_limits WHERE project_id = @project',
    'policies.rateLimits',
  ),
  setRateLimits: sql(
    `INSERT INTO project_rate_limits (project_id, limits, updated_at)
     SELECT id, @limits::jsonb, @at FROM projects WHERE id = @project
     ON CONFLICT (project_id) DO UPDATE SET limits = excluded.limits, updated_at = excluded.updated_at`,
  ),
  policy: sql(
    'SELECT policy FROM security_policies WHERE project_id = @project AND repository_id = @repository',
    'policies.policy',
  ),
  setProjectPolicy: sql(
    `INSERT INTO security_policies (project_id, repository_id, policy, updated_at)
     SELECT id, '', @policy::jsonb, @at FROM projects WHERE id = @project
     ON CONFLICT (project_id, repository_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
  ),
  setRepositoryPolicy: sql(
    `INSERT INTO security_policies (project_id, repository_id, policy, updated_at)
     SELECT project_id, id, @policy::jsonb, @at FROM repositories WHERE project_id = @project AND id = @repository
     ON CONFLICT (project_id, repository_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
  ),
};

export class PostgresPolicyStore implements PolicyStore {
  constructor(private readonly db: PostgresDatabase) {}

  async rateLimits(project: string): Promise<ProjectRateLimits | undefined> {
    const row = await this.db.row<{ limits: ProjectRateLimits }>(policies.rateLimits, { project });
    return row && toRateLimits(row.limits);
  }

  async setRateLimits(project: string, limits: ProjectRateLimits, at: Date): Promise<boolean> {
    const changes = await this.db.run(policies.setRateLimits, {
      project,
      limits: JSON.stringify(limits),
      at: at.getTime(),
    });
    return changes > 0;
  }

  async securityPolicy(
    project: string,
    repository: string | undefined,
  ): Promise<SecurityPolicySettings | undefined> {
    const row = await this.db.row<{ policy: StoredPolicy }>(policies.policy, {
      project,
      repository: repository ?? '',
    });
    return row && toSecurityPolicy(row.policy);
  }

  async setSecurityPolicy(
    project: string,
    repository: string | undefined,
    policy: SecurityPolicySettings,
    at: Date,
  ): Promise<boolean> {
    const statement = repository === undefined ? policies.setProjectPolicy : policies.setRepositoryPolicy;
    const values = { project, policy: JSON.stringify(policy), at: at.getTime() };
    const changes = await this.db.run(
      statement,
      repository === undefined ? values : { ...values, repository },
    );
    return changes > 0;
  }
}
