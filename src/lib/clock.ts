/** Time comes from one place so that tests and services never call `Date.now()` themselves. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
