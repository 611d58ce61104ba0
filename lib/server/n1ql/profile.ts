// The `profile` request parameter: "phases" adds a profile object to the response with the time
// each phase took (parse, plan, run, the scans, fetch, ...), how many documents each scan and the
// fetch handled, and how many operators of each kind ran; "timings" adds the plan itself with
// each measured operator's statistics (executionTimings), as Couchbase Server 7.6 reports them.
import { formatDuration } from './duration';
import { LANGUAGE_VERSION, SERVER_VERSION } from './functions/misc';

export type ProfileMode = 'off' | 'phases' | 'timings';

export const PROFILE_MODES: readonly ProfileMode[] = ['off', 'phases', 'timings'];

interface OperatorStats {
  itemsIn: number;
  itemsOut: number;
  ms: number;
}

/** What a statement's execution measured of itself; present on the ExecContext only when profiling. */
export class Profile {
  private readonly times = new Map<string, number>();
  private readonly counts = new Map<string, number>();
  private readonly operators = new Map<string, number>();
  /** Per plan operator (keyed by its '#operator' name and occurrence), for executionTimings. */
  private readonly stats = new Map<string, OperatorStats>();
  private readonly requestTime = new Date();

  constructor(readonly mode: ProfileMode) {}

  /** Time spent in a phase (milliseconds). */
  time(phase: string, ms: number): void {
    this.times.set(phase, (this.times.get(phase) ?? 0) + ms);
  }

  /** Items a phase handled. */
  count(phase: string, n: number): void {
    this.counts.set(phase, (this.counts.get(phase) ?? 0) + n);
  }

  /** One operator of this phase took part in the statement. */
  operator(phase: string): void {
    this.operators.set(phase, (this.operators.get(phase) ?? 0) + 1);
  }

  /** Statistics of a plan operator, for executionTimings. */
  record(op: string, s: Partial<OperatorStats>): void {
    const cur = this.stats.get(op) ?? { itemsIn: 0, itemsOut: 0, ms: 0 };
    cur.itemsIn += s.itemsIn ?? 0;
    cur.itemsOut += s.itemsOut ?? 0;
    cur.ms += s.ms ?? 0;
    this.stats.set(op, cur);
  }

  /** The response's `profile` object; `plan` is the executed statement's plan (for "timings"). */
  toJSON(plan?: Record<string, unknown>): Record<string, unknown> {
    const phaseTimes: Record<string, string> = {};
    for (const [k, ms] of [...this.times].sort(([a], [b]) => (a < b ? -1 : 1))) phaseTimes[k] = formatDuration(Math.round(ms * 1e6));
    const out: Record<string, unknown> = {
      phaseTimes,
      phaseCounts: Object.fromEntries([...this.counts].sort(([a], [b]) => (a < b ? -1 : 1))),
      phaseOperators: Object.fromEntries([...this.operators].sort(([a], [b]) => (a < b ? -1 : 1))),
      requestTime: this.requestTime.toISOString(),
      servicingHost: '127.0.0.1:8091',
    };
    if (this.mode === 'timings' && plan) out.executionTimings = { ...this.withStats(plan), '~versions': [LANGUAGE_VERSION, SERVER_VERSION] };
    return out;
  }

  /** A copy of the plan with "#stats" on each operator the execution measured. */
  private withStats(plan: Record<string, unknown>): Record<string, unknown> {
    const seen = new Map<string, number>();
    const walk = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(walk);
      if (!x || typeof x !== 'object') return x;
      const o = x as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      const name = o['#operator'];
      if (typeof name === 'string') {
        const n = seen.get(name) ?? 0;
        seen.set(name, n + 1);
        const s = this.stats.get(n === 0 ? name : `${name}#${n}`);
        out['#operator'] = name;
        const stats: Record<string, unknown> = { '#phaseSwitches': 0, execTime: formatDuration(Math.round((s?.ms ?? 0) * 1e6)) };
        if (s?.itemsIn) stats['#itemsIn'] = s.itemsIn;
        if (s?.itemsOut) stats['#itemsOut'] = s.itemsOut;
        out['#stats'] = stats;
      }
      for (const [k, v] of Object.entries(o)) if (k !== '#operator') out[k] = walk(v);
      return out;
    };
    return walk(plan) as Record<string, unknown>;
  }
}
