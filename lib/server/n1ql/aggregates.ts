// Aggregate states: one per group (GROUP BY) or per window frame (window aggregates). Each takes
// the values of its argument one by one and gives the aggregate's result, with the 7.6 rules:
// MISSING and NULL skipped, DISTINCT, ARRAY_AGG in collation order, and the one-value rules of
// the variance family.
import type { AggregateSpec } from './row';
import { arithmetic, isNumeric } from './int64';
import { collate, valueKey, type Value } from './value';

export interface AggState {
  add(v: Value): void;
  result(): Value;
}

export function makeAgg(spec: Pick<AggregateSpec, 'name' | 'distinct' | 'star'>): AggState {
  const seen = spec.distinct ? new Set<string>() : undefined;
  const wrap = (s: AggState): AggState => {
    if (!seen) return s;
    return {
      add(v) {
        if (v === undefined) return;
        const k = valueKey(v);
        if (seen.has(k)) return;
        seen.add(k);
        s.add(v);
      },
      result: () => s.result(),
    };
  };
  switch (spec.name) {
    case 'count': {
      let n = 0;
      if (spec.star) return { add: () => void n++, result: () => n };
      return wrap({ add: (v) => void (v !== null && v !== undefined && n++), result: () => n });
    }
    case 'countn': {
      let n = 0;
      return wrap({ add: (v) => void (typeof v === 'number' && n++), result: () => n });
    }
    case 'sum': {
      let s: number | bigint = 0;
      let any = false;
      return wrap({
        add: (v) => {
          if (typeof v === 'number' && typeof s === 'number') {
            const r = s + v;
            // Exact while a double is; integer sums beyond 2^53 are redone in int64.
            s = r <= Number.MAX_SAFE_INTEGER && r >= -Number.MAX_SAFE_INTEGER ? r : arithmetic('+', s, v);
          } else if (isNumeric(v)) s = arithmetic('+', s, v);
          else return;
          any = true;
        },
        result: () => (any ? s : null),
      });
    }
    case 'avg':
    case 'mean': {
      let s = 0;
      let n = 0;
      return wrap({
        add: (v) => {
          if (isNumeric(v)) {
            s += Number(v);
            n++;
          }
        },
        result: () => (n ? s / n : null),
      });
    }
    case 'min':
    case 'max': {
      const sign = spec.name === 'min' ? -1 : 1;
      let best: Value = null;
      return wrap({
        add: (v) => {
          if (v === null || v === undefined) return;
          if (best === null || collate(v, best) * sign > 0) best = v;
        },
        result: () => best,
      });
    }
    case 'array_agg': {
      const out: Value[] = [];
      return wrap({
        add: (v) => void (v !== undefined && out.push(v)),
        // The server hands ARRAY_AGG's values back in collation order, DISTINCT or not.
        result: () => (out.length ? out.sort(collate) : null),
      });
    }
    case 'median': {
      const xs: number[] = [];
      return wrap({
        add: (v) => void (typeof v === 'number' && xs.push(v)),
        result: () => {
          if (!xs.length) return null;
          xs.sort((a, b) => a - b);
          const m = xs.length >> 1;
          return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
        },
      });
    }
    default: {
      // variance / stddev family
      const xs: number[] = [];
      const pop = spec.name.endsWith('_pop');
      const sd = spec.name.startsWith('stddev');
      return wrap({
        add: (v) => void (typeof v === 'number' && xs.push(v)),
        result: () => {
          const n = xs.length;
          if (n === 0) return null;
          // One value: the sample forms (_SAMP) have no variance, NULL; the rest (VARIANCE and STDDEV
          // included, and VAR_POP / VARIANCE_POP, one function under two names in the server) give 0.
          if (n === 1) return spec.name.endsWith('_samp') ? null : 0;
          const mean = xs.reduce((a, b) => a + b, 0) / n;
          const ss = xs.reduce((a, b) => a + (b - mean) ** 2, 0);
          const variance = ss / (pop ? n : n - 1);
          return sd ? Math.sqrt(variance) : variance;
        },
      });
    }
  }
}

