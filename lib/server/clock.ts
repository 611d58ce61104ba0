// Time sources for the embedded cluster. Expiry, lock timeouts and CAS all read the clock the
// cluster was started with, so tests can move time forward instead of sleeping.
import type { ServerClock } from './service-types';

export type { ServerClock };

/** Wall-clock time. */
export const systemClock: ServerClock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests of expiry and lock timeouts. */
export class ManualClock implements ServerClock {
  private ms: number;

  constructor(startMs: number = Date.UTC(2025, 0, 1)) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  /** Moves time forward by `ms` milliseconds (never backwards). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.ms += ms;
  }

  /** Jumps to an absolute time; refuses to go backwards, as a server clock never does. */
  set(ms: number): void {
    if (ms < this.ms) throw new RangeError('ManualClock.set: time cannot go backwards');
    this.ms = ms;
  }
}
