import { z } from 'zod';
import type { RateLimitsConfig } from '../../config/config.js';
import type { MetadataStore } from '../../db/metadata.js';
import { type ProjectRateLimits, type RateLimitKind, rateLimitKinds } from '../../db/policies.js';
import type { Caller } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import { formatRate, parseRate, type RateSetting, rateProblem } from '../../limits/rates.js';
import type { SettingsChangeListener } from '../../policies/settings-changes.js';
import { type ApiAccess, projectNotFound } from '../access-checks.js';
import { requestSchema, responseSchema } from '../schemas.js';

const rateText = z
  .string()
  .refine((text) => parseRate(text) !== undefined, { error: (issue) => rateProblem(String(issue.input)) })
  .describe('A rate such as 600/min, 20/s, 5/10s or 1000/h, or "unlimited"');

const rateFields = {
  pull: 'per principal, pulls (and other reads) from the project',
  push: 'per principal, pushes and deletes',
  repositoryPull: "per repository, every principal's pulls together",
  repositoryPush: "per repository, every principal's pushes together",
} as const satisfies Record<RateLimitKind, string>;

export const rateLimitChanges = requestSchema(
  'RateLimitChanges',
  z
    .object(
      Object.fromEntries(
        rateLimitKinds.map((kind) => [
          kind,
          rateText
            .nullable()
            .optional()
            .describe(`${rateFields[kind]}; null returns to the instance default`),
        ]),
      ) as Record<RateLimitKind, z.ZodOptional<z.ZodNullable<typeof rateText>>>,
    )
    .strict(),
  'Overrides to change; kinds left out keep their setting',
);

const rateMap = z.object(
  Object.fromEntries(rateLimitKinds.map((kind) => [kind, z.string().optional()])) as Record<
    RateLimitKind,
    z.ZodOptional<z.ZodString>
  >,
);

export const projectRateLimitsView = responseSchema(
  'ProjectRateLimits',
  z.object({
    project: z.string(),
    enabled: z.boolean().describe('Whether this instance limits requests at all (serve config)'),
    overrides: rateMap.describe("The project's own settings"),
    effective: rateMap.describe(
      'What applies: the overrides, else the instance defaults ("unlimited" when neither)',
    ),
  }),
);

type RateLimitsView = z.input<typeof projectRateLimitsView>;

/** Per-project rate limit overrides: anyone who sees the project reads them; the administrator sets them. */
export class RateLimitSettingsService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly defaults: RateLimitsConfig,
    private readonly clock: Clock,
    private readonly onChanged: SettingsChangeListener,
  ) {}

  async get(caller: Caller, project: string): Promise<RateLimitsView> {
    await this.access.project(caller, project, 'see');
    return this.view(project, (await this.metadata.policies.rateLimits(project)) ?? {});
  }

  async update(
    caller: Caller,
    project: string,
    changes: z.output<typeof rateLimitChanges>,
  ): Promise<RateLimitsView> {
    this.access.requireAdmin(caller, "change a project's rate limits");
    const before = (await this.metadata.policies.rateLimits(project)) ?? {};
    const after: Record<string, RateSetting> = { ...before };
    for (const kind of rateLimitKinds) {
      const change = changes[kind];
      if (change === null) delete after[kind];
      else if (change !== undefined) after[kind] = parseRate(change) as RateSetting;
    }
    const at = this.clock.now();
    if (!(await this.metadata.policies.setRateLimits(project, after, at))) throw projectNotFound(project);
    const beforeView = this.view(project, before);
    const afterView = this.view(project, after);
    this.onChanged({
      kind: 'rateLimits',
      actor: caller,
      project,
      repository: undefined,
      before: beforeView.overrides,
      after: afterView.overrides,
      at,
    });
    return afterView;
  }

  private view(project: string, overrides: ProjectRateLimits): RateLimitsView {
    const own: Partial<Record<RateLimitKind, string>> = {};
    const effective: Partial<Record<RateLimitKind, string>> = {};
    for (const kind of rateLimitKinds) {
      const setting = overrides[kind];
      if (setting !== undefined) own[kind] = formatRate(setting);
      effective[kind] = formatRate(setting ?? this.defaults[kind] ?? 'unlimited');
    }
    return { project, enabled: this.defaults.enabled, overrides: own, effective };
  }
}
