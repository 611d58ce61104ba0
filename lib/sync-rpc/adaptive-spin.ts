// The spin-then-sleep policy of a waiting side of the channel (channel.ts): how long to spin on a
// shared word before sleeping in Atomics.wait, learned from how long recent waits took.

/**
 * How long to spin before sleeping, learned from how long waits take. Spinning wins when the
 * other side answers within the window (no futex sleep, no cold wake-up of an idle CPU, which
 * on a virtual machine costs tens of microseconds); on a machine with more runnable threads than
 * cores it only steals the CPU the other side needs. So, every TRIAL waits:
 * - the window becomes P90_FACTOR times the 90th percentile of their durations (at least MIN_MS,
 *   at most the maximum): long enough for nearly every answer, short enough not to burn a core
 *   on the rest. A sleep is dear on a virtual machine: the wake-up of an idle vCPU took 150 us
 *   to 4 ms here, one late answer in 20,000 calls costs the mean 0.2 us per millisecond. At 1.5x
 *   the caller still slept on 2-6% of KV calls; at 3x on 0.2-1%; at 10x on 0.2-0.35% (64-71
 *   sleeps in 20,000 gets against 146-185 at 3x). The mean overhead of alternating runs fell from
 *   18.5 (1.5x) to 13.4 us (3x) with the engine in its own worker, and from 16.0-20.8 (3x) to
 *   12.1-12.9 us (10x);
 * - spinning stops when fewer than a quarter of the spins ended with an answer (answers that
 *   slow are not worth a core): for OFF_MIN waits after one such trial, twice as long after
 *   each further one in a row, up to OFF_MAX. A burst of misses (another thread took the CPU
 *   for a while) so costs a few dozen slow waits, while waits that always outlast the maximum
 *   (query batches) soon spin only one trial in OFF_MAX waits.
 */
export class AdaptiveSpin {
  static readonly TRIAL = 32;
  static readonly OFF_MIN = 32;
  static readonly OFF_MAX = 1024;
  /** The shortest window worth spinning (ms): about what a futex wake-up costs. */
  static readonly MIN_MS = 0.02;
  /** The window, in 90th percentiles of recent waits. */
  static readonly P90_FACTOR = 10;
  private readonly durations = new Float64Array(AdaptiveSpin.TRIAL);
  private measured = 0;
  private attempts = 0;
  private hits = 0;
  private off = 0;
  /** How long the next stop lasts: OFF_MIN, doubled by each failed trial in a row. */
  private offLength = AdaptiveSpin.OFF_MIN;
  private learned: number;

  constructor(private readonly maxMs: number) {
    this.learned = maxMs;
  }

  /** The spin window for this wait, in milliseconds (0: do not spin). */
  window(): number {
    if (this.maxMs <= 0) return 0;
    if (this.off > 0) {
      this.off--;
      return 0;
    }
    return this.learned;
  }

  /** How a wait went: how long it took (ms), whether it spun, and whether the answer came while spinning. */
  record(waitedMs: number, spun: boolean, hit: boolean): void {
    if (this.maxMs <= 0) return;
    this.durations[this.measured++] = waitedMs;
    if (this.measured === AdaptiveSpin.TRIAL) {
      this.measured = 0;
      // Sorted in place: every slot is written again before the next trial reads it.
      const p90 = this.durations.sort()[Math.floor(AdaptiveSpin.TRIAL * 0.9)];
      // A slow spell (p90 past the maximum) spins the whole maximum; only the hit rate below
      // turns spinning off. Turning it off on a slow p90 alone put every wait of the next OFF
      // through a futex wake-up after a single stall of the machine.
      this.learned = Math.min(this.maxMs, Math.max(AdaptiveSpin.MIN_MS, p90 * AdaptiveSpin.P90_FACTOR));
    }
    if (!spun) return;
    this.attempts++;
    if (hit) this.hits++;
    if (this.attempts < AdaptiveSpin.TRIAL) return;
    if (this.hits * 4 < this.attempts) {
      this.off = this.offLength;
      this.offLength = Math.min(AdaptiveSpin.OFF_MAX, this.offLength * 2);
    } else {
      this.offLength = AdaptiveSpin.OFF_MIN;
    }
    this.attempts = 0;
    this.hits = 0;
  }
}
