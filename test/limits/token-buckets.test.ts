import { describe, expect, it } from 'vitest';
import { loadServeConfig, type ServeOverrides } from '../../src/config/config.js';
import { MemoryBucketStore } from '../../src/limits/bucket-store.js';
import { formatRate, parseRate } from '../../src/limits/rates.js';

describe('rates as people write them', () => {
  it.each([
    ['600/min', { quota: 600, windowSeconds: 60 }, '600/min'],
    ['20/s', { quota: 20, windowSeconds: 1 }, '20/s'],
    ['5/10s', { quota: 5, windowSeconds: 10 }, '5/10s'],
    ['1000/h', { quota: 1000, windowSeconds: 3600 }, '1000/h'],
    ['3/2min', { quota: 3, windowSeconds: 120 }, '3/2min'],
    [' 7/Second ', { quota: 7, windowSeconds: 1 }, '7/s'],
    ['unlimited', 'unlimited', 'unlimited'],
  ] as const)('reads %s', (text, setting, canonical) => {
    expect(parseRate(text)).toEqual(setting);
    expect(formatRate(parseRate(text) as NonNullable<ReturnType<typeof parseRate>>)).toBe(canonical);
  });

  it.each(['fast', '0/s', '10', '10/day', '-1/s', '5/0s', '1/2d', '1/25h'])('refuses %s', (text) => {
    expect(parseRate(text)).toBeUndefined();
  });
});

describe('token buckets in memory', () => {
  const rate = { quota: 3, windowSeconds: 3 };

  it('serves a burst up to the quota, then refills one token per window / quota', async () => {
    const store = new MemoryBucketStore();
    const levels = [];
    for (let i = 0; i < 4; i++) levels.push(await store.draw([{ key: 'a', rate }], 0));
    expect(levels.map((level) => level.allowed)).toEqual([true, true, true, false]);
    expect(levels[2]?.levels[0]).toEqual({ remaining: 0, msUntilFull: 3000, msUntilToken: 1000 });
    expect((await store.draw([{ key: 'a', rate }], 999)).allowed).toBe(false);
    expect((await store.draw([{ key: 'a', rate }], 1000)).allowed).toBe(true);
  });

  it('takes from every bucket or from none', async () => {
    const store = new MemoryBucketStore();
    const one = { quota: 1, windowSeconds: 60 };
    expect((await store.draw([{ key: 'small', rate: one }], 0)).allowed).toBe(true);
    const refused = await store.draw(
      [
        { key: 'big', rate },
        { key: 'small', rate: one },
      ],
      0,
    );
    expect(refused.allowed).toBe(false);
    // The big bucket kept its tokens.
    expect(refused.levels[0]?.remaining).toBe(3);
    expect((await store.draw([{ key: 'big', rate }], 0)).levels[0]?.remaining).toBe(2);
  });

  it('keeps separate buckets per key, and applies a changed rate from then on', async () => {
    const store = new MemoryBucketStore();
    for (let i = 0; i < 3; i++) await store.draw([{ key: 'a', rate }], 0);
    expect((await store.draw([{ key: 'b', rate }], 0)).allowed).toBe(true);
    const raised = { quota: 100, windowSeconds: 100 };
    const after = await store.draw([{ key: 'a', rate: raised }], 2000);
    expect(after.allowed).toBe(true);
    expect(after.levels[0]?.remaining).toBe(1);
  });
});

describe('the rateLimits section of the serve config', () => {
  const load = (rateLimits: object) =>
    loadServeConfig(undefined, { rateLimits } as ServeOverrides, {}).rateLimits;

  it('turns limiting on once a rate is set, unless told otherwise', () => {
    expect(load({})).toEqual({ enabled: false });
    expect(load({ pull: '600/min' })).toEqual({ enabled: true, pull: { quota: 600, windowSeconds: 60 } });
    expect(load({ pull: '600/min', enabled: false }).enabled).toBe(false);
  });

  it('refuses a rate it cannot read, naming the key', () => {
    expect(() => load({ push: 'lots' })).toThrow(
      'invalid configuration: rateLimits.push: "lots" is not a rate such as 600/min',
    );
  });
});
