/**
 * Request rates as people write them in settings: `600/min`, `20/s`, `5/10s`, `1000/h`, or
 * `unlimited`. A rate is a token bucket's size (`quota` requests) and the time it takes to refill
 * from empty (`windowSeconds`), which are the `q` and `w` of the `RateLimit-Policy` header.
 */
export interface Rate {
  readonly quota: number;
  readonly windowSeconds: number;
}

/** A limit as configured: a rate, or no limit at all. */
export type RateSetting = Rate | 'unlimited';

const rateShape = /^(\d+)\/(\d*)(s|sec|second|m|min|minute|h|hour)$/;
const unitSeconds: Record<string, number> = {
  s: 1,
  sec: 1,
  second: 1,
  m: 60,
  min: 60,
  minute: 60,
  h: 3600,
  hour: 3600,
};

/** The setting `text` names, or undefined when it names none. */
export function parseRate(text: string): RateSetting | undefined {
  const trimmed = text.trim().toLowerCase();
  if (trimmed === 'unlimited') return 'unlimited';
  const match = rateShape.exec(trimmed);
  if (!match) return undefined;
  const quota = Number(match[1]);
  const windowSeconds = Number(match[2] || '1') * (unitSeconds[match[3] as string] as number);
  if (!Number.isSafeInteger(quota) || quota < 1 || windowSeconds < 1 || windowSeconds > 86_400) {
    return undefined;
  }
  return { quota, windowSeconds };
}

export function rateProblem(text: string): string {
  return `"${text}" is not a rate such as 600/min, 20/s, 5/10s or 1000/h (at least 1 request, a window of at most a day), nor "unlimited"`;
}

/** The canonical text of a setting: what the API answers and the CLI shows. */
export function formatRate(setting: RateSetting): string {
  if (setting === 'unlimited') return 'unlimited';
  const { quota, windowSeconds } = setting;
  if (windowSeconds % 3600 === 0) return `${quota}/${windowSeconds === 3600 ? '' : windowSeconds / 3600}h`;
  if (windowSeconds % 60 === 0) return `${quota}/${windowSeconds === 60 ? '' : windowSeconds / 60}min`;
  return `${quota}/${windowSeconds === 1 ? '' : windowSeconds}s`;
}
