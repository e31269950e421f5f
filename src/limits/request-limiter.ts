import { RegistryError } from '../errors/registry-error.js';
import type { Clock } from '../lib/clock.js';
import type { BucketDraw, BucketLevel, BucketStore } from './bucket-store.js';
import type { Rate, RateSetting } from './rates.js';

/** What a request counts as: pulls (reads), pushes (writes and deletes), or management API calls. */
export type LimitedAction = 'pull' | 'push' | 'api';

/** The instance-wide limits (the `rateLimits` section of the serve config); undefined: no limit. */
export interface RateLimitDefaults {
  readonly pull?: RateSetting;
  readonly push?: RateSetting;
  readonly repositoryPull?: RateSetting;
  readonly repositoryPush?: RateSetting;
  readonly api?: RateSetting;
}

export interface LimitedRequest {
  /** `user:…`, `serviceAccount:…`, or `client:ADDRESS` for an anonymous caller. */
  readonly principal: string;
  readonly action: LimitedAction;
  /** The repository the request acts on, when it names one. */
  readonly repository?: { readonly project: string; readonly repository: string };
}

/** Which project overrides apply: the per-project settings, read when a request names a project. */
export type ProjectOverrides = (project: string) => Promise<Partial<RateLimitDefaults> | undefined>;

/** What the limiter decided, with the headers every answer carries. */
export interface Admission {
  /** `RateLimit-Policy` and `RateLimit`, when any limit applies. */
  readonly headers: Readonly<Record<string, string>>;
  /** The 429 to answer with, when a bucket was empty. */
  readonly refusal: RegistryError | undefined;
}

/** Told of every refused request (a metric, a log line): where monitoring hooks in. */
export type RefusalListener = (refused: {
  readonly policy: string;
  readonly principal: string;
  readonly repository: string | undefined;
  readonly retryAfterSeconds: number;
}) => void;

interface AppliedLimit {
  /** The policy's name in the headers: `pull`, `push`, `api`, `repository-pull`, `repository-push`. */
  readonly policy: string;
  readonly draw: BucketDraw;
  /** Whose allowance it is, for the refusal message. */
  readonly holder: string;
}

const noHeaders: Readonly<Record<string, string>> = {};

/**
 * How long a project's overrides are kept in memory before they are read again: a read per request
 * would be most of the limiter's cost. A change made through this instance applies at once
 * (`forgetOverrides`); one made through another instance, within this long.
 */
const overridesTtlMs = 1000;
const overridesCacheSize = 10_000;

/**
 * Token buckets on requests: one per principal (per action, and per project when the project
 * overrides the rate) and one per repository (per action, every principal together). A request
 * draws a token from each bucket that applies; when one is empty the request is refused before its
 * handler runs, so nothing has changed and no body has been read.
 */
export class RequestRateLimiter {
  private readonly cachedOverrides = new Map<
    string,
    { readonly until: number; readonly value: Partial<RateLimitDefaults> | undefined }
  >();

  constructor(
    private readonly defaults: RateLimitDefaults,
    private readonly overrides: ProjectOverrides,
    private readonly buckets: BucketStore,
    private readonly clock: Clock,
    private readonly onRefused: RefusalListener = () => {},
  ) {}

  async admit(request: LimitedRequest): Promise<Admission> {
    const now = this.clock.now().getTime();
    const limits = await this.limitsFor(request, now);
    if (limits.length === 0) return { headers: noHeaders, refusal: undefined };
    const outcome = await this.buckets.draw(
      limits.map((limit) => limit.draw),
      now,
    );
    const headers = rateLimitHeaders(limits, outcome.levels);
    if (outcome.allowed) return { headers, refusal: undefined };
    const emptied = outcome.levels.findIndex((level) => level.remaining < 1);
    const limit = limits[emptied] as AppliedLimit;
    const level = outcome.levels[emptied] as BucketLevel;
    const retryAfter = Math.max(1, Math.ceil(level.msUntilToken / 1000));
    this.onRefused({
      policy: limit.policy,
      principal: request.principal,
      repository: request.repository && `${request.repository.project}/${request.repository.repository}`,
      retryAfterSeconds: retryAfter,
    });
    const { quota, windowSeconds } = limit.draw.rate;
    return {
      headers,
      refusal: new RegistryError(
        'TOOMANYREQUESTS',
        `too many requests: the ${limit.policy} limit of ${limit.holder} is ${quota} requests per ${windowSeconds} s; retry in ${retryAfter} s`,
        {
          headers: { ...headers, 'Retry-After': String(retryAfter) },
          detail: { policy: limit.policy, quota, window: windowSeconds, retryAfter },
        },
      ),
    };
  }

  private async limitsFor(
    { principal, action, repository }: LimitedRequest,
    now: number,
  ): Promise<AppliedLimit[]> {
    if (action === 'api') {
      const rate = limitedSetting(this.defaults.api);
      return rate ? [{ policy: 'api', holder: principal, draw: { key: `api|${principal}`, rate } }] : [];
    }
    const overrides = repository ? await this.overridesOf(repository.project, now) : undefined;
    const limits: AppliedLimit[] = [];
    const own = overrides?.[action];
    const principalRate = limitedSetting(own ?? this.defaults[action]);
    if (principalRate) {
      // An overriding project has its own buckets, so its rate neither spends nor borrows the default's.
      const key =
        own === undefined ? `${action}|${principal}` : `${action}|${principal}|${repository?.project}`;
      limits.push({ policy: action, holder: principal, draw: { key, rate: principalRate } });
    }
    if (repository) {
      const kind = action === 'pull' ? 'repositoryPull' : 'repositoryPush';
      const rate = limitedSetting(overrides?.[kind] ?? this.defaults[kind]);
      const name = `${repository.project}/${repository.repository}`;
      if (rate) {
        limits.push({
          policy: `repository-${action}`,
          holder: `repository ${name}`,
          draw: { key: `${kind}|${name}`, rate },
        });
      }
    }
    return limits;
  }

  /** Drops what is cached of a project's overrides, once they changed. */
  forgetOverrides(project: string): void {
    this.cachedOverrides.delete(project);
  }

  private async overridesOf(project: string, now: number): Promise<Partial<RateLimitDefaults> | undefined> {
    const cached = this.cachedOverrides.get(project);
    if (cached && cached.until > now) return cached.value;
    const value = await this.overrides(project);
    if (this.cachedOverrides.size >= overridesCacheSize) this.cachedOverrides.clear();
    this.cachedOverrides.set(project, { until: now + overridesTtlMs, value });
    return value;
  }
}

function limitedSetting(setting: RateSetting | undefined): Rate | undefined {
  return setting === undefined || setting === 'unlimited' ? undefined : setting;
}

/**
 * The draft-ietf-httpapi-ratelimit-headers fields, in their structured-field form: one list item per
 * limit that applies, e.g. `RateLimit-Policy: "pull";q=600;w=60` and `RateLimit: "pull";r=42;t=18`.
 */
function rateLimitHeaders(
  limits: readonly AppliedLimit[],
  levels: readonly BucketLevel[],
): Record<string, string> {
  return {
    'RateLimit-Policy': limits
      .map(({ policy, draw }) => `"${policy}";q=${draw.rate.quota};w=${draw.rate.windowSeconds}`)
      .join(', '),
    RateLimit: limits
      .map(({ policy }, index) => {
        const level = levels[index] as BucketLevel;
        return `"${policy}";r=${level.remaining};t=${Math.ceil(level.msUntilFull / 1000)}`;
      })
      .join(', '),
  };
}
