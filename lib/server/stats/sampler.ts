// The statistics archive behind GET /pools/default/buckets/<bucket>/stats: once a second every
// bucket's counters and gauges become one sample (counters as per-second rates over the second,
// gauges as read), and each zoom level keeps its own ring of averages at ns_server's intervals
// (minute: 1 s x 60, hour: 4 s x 900, day: 1 min x 1440, week: 10 min x 1152, month: 30 min x
// 1488, year: 6 h x 1464).
import type { ServerClock } from '../service-types';

export interface ZoomLevel {
  readonly name: string;
  readonly intervalMs: number;
  readonly samples: number;
}

export const ZOOM_LEVELS: readonly ZoomLevel[] = [
  { name: 'minute', intervalMs: 1000, samples: 60 },
  { name: 'hour', intervalMs: 4000, samples: 900 },
  { name: 'day', intervalMs: 60_000, samples: 1440 },
  { name: 'week', intervalMs: 600_000, samples: 1152 },
  { name: 'month', intervalMs: 1_800_000, samples: 1488 },
  { name: 'year', intervalMs: 21_600_000, samples: 1464 },
];

/** One source of samples (a bucket, or a service such as `@query`): what it measures now. */
export interface StatSource {
  /** Stat names, in a fixed order; a sample's values follow it. */
  readonly names: readonly string[];
  /** Writes the current values into `out` (same order as `names`); `seconds` since the last read. */
  read(out: Float64Array, seconds: number): void;
}

interface Sample {
  t: number;
  v: Float64Array;
}

/** One zoom level's ring: the newest `capacity` samples, averaged from the 1-second ones. */
class Ring {
  private readonly items: Sample[] = [];
  private acc: Float64Array | undefined;
  private accCount = 0;
  private accStart = 0;

  constructor(
    readonly level: ZoomLevel,
    private readonly width: number,
  ) {}

  /** Takes a 1-second sample; emits an averaged one once this level's interval is covered. */
  add(t: number, v: Float64Array): void {
    if (this.level.intervalMs === 1000) return this.push({ t, v });
    if (this.acc === undefined) {
      this.acc = new Float64Array(this.width);
      this.accStart = t;
    }
    for (let i = 0; i < this.width; i++) this.acc[i] += v[i];
    this.accCount++;
    if (t - this.accStart + 1000 >= this.level.intervalMs) {
      const avg = this.acc.map((x) => x / this.accCount);
      this.acc = undefined;
      this.accCount = 0;
      this.push({ t, v: avg });
    }
  }

  private push(s: Sample): void {
    this.items.push(s);
    if (this.items.length > this.level.samples) this.items.splice(0, this.items.length - this.level.samples);
  }

  samples(): readonly Sample[] {
    return this.items;
  }
}

class SourceArchive {
  readonly rings: Ring[];
  private last: number | undefined;
  constructor(readonly source: StatSource) {
    this.rings = ZOOM_LEVELS.map((l) => new Ring(l, source.names.length));
  }
  take(t: number): void {
    const seconds = this.last === undefined ? 1 : Math.max(0.001, (t - this.last) / 1000);
    this.last = t;
    const v = new Float64Array(this.source.names.length);
    this.source.read(v, seconds);
    for (const r of this.rings) r.add(t, v);
  }
}

/** ns_server's legacy stats body for one source at one zoom level. */
export interface StatsBody {
  op: {
    samples: Record<string, number[]>;
    samplesCount: number;
    isPersistent: boolean;
    lastTStamp: number;
    interval: number;
  };
  hot_keys: Array<{ name: string; ops: number }>;
}

export class StatsArchive {
  private readonly archives = new Map<string, SourceArchive>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly clock: ServerClock) {}

  /** Starts sampling `source` under `name` (a bucket name, or `@query`); replaces an old one. */
  addSource(name: string, source: StatSource): void {
    this.archives.set(name, new SourceArchive(source));
  }

  removeSource(name: string): void {
    this.archives.delete(name);
  }

  has(name: string): boolean {
    return this.archives.has(name);
  }

  /** Takes one sample of every source now (the timer calls it every second; tests may too). */
  sample(): void {
    const t = this.clock.now();
    for (const a of this.archives.values()) a.take(t);
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The newest one-second value of `stat` for `name` (0 before the first sample). */
  latest(name: string, stat: string): number {
    const archive = this.archives.get(name);
    if (archive === undefined) return 0;
    const i = archive.source.names.indexOf(stat);
    const samples = archive.rings[0].samples();
    return i < 0 || samples.length === 0 ? 0 : round(samples[samples.length - 1].v[i]);
  }

  /** The samples of `name` at `zoom`, newer than `haveTStamp` when given; undefined for an unknown source. */
  body(name: string, zoom: ZoomLevel, haveTStamp: number | undefined, persistent: boolean): StatsBody | undefined {
    const archive = this.archives.get(name);
    if (archive === undefined) return undefined;
    const ring = archive.rings[ZOOM_LEVELS.indexOf(zoom)];
    const all = ring.samples();
    const chosen = haveTStamp === undefined ? all : all.filter((s) => s.t > haveTStamp);
    const samples: Record<string, number[]> = { timestamp: chosen.map((s) => s.t) };
    archive.source.names.forEach((stat, i) => (samples[stat] = chosen.map((s) => round(s.v[i]))));
    return {
      op: {
        samples,
        samplesCount: zoom.samples,
        isPersistent: persistent,
        lastTStamp: all.length > 0 ? all[all.length - 1].t : 0,
        interval: zoom.intervalMs,
      },
      hot_keys: [],
    };
  }
}

/** Three decimals, and six significant digits below 1 (a sub-millisecond latency in seconds stays above 0). */
function round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Math.abs(x) >= 1 ? Math.round(x * 1000) / 1000 : Number(x.toPrecision(6));
}
