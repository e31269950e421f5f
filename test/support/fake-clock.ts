import type { Clock } from '../../src/lib/clock.js';

/** A clock the test moves by hand, starting at the real time (so browsers accept the cookies and tokens). */
export class FakeClock implements Clock {
  private current: number;

  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
