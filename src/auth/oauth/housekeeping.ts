import type { RevocationStore } from '../../db/identity.js';
import type { OAuthStore } from '../../db/oauth.js';
import type { Clock } from '../../lib/clock.js';

const every = 10 * 60_000;
/** Spent codes are kept a day past their expiry, so that a late replay still revokes what they issued. */
const retention = 24 * 3_600_000;

/** Forgets expired grants, refresh tokens, sessions and revocations, at most every ten minutes. */
export class Housekeeping {
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: OAuthStore,
    private readonly revocations: RevocationStore,
    private readonly clock: Clock,
  ) {}

  async tick(): Promise<void> {
    const now = this.clock.now();
    if (now.getTime() - this.last < every) return;
    this.last = now.getTime();
    await this.store.purgeExpired(new Date(now.getTime() - retention));
    await this.revocations.purgeExpired(now);
  }
}
