// Array functions. The array argument decides first: MISSING gives MISSING and anything but an
// array gives NULL; the other arguments may be NULL (ARRAY_APPEND([1], NULL) is [1, null]), and a
// MISSING one gives MISSING.
import { collate, equals, isObject, sortedObject, getField, valueKey, type Value } from '../value';
import { QueryError, ErrorCode } from '../errors';
import { family, def, INF, isArr, isInt, isNum, type FunctionContext, type FunctionDef } from './registry';

family({ floatArgs: false });

/** Couchbase's array-function rule around `f`, which sees the array and the other arguments. */
function arr(f: (a: Value[], rest: Value[], ctx: FunctionContext) => Value): FunctionDef['fn'] {
  return (args, ctx) => {
    for (const a of args) if (a === undefined) return undefined;
    return isArr(args[0]) ? f(args[0], args.slice(1), ctx) : null;
  };
}
const defArr = (names: string, min: number, max: number, f: (a: Value[], rest: Value[], ctx: FunctionContext) => Value): void => def(names, min, max, arr(f), false);
const numbersOf = (a: Value[]): number[] => a.filter(isNum);

/**
 * The keys of `a`'s non-NULL elements, for set operations in linear time (`equals` compared each
 * pair: ARRAY_EXCEPT of two 10^6-element arrays held the event loop for hours).
 */
function keySet(a: Value[]): Set<string> {
  const set = new Set<string>();
  for (const x of a) if (x !== null && x !== undefined) set.add(valueKey(x));
  return set;
}

export function distinctValues(a: Value[]): Value[] {
  const seen = new Set<string>();
  const out: Value[] = [];
  for (const v of a) {
    const k = valueKey(v);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(v);
    }
  }
  return out;
}

/** A position in `a` (negative counts from the end), or undefined when outside [0, limit]. */
function index(a: Value[], p: Value, limit = a.length - 1): number | undefined {
  if (!isInt(p)) return undefined;
  const i = p < 0 ? a.length + p : p;
  return i >= 0 && i <= limit ? i : undefined;
}

defArr('array_append', 2, INF, (a, rest) => [...a, ...rest]);
def('array_prepend', 2, INF, (args) => {
  for (const x of args) if (x === undefined) return undefined;
  const a = args[args.length - 1];
  return isArr(a) ? [...args.slice(0, -1), ...a] : null;
}, false);
defArr('array_avg', 1, 1, (a) => {
  const n = numbersOf(a);
  return n.length ? n.reduce((x, y) => x + y, 0) / n.length : null;
});
defArr('array_sum', 1, 1, (a) => numbersOf(a).reduce((x, y) => x + y, 0));
defArr('array_count', 1, 1, (a) => a.filter((x) => x !== null && x !== undefined).length);
defArr('array_length', 1, 1, (a) => a.length);
def('array_concat', 2, INF, (args) => (args.every(isArr) ? ([] as Value[]).concat(...(args as Value[][])) : null));
defArr('array_contains', 2, 2, (a, [v]) => a.some((x) => equals(x, v)));
// ARRAY_CONTAINS_ALL / _ANY(arr, values): every / some element of `values` (an array, or one
// value standing for itself) is in `arr`; NULL values give NULL.
const wanted = (v: Value): Value[] => (isArr(v) ? v : [v]);
defArr('array_contains_all', 2, 2, (a, [v]) => (v === null ? null : wanted(v).every((w) => a.some((x) => equals(x, w)))));
defArr('array_contains_any', 2, 2, (a, [v]) => (v === null ? null : wanted(v).some((w) => a.some((x) => equals(x, w)))));
defArr('array_distinct', 1, 1, (a) => distinctValues(a.filter((x) => x !== undefined)));
defArr('array_flatten', 2, 2, (a, [d]) => (isInt(d) ? flatten(a, d < 0 ? INF : d) : null));
defArr('array_ifnull', 1, 1, (a) => a.find((x) => x !== null && x !== undefined) ?? null);
defArr('array_insert', 3, INF, (a, [p, ...vals]) => {
  const i = index(a, p, a.length);
  return i === undefined ? null : [...a.slice(0, i), ...vals, ...a.slice(i)];
});
def('array_intersect', 2, INF, (args) => {
  if (!args.every(isArr)) return null;
  const [first, ...rest] = args as Value[][];
  const sets = rest.map(keySet);
  return distinctValues(first.filter((x) => x !== null && x !== undefined && sets.every((set) => set.has(valueKey(x)))));
});
defArr('array_max', 1, 1, (a) => extreme(a, 1));
defArr('array_min', 1, 1, (a) => extreme(a, -1));
defArr('array_position,array_pos', 2, 2, (a, [v]) => a.findIndex((x) => equals(x, v)));
defArr('array_put,array_add,array_upsert', 2, INF, (a, vals) => {
  const out = [...a];
  for (const v of vals) if (!out.some((x) => equals(x, v))) out.push(v);
  return out;
});
def('array_range', 2, 3, ([s, e, step], ctx) => {
  if (!isNum(s) || !isNum(e) || (step !== undefined && !isNum(step))) return null;
  const st = step ?? 1;
  if (st === 0 || !Number.isFinite(st) || s === e || (st > 0 && s > e) || (st < 0 && s < e)) return [];
  // As the query service does: the size is checked before anything is built, so a huge range
  // costs nothing (it used to hold the event loop for seconds, building up to 2^24 elements).
  if (Math.abs(e - s) / Math.abs(st) > RANGE_LIMIT) throw new QueryError(ErrorCode.RANGE, 'Out of range evaluating ARRAY_RANGE().');
  const out: number[] = [];
  for (let x = s; st > 0 ? x < e : x > e; x += st) {
    ctx.checkDeadline();
    out.push(x);
  }
  return out;
});
/** The most elements ARRAY_RANGE builds: the query service's RANGE_LIMIT, 2^20. */
const RANGE_LIMIT = 1 << 20;
/** The most elements ARRAY_REPEAT builds (more gives NULL). */
const REPEAT_LIMIT = 1 << 24;
defArr('array_remove', 2, INF, (a, vals) => a.filter((x) => !vals.some((v) => equals(x, v))));
def('array_repeat', 2, 2, ([v, n]) => {
  if (v === undefined || n === undefined) return undefined;
  return isInt(n) && n >= 0 && n <= REPEAT_LIMIT ? Array.from({ length: n }, () => v) : null;
}, false);
defArr('array_replace', 3, 4, (a, [from, to, n]) => {
  if (n !== undefined && !isInt(n)) return null;
  let left = n === undefined || n < 0 ? INF : n;
  return a.map((x) => (left > 0 && equals(x, from) ? (left--, to) : x));
});
defArr('array_reverse', 1, 1, (a) => [...a].reverse());
defArr('array_sort', 1, 1, (a) => [...a].sort(collate));
def('array_union', 2, INF, (args) => (args.every(isArr) ? distinctValues(([] as Value[]).concat(...(args as Value[][]))) : null));
def('array_except', 2, 2, ([a, b]) => {
  if (!isArr(a) || !isArr(b)) return null;
  const drop = keySet(b);
  return a.filter((x) => x === null || x === undefined || !drop.has(valueKey(x)));
});
/** Elements found in exactly one input array (SYMDIFF1) or in an odd number of them (SYMDIFFN). */
function symdiff(keep: (count: number) => boolean): FunctionDef['fn'] {
  return (args) => {
    if (!args.every(isArr)) return null;
    const counts = new Map<string, { v: Value; n: number }>();
    for (const a of args as Value[][]) {
      for (const v of distinctValues(a)) {
        const k = valueKey(v);
        const c = counts.get(k);
        if (c) c.n++;
        else counts.set(k, { v, n: 1 });
      }
    }
    return [...counts.values()].filter((c) => keep(c.n)).map((c) => c.v);
  };
}
def('array_symdiff,array_symdiff1', 2, INF, symdiff((n) => n === 1));
def('array_symdiffn', 2, INF, symdiff((n) => n % 2 === 1));
defArr('array_star', 1, 1, (a) => starObject(a));
defArr('array_swap', 3, 3, (a, [p, q]) => {
  const i = index(a, p);
  const j = index(a, q);
  if (i === undefined || j === undefined) return null;
  const out = [...a];
  [out[i], out[j]] = [out[j], out[i]];
  return out;
});
defArr('array_move', 3, 3, (a, [p, q]) => {
  const i = index(a, p);
  const j = index(a, q);
  if (i === undefined || j === undefined) return null;
  const out = [...a];
  const [x] = out.splice(i, 1);
  out.splice(j, 0, x);
  return out;
});
// The first (leftmost) position of the value in a sorted array, or -1. The value is looked up
// by collation, so NULL finds the first NULL and MISSING the first MISSING element (or -1).
def('array_binary_search', 2, 2, ([a, v]) => {
  if (a === undefined) return undefined;
  if (!isArr(a)) return null;
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (collate(a[mid], v) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo < a.length && collate(a[lo], v) === 0 ? lo : -1;
}, false);

function flatten(a: Value[], depth: number): Value[] {
  const out: Value[] = [];
  for (const v of a) {
    if (isArr(v) && depth > 0) out.push(...flatten(v, depth - 1));
    else out.push(v);
  }
  return out;
}

export function extreme(a: Value[], sign: number): Value {
  let best: Value = null;
  for (const v of a) {
    if (v === null || v === undefined) continue;
    if (best === null || collate(v, best) * sign > 0) best = v;
  }
  return best;
}

/** `arr[*]` on an array of objects: one object whose fields are arrays of the elements' fields. */
export function starObject(a: Value[]): Value {
  const names = new Set<string>();
  for (const v of a) if (isObject(v)) for (const k of Object.keys(v)) names.add(k);
  const out: [string, Value][] = [];
  for (const k of names) out.push([k, a.map((v) => (isObject(v) ? getField(v, k) ?? null : null))]);
  return sortedObject(out);
}
