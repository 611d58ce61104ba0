// Latency recording for pillowfight: a true HDR histogram (hdr-histogram-js, 3 significant
// digits, as libcouchbase's --timings reports) for the percentiles, and beside it one counter per
// power-of-two range of microseconds for the bar chart cbc-pillowfight prints.
import { build, type Histogram } from 'hdr-histogram-js';

export interface LatencySummary {
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
export const REPORTED_PERCENTILES: ReadonlyArray<[label: string, key: keyof LatencySummary, pct: number]> = [
  ['p50', 'p50', 50],
  ['p90', 'p90', 90],
  ['p99', 'p99', 99],
  ['p99.9', 'p999', 99.9],
];

/** Microseconds; values below 1 us count as 1, above an hour as an hour. */
const HIGHEST_US = 3_600_000_000;

export class LatencyRecorder {
  readonly hdr: Histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  /** Counts by floor(log2(us)). */
  readonly ranges = new Float64Array(33);

  record(micros: number): void {
    const v = Math.min(HIGHEST_US, Math.max(1, Math.round(micros)));
    this.hdr.recordValue(v);
    this.ranges[31 - Math.clz32(v)]++;
  }

  /** Adds every value of `other` (one per connection) into this one. */
  add(other: LatencyRecorder): void {
    this.hdr.add(other.hdr);
    for (let i = 0; i < this.ranges.length; i++) this.ranges[i] += other.ranges[i];
  }

  get count(): number {
    return this.hdr.totalCount;
  }

  summary(): LatencySummary {
    const h = this.hdr;
    const n = h.totalCount;
    if (n === 0) return { count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0 };
    // A percentile is the highest value of its HDR bucket; no recorded value is above the max.
    const at = (p: number): number => Math.min(h.getValueAtPercentile(p), h.maxValue);
    return { count: n, min: h.minNonZeroValue, max: h.maxValue, mean: h.mean, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9) };
  }
}

/** Formats microseconds for people: 840us, 12.3ms, 1.52s. */
export function formatMicros(us: number): string {
  if (us < 1000) return `${Math.round(us)}us`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)}ms`;
  return `${(us / 1_000_000).toFixed(2)}s`;
}

/** The percentile lines printed after every run. */
export function renderPercentiles(r: LatencyRecorder): string {
  const s = r.summary();
  return [
    `latency (${s.count} ops): min ${formatMicros(s.min)}  mean ${formatMicros(s.mean)}  max ${formatMicros(s.max)}`,
    REPORTED_PERCENTILES.map(([label, key]) => `${label} ${formatMicros(s[key])}`).join('  '),
  ].join('\n') + '\n';
}

/** The --timings chart: one bar per power-of-two range of microseconds, as cbc-pillowfight draws it. */
export function renderTimings(r: LatencyRecorder, width = 40): string {
  const most = Math.max(...r.ranges);
  if (most === 0) return '';
  const lines: string[] = [];
  for (let e = 0; e < r.ranges.length; e++) {
    const count = r.ranges[e];
    if (count === 0) continue;
    const range = `[${formatMicros(2 ** e)} - ${formatMicros(2 ** (e + 1) - 1)}]`.padEnd(22);
    lines.push(`${range} |${'#'.repeat(Math.max(1, Math.round((count / most) * width))).padEnd(width)}| ${count}`);
  }
  return lines.join('\n') + '\n';
}
