import { describe, expect, it } from 'vitest';
import { inWords } from '../../src/lib/wait-words.js';

describe('waits in words', () => {
  it.each([
    [1, 'in 1 second'],
    [45, 'in 45 seconds'],
    [60, 'in 1 minute'],
    [61, 'in 2 minutes'],
    [899, 'in 15 minutes'],
    [900, 'in 15 minutes'],
    [3600, 'in 1 hour'],
    [5400, 'in 2 hours'],
    [0, 'in 1 second'],
  ])('%i seconds is "%s"', (seconds, words) => {
    expect(inWords(seconds)).toBe(words);
  });
});
