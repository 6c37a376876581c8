// A clock for servers under test: real time plus an offset the test moves forward. The server
// keeps running in real time (timers, leases, audit order), and a test that needs "a minute
// later" skips ahead instead of sleeping.
import type { Clock } from '../../src/core/clock.ts';

export interface SkippingClock extends Clock {
  /** Moves this clock, and only this clock, forward by `ms`. */
  advance(ms: number): void;
}

export function skippingClock(): SkippingClock {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError('a clock only moves forward');
      offset += ms;
    },
  };
}
