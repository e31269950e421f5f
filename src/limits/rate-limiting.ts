import type { RateLimitsConfig } from '../config/config.js';
import type { PolicyStore } from '../db/policies.js';
import type { Clock } from '../lib/clock.js';
import { MemoryBucketStore } from './bucket-store.js';
import { type RefusalListener, RequestRateLimiter } from './request-limiter.js';

/**
 * The limiter the server puts in front of /v2/ and the management API, or undefined when limiting
 * is off (then no request pays for it, and project overrides wait until it is turned on). Buckets
 * live in this instance's memory (see the README on several instances).
 */
export function createRateLimiter(
  config: RateLimitsConfig,
  policies: Pick<PolicyStore, 'rateLimits'>,
  clock: Clock,
  onRefused?: RefusalListener,
): RequestRateLimiter | undefined {
  if (!config.enabled) return undefined;
  const { enabled: _, ...defaults } = config;
  return new RequestRateLimiter(
    defaults,
    (project) => policies.rateLimits(project),
    new MemoryBucketStore(),
    clock,
    onRefused,
  );
}
