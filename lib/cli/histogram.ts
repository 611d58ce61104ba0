// A small HDR-style latency histogram: log-linear buckets with a fixed relative precision.
// Values below 2^bits are counted exactly; above, each power-of-two range is cut into 2^(bits-1)
// equal buckets, so a bucket is never wider than 1/2^(bits-1) of the values it holds (bits = 11:
// under 0.1%, three significant digits). Recording is an index computation and an increment.

export interface HistogramSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

/** The percentiles a summary reports, in order, with the labels printed for them. */
export const REPORTED_PERCENTILES: ReadonlyArray<[label: string, key: keyof HistogramSummary, pct: number]> = [
  ['p50', 'p50', 50],
  ['p90', 'p90', 90],
  ['p99', 'p99', 99],
  ['p99.9', 'p999', 99.9],
];

export class Histogram {
  readonly bits: number;
  private readonly linear: number;
  private readonly half: number;
  private readonly counts: Float64Array;
  private total = 0;
  private sum = 0;
  private minValue = Infinity;
  private maxValue = 0;
  /** Largest value that can be recorded; larger ones are clamped to it (and still count). */
  readonly highest: number;

  /** `bits` sets the precision: relative bucket width at most 2^-(bits-1). */
  constructor(bits = 11, highest = 2 ** 40) {
    if (!Number.isInteger(bits) || bits < 2 || bits > 20) throw new RangeError('bits must be an integer in 2..20');
    this.bits = bits;
    this.linear = 2 ** bits;
    this.half = this.linear / 2;
    this.highest = highest;
    const ranges = Math.max(0, Math.ceil(Math.log2(highest + 1)) - bits);
    this.counts = new Float64Array(this.linear + (ranges + 1) * this.half);
  }

  /** Index of the bucket holding the non-negative integer `v`. */
  indexOf(v: number): number {
    if (v < this.linear) return v;
    const msb = Math.floor(Math.log2(v));
    // Math.log2 can land one off near exact powers of two; fix it with an exact comparison.
    const exp = 2 ** msb > v ? msb - 1 : 2 ** (msb + 1) <= v ? msb + 1 : msb;
    const shift = exp - this.bits + 1;
    const sub = Math.floor(v / 2 ** shift);
    return this.linear + (shift - 1) * this.half + (sub - this.half);
  }

  /** The range [low, high] of values that share bucket `i`. */
  rangeOf(i: number): [number, number] {
    if (i < this.linear) return [i, i];
    const k = i - this.linear;
    const shift = Math.floor(k / this.half) + 1;
    const sub = (k % this.half) + this.half;
    return [sub * 2 ** shift, (sub + 1) * 2 ** shift - 1];
  }

  /** Records one value (rounded to an integer, negatives as 0). */
  record(value: number, count = 1): void {
    let v = Math.round(value);
    if (!(v > 0)) v = 0;
    if (v > this.highest) v = this.highest;
    this.counts[this.indexOf(v)] += count;
    this.total += count;
    this.sum += v * count;
    if (v < this.minValue) this.minValue = v;
    if (v > this.maxValue) this.maxValue = v;
  }

  /** Adds every count of `other` (same precision) into this one. */
  merge(other: Histogram): void {
    if (other.bits !== this.bits || other.counts.length !== this.counts.length) throw new RangeError('histograms of different precision');
    for (let i = 0; i < other.counts.length; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.sum += other.sum;
    if (other.total > 0) {
      this.minValue = Math.min(this.minValue, other.minValue);
      this.maxValue = Math.max(this.maxValue, other.maxValue);
    }
  }

  get count(): number {
    return this.total;
  }
  get min(): number {
    return this.total === 0 ? 0 : this.minValue;
  }
  get max(): number {
    return this.maxValue;
  }
  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /**
   * The value at percentile `p` (0..100): the highest value equivalent to the bucket where the
   * running count reaches p% of the total (as HdrHistogram reports it), never above the max.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const target = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= target) return Math.min(this.rangeOf(i)[1], this.maxValue);
    }
    return this.maxValue;
  }

  summary(): HistogramSummary {
    return {
      count: this.total,
      min: this.min,
      max: this.max,
      mean: this.mean,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
    };
  }

  /** Non-empty buckets as [low, high, count], in value order. */
  *buckets(): Generator<[number, number, number]> {
    for (let i = 0; i < this.counts.length; i++) {
      if (this.counts[i] > 0) {
        const [lo, hi] = this.rangeOf(i);
        yield [lo, hi, this.counts[i]];
      }
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.sum = 0;
    this.minValue = Infinity;
    this.maxValue = 0;
  }
}

/** Formats microseconds for people: 840us, 12.3ms, 1.52s. */
export function formatMicros(us: number): string {
  if (us < 1000) return `${Math.round(us)}us`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)}ms`;
  return `${(us / 1_000_000).toFixed(2)}s`;
}

/**
 * The latency report printed at the end of a run: percentiles, then a coarse distribution with
 * one bar per power-of-two range (like cbc-pillowfight's histogram, in microseconds).
 */
export function renderHistogram(h: Histogram, width = 40): string {
  const s = h.summary();
  const lines: string[] = [];
  lines.push(`latency (${s.count} ops): min ${formatMicros(s.min)}  mean ${formatMicros(s.mean)}  max ${formatMicros(s.max)}`);
  lines.push(REPORTED_PERCENTILES.map(([label, key]) => `${label} ${formatMicros(s[key])}`).join('  '));
  if (s.count === 0) return lines.join('\n') + '\n';
  // Regroup the fine buckets into powers of two for display.
  const coarse = new Map<number, number>();
  for (const [lo, , count] of h.buckets()) {
    const e = lo === 0 ? 0 : Math.floor(Math.log2(lo));
    coarse.set(e, (coarse.get(e) ?? 0) + count);
  }
  const most = Math.max(...coarse.values());
  for (const [e, count] of [...coarse.entries()].sort((a, b) => a[0] - b[0])) {
    const lo = e === 0 ? 0 : 2 ** e;
    const hi = 2 ** (e + 1) - 1;
    const range = `[${formatMicros(lo)} - ${formatMicros(hi)}]`.padEnd(22);
    const bar = '#'.repeat(Math.max(1, Math.round((count / most) * width)));
    lines.push(`${range} |${bar.padEnd(width)}| ${count}`);
  }
  return lines.join('\n') + '\n';
}
