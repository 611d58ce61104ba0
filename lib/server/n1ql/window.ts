// Window functions (OVER): evaluated after grouping and HAVING, before the projection, over all
// the rows of the block at once. Each call partitions the rows, sorts each partition, and gives
// every row a value from its partition: a rank, a neighbour's value, or an aggregate over the
// row's frame (ROWS / RANGE / GROUPS, with EXCLUDE), as the Window Functions reference defines.
import type * as A from './ast';
import { makeAgg } from './aggregates';
import { QueryError } from './errors';
import type { Compiled, ExecContext, Row } from './row';
import { collate, truthy, type Value } from './value';

/** Functions that exist only as window functions (the aggregates take OVER too). */
export const WINDOW_ONLY = new Set(['row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'ratio_to_report', 'first_value', 'last_value', 'nth_value', 'lag', 'lead']);

/** Window functions whose window must have ORDER BY. */
const NEEDS_ORDER = new Set(['rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead']);
/** Window functions that take a frame clause (the aggregates do too). */
const TAKES_FRAME = new Set(['first_value', 'last_value', 'nth_value', 'ratio_to_report']);
/** Window functions that take RESPECT / IGNORE NULLS. */
const TAKES_NULLS = new Set(['first_value', 'last_value', 'nth_value', 'lag', 'lead']);
/** Window functions whose second argument must be a non-negative integer. */
const SECOND_POSINT = new Set(['nth_value', 'lag', 'lead']);

/** Couchbase's 3220 "<fn> window function <clause><reason>". */
function windowError(name: string, clause: string, reason: string): QueryError {
  return new QueryError(3220, `${name.toUpperCase()} window function ${clause}${reason}`);
}
export interface CompiledBound {
  kind: A.FrameBound['kind'];
  offset?: Compiled;
}

export interface WindowCall {
  name: string;
  args: Compiled[];
  distinct: boolean;
  star: boolean;
  filter?: Compiled;
  partition: Compiled[];
  order: { fn: Compiled; desc: boolean; nulls?: 'first' | 'last' }[];
  frame?: { unit: A.WindowFrame['unit']; start: CompiledBound; end: CompiledBound; exclude?: A.WindowFrame['exclude'] };
  fromLast: boolean;
  ignoreNulls: boolean;
}

/** The server's rewrite-phase error (6500) about a window name, its text the cause. */
function windowNameError(msg: string): QueryError {
  return new QueryError(6500, msg);
}

/**
 * `spec` may name `ref` only if it adds nothing `ref` already has: no PARTITION BY at all, no
 * ORDER BY over ref's, and (unless written bare, `OVER ref`) no frame inherited from ref.
 */
function checkReference(spec: A.WindowSpec, ref: string, base: A.WindowSpec): void {
  const clause = spec.partitionBy ? 'partitioning' : spec.orderBy && base.orderBy ? 'ordering' : !spec.bare && base.frame ? 'framing' : undefined;
  if (clause) throw windowNameError(`Window ${ref} shall not have a window ${clause} clause`);
}

/** The WINDOW clause's own rules, checked before any call uses it: unique names, no frame-only window, references to earlier windows. */
export function checkWindowClause(named: Record<string, A.WindowSpec> | undefined): void {
  if (!named) return;
  const seen: string[] = [];
  for (const name of Object.keys(named)) {
    const w = named[name];
    if (w.ref === undefined && !w.partitionBy && !w.orderBy && w.frame) throw windowNameError(`Only window frame clause is not allowed in named window: ${name}`);
    // Earlier windows were checked already: one step back is enough.
    if (w.ref !== undefined) {
      if (!seen.includes(w.ref)) throw windowNameError(`Window ${w.ref} not in the scope of window clause`);
      checkReference(w, w.ref, named[w.ref]);
    }
    seen.push(name);
  }
}

/** The window of a call: its OVER clause completed from the WINDOW clause it names. */
export function resolveWindow(name: string, spec: A.WindowSpec, named: Record<string, A.WindowSpec> | undefined): A.WindowSpec {
  if (spec.ref === undefined) return spec;
  const base = named?.[spec.ref];
  if (!base) throw windowNameError(`Window ${spec.ref} not in the scope of window clause`);
  checkReference(spec, spec.ref, base);
  const from = base.ref !== undefined && base.ref !== spec.ref ? resolveWindow(name, base, named) : base;
  // `OVER w` is w itself, its frame included; a refinement `OVER (w ...)` adds ORDER BY and a frame.
  return { partitionBy: from.partitionBy, orderBy: spec.orderBy ?? from.orderBy, frame: from.frame ?? spec.frame };
}

const isAggregate = (name: string): boolean => !WINDOW_ONLY.has(name);

const ARITY: Record<string, [number, number]> = {
  row_number: [0, 0], rank: [0, 0], dense_rank: [0, 0], percent_rank: [0, 0], cume_dist: [0, 0],
  ntile: [1, 1], ratio_to_report: [1, 1], first_value: [1, 1], last_value: [1, 1], nth_value: [2, 2], lag: [1, 3], lead: [1, 3],
};

/** A literal non-negative number (an integer unless `fraction`): what a frame offset or NTH_VALUE position must be. */
function validOffset(e: A.Expr, fraction: boolean): boolean {
  if (e.kind !== 'lit') return false;
  const v = e.value;
  return (typeof v === 'number' && v >= 0 && (fraction || Number.isInteger(v))) || (typeof v === 'bigint' && v >= 0n);
}

/** The checks Couchbase's semantic pass makes on a window function call, in its order and words. */
export function checkWindowCall(call: A.Expr & { kind: 'call' }, spec: A.WindowSpec): void {
  const name = call.name;
  const arity = ARITY[name];
  if (arity && (call.args.length < arity[0] || call.args.length > arity[1])) {
    throw new QueryError(3000, `Number of arguments to function ${name.toUpperCase()} must be ${arity[0] === arity[1] ? arity[0] : `between ${arity[0]} and ${arity[1]}`}.`);
  }
  if (call.distinct && !isAggregate(name)) throw windowError(name, '', 'DISTINCT is not allowed.');
  if (call.ignoreNulls !== undefined && !TAKES_NULLS.has(name)) throw windowError(name, 'NULLS clause ', 'is not allowed.');
  if (call.fromLast !== undefined && name !== 'nth_value') throw windowError(name, 'FROM clause ', 'is not allowed.');
  if (SECOND_POSINT.has(name) && call.args.length > 1 && call.args[1].kind === 'lit' && !validOffset(call.args[1], false)) {
    throw windowError(name, '', 'second value must be positive non zero integer.');
  }
  const order = spec.orderBy;
  const frame = spec.frame;
  if (!order || !frame) {
    if (frame) throw windowError(name, 'window frame ', 'is not allowed without ORDER BY.');
    if (!order && NEEDS_ORDER.has(name)) throw windowError(name, 'ORDER BY clause ', 'is required.');
    return;
  }
  if (!isAggregate(name) && !TAKES_FRAME.has(name)) throw windowError(name, 'window frame ', 'is not allowed.');
  const s = frame.start.kind;
  const e = frame.end.kind;
  if (frame.between) {
    if (s === 'unbounded-following' || e === 'unbounded-preceding') throw windowError(name, 'invlaid window frame.', '');
    if ((e === 'preceding' && s !== 'preceding' && s !== 'unbounded-preceding') || (s === 'following' && e !== 'following' && e !== 'unbounded-following')) {
      throw windowError(name, 'invlaid window frame.', '');
    }
  } else if (s === 'unbounded-following' || s === 'following') throw windowError(name, 'invlaid frame.', '');
  for (const b of [frame.start, frame.end]) {
    if ('offset' in b && !validOffset(b.offset, frame.unit === 'range')) throw windowError(name, 'window frame ', 'value expression is invalid.');
  }
  if (order.length > 1 && frame.unit === 'range') {
    const startOk = s === 'unbounded-preceding' || s === 'current';
    const ok = frame.between ? startOk && (e === 'current' || e === 'unbounded-following') : startOk;
    if (!ok) throw windowError(name, '', 'multiple ORDER BY terms are not allowed.');
  }
}

const unknown = (v: Value): boolean => v === undefined || v === null;

interface Keyed {
  row: Row;
  i: number;
  part: Value[];
  keys: Value[];
}

function comparePartition(a: Value[], b: Value[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = collate(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

/**
 * Computes `call` for every row, passing each row's value to `set`. Like the server's window
 * operator, it sorts the rows by PARTITION BY then ORDER BY: `rows` is left in that order, which
 * is the order results come out in when the statement has no ORDER BY of its own.
 */
export function computeWindow(call: WindowCall, rows: Row[], ctx: ExecContext, set: (row: Row, v: Value) => void): void {
  const keyed: Keyed[] = rows.map((row, i) => ({ row, i, part: call.partition.map((p) => p(row, ctx)), keys: call.order.map((o) => o.fn(row, ctx)) }));
  let n = 0;
  keyed.sort((a, b) => {
    if ((++n & 4095) === 0) ctx.checkDeadline();
    return comparePartition(a.part, b.part) || compareKeys(a.keys, b.keys, call.order) || a.i - b.i;
  });
  for (let i = 0; i < keyed.length; i++) rows[i] = keyed[i].row;
  let start = 0;
  for (let i = 1; i <= keyed.length; i++) {
    if (i === keyed.length || comparePartition(keyed[start].part, keyed[i].part) !== 0) {
      ctx.checkDeadline();
      evaluatePartition(call, keyed.slice(start, i), ctx, set);
      start = i;
    }
  }
}

/** ORDER BY order: ascending puts MISSING and NULL first, descending last (unless NULLS says otherwise). */
function compareKeys(a: Value[], b: Value[], order: WindowCall['order']): number {
  for (let i = 0; i < order.length; i++) {
    const t = order[i];
    const x = a[i];
    const y = b[i];
    if (t.nulls) {
      const xn = unknown(x);
      const yn = unknown(y);
      if (xn !== yn) return xn === (t.nulls === 'first') ? -1 : 1;
    }
    const c = collate(x, y);
    if (c !== 0) return t.desc ? -c : c;
  }
  return 0;
}

/** One partition, its rows already in ORDER BY order. */
function evaluatePartition(call: WindowCall, keyed: Keyed[], ctx: ExecContext, set: (row: Row, v: Value) => void): void {
  const n = keyed.length;
  const rows = keyed.map((k) => k.row);
  // Peer groups: rows with equal ORDER BY keys (all rows when there is no ORDER BY).
  const groupOf = new Array<number>(n);
  const groupStarts: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i === 0 || (call.order.length && compareKeys(keyed[i - 1].keys, keyed[i].keys, call.order) !== 0)) groupStarts.push(i);
    groupOf[i] = groupStarts.length - 1;
  }
  groupStarts.push(n);
  const gStart = (g: number): number => groupStarts[Math.max(0, Math.min(g, groupStarts.length - 1))];
  const peersStart = (i: number): number => groupStarts[groupOf[i]];
  const peersEnd = (i: number): number => groupStarts[groupOf[i] + 1];

  const arg = (k: number, i: number): Value => (call.args[k] ? call.args[k](rows[i], ctx) : undefined);

  switch (call.name) {
    case 'row_number':
      rows.forEach((r, i) => set(r, i + 1));
      return;
    case 'rank':
      rows.forEach((r, i) => set(r, peersStart(i) + 1));
      return;
    case 'dense_rank':
      rows.forEach((r, i) => set(r, groupOf[i] + 1));
      return;
    case 'percent_rank':
      rows.forEach((r, i) => set(r, n > 1 ? peersStart(i) / (n - 1) : 0));
      return;
    case 'cume_dist':
      rows.forEach((r, i) => set(r, peersEnd(i) / n));
      return;
    case 'ntile': {
      rows.forEach((r, i) => {
        const k = arg(0, i);
        if (typeof k !== 'number' || !Number.isInteger(k) || k <= 0) {
          set(r, null);
          return;
        }
        const q = Math.floor(n / k);
        const rem = n % k;
        const big = rem * (q + 1);
        set(r, q === 0 ? i + 1 : i < big ? Math.floor(i / (q + 1)) + 1 : rem + Math.floor((i - big) / q) + 1);
      });
      return;
    }
    case 'lag':
    case 'lead': {
      const dir = call.name === 'lag' ? -1 : 1;
      rows.forEach((r, i) => {
        const off = call.args[1] ? arg(1, i) : 1;
        if (typeof off !== 'number' || !Number.isInteger(off) || off < 0) {
          set(r, null);
          return;
        }
        let j = i;
        let steps = off;
        if (!call.ignoreNulls) j = i + dir * off;
        else {
          while (steps > 0) {
            j += dir;
            if (j < 0 || j >= n) break;
            if (!unknown(arg(0, j))) steps--;
          }
        }
        if (j >= 0 && j < n) set(r, arg(0, j));
        else set(r, call.args[2] ? arg(2, i) : null);
      });
      return;
    }
  }

  // Frame-based: FIRST_VALUE, LAST_VALUE, NTH_VALUE, RATIO_TO_REPORT and the aggregates.
  // Without a frame: with ORDER BY, the rows up to the current row's last peer (RATIO_TO_REPORT
  // too, since it takes ORDER BY and frames like an aggregate); without, the whole partition.
  const frame = call.frame ?? (call.order.length
    ? { unit: 'range' as const, start: { kind: 'unbounded-preceding' as const }, end: { kind: 'current' as const } }
    : { unit: 'rows' as const, start: { kind: 'unbounded-preceding' as const }, end: { kind: 'unbounded-following' as const } });
  const offset = (b: CompiledBound, i: number): number => {
    const v = b.offset!(rows[i], ctx);
    if (typeof v !== 'number' || v < 0 || (frame.unit !== 'range' && !Number.isInteger(v))) {
      throw new QueryError(5340, `Invalid window frame offset ${JSON.stringify(v ?? null)} for ${call.name.toUpperCase()}: must be a non-negative ${frame.unit === 'range' ? 'number' : 'integer'}.`);
    }
    return v;
  };
  const rangeKey = (i: number): Value => keyed[i].keys[0];
  const desc = call.order[0]?.desc ?? false;
  const rangeHasOffset = frame.unit === 'range' && [frame.start, frame.end].some((b) => b.kind === 'preceding' || b.kind === 'following');
  /**
   * For RANGE offsets: the first index whose key lies more than `d` after row i's in sort order
   * (`past`), or at least `d` after it (not `past`). Rows without a numeric key frame their peers.
   */
  const firstFrom = (i: number, d: number, past: boolean): number => {
    const base = rangeKey(i);
    if (typeof base !== 'number') return (past ? d < 0 : d <= 0) ? peersStart(i) : peersEnd(i);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const k = rangeKey(mid);
      const dist = typeof k === 'number' ? (desc ? base - k : k - base) : (collate(k, base) < 0) !== desc ? -Infinity : Infinity;
      if (past ? dist <= d : dist < d) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const firstAtLeast = (i: number, d: number): number => firstFrom(i, d, false);
  const lastAtMost = (i: number, d: number): number => firstFrom(i, d, true);
  const bounds = (i: number): [number, number] => {
    let lo: number;
    let hi: number;
    const s = frame.start;
    const e = frame.end;
    if (frame.unit === 'rows') {
      lo = s.kind === 'unbounded-preceding' ? 0 : s.kind === 'current' ? i : s.kind === 'preceding' ? i - offset(s, i) : s.kind === 'following' ? i + offset(s, i) : n;
      hi = e.kind === 'unbounded-following' ? n : e.kind === 'current' ? i + 1 : e.kind === 'preceding' ? i - offset(e, i) + 1 : e.kind === 'following' ? i + offset(e, i) + 1 : 0;
    } else if (frame.unit === 'groups') {
      const g = groupOf[i];
      lo = s.kind === 'unbounded-preceding' ? 0 : s.kind === 'current' ? gStart(g) : s.kind === 'preceding' ? gStart(g - offset(s, i)) : s.kind === 'following' ? gStart(g + offset(s, i)) : n;
      hi = e.kind === 'unbounded-following' ? n : e.kind === 'current' ? gStart(g + 1) : e.kind === 'preceding' ? gStart(g - offset(e, i) + 1) : e.kind === 'following' ? gStart(g + offset(e, i) + 1) : 0;
    } else {
      // A value-offset RANGE frame measures distances from the row's sort key: a row whose key is
      // not a number (MISSING, NULL, true, ...) has no such frame at all, not even itself.
      if (rangeHasOffset && typeof rangeKey(i) !== 'number') return [0, 0];
      lo = s.kind === 'unbounded-preceding' ? 0 : s.kind === 'current' ? peersStart(i) : s.kind === 'preceding' ? firstAtLeast(i, -offset(s, i)) : s.kind === 'following' ? firstAtLeast(i, offset(s, i)) : n;
      hi = e.kind === 'unbounded-following' ? n : e.kind === 'current' ? peersEnd(i) : e.kind === 'preceding' ? lastAtMost(i, -offset(e, i)) : e.kind === 'following' ? lastAtMost(i, offset(e, i)) : 0;
    }
    return [Math.max(0, Math.min(lo, n)), Math.max(0, Math.min(hi, n))];
  };
  const excluded = (i: number, j: number): boolean => {
    switch (frame.exclude) {
      case 'current':
        return j === i;
      case 'group':
        return groupOf[j] === groupOf[i];
      case 'ties':
        return j !== i && groupOf[j] === groupOf[i];
      default:
        return false;
    }
  };
  const frameRows = (i: number): number[] => {
    const [lo, hi] = bounds(i);
    const out: number[] = [];
    for (let j = lo; j < hi; j++) if (!excluded(i, j)) out.push(j);
    return out;
  };

  if (call.name === 'first_value' || call.name === 'last_value' || call.name === 'nth_value') {
    rows.forEach((r, i) => {
      let idx = frameRows(i);
      if (call.ignoreNulls) idx = idx.filter((j) => !unknown(arg(0, j)));
      let pos: number;
      if (call.name === 'first_value') pos = 0;
      else if (call.name === 'last_value') pos = idx.length - 1;
      else {
        const k = arg(1, i);
        if (typeof k !== 'number' || !Number.isInteger(k) || k <= 0) throw new QueryError(5340, `Invalid NTH_VALUE position ${JSON.stringify(k ?? null)}: must be a positive integer.`);
        pos = call.fromLast ? idx.length - k : k - 1;
      }
      set(r, pos >= 0 && pos < idx.length ? arg(0, idx[pos]) : null);
    });
    return;
  }

  if (call.name === 'ratio_to_report') {
    rows.forEach((r, i) => {
      const v = arg(0, i);
      let sum = 0;
      for (const j of frameRows(i)) {
        const x = arg(0, j);
        if (typeof x === 'number') sum += x;
      }
      set(r, typeof v === 'number' && sum !== 0 ? v / sum : null);
    });
    return;
  }

  // Aggregates over the frame.
  const spec = { name: call.name, distinct: call.distinct, star: call.star };
  const valueAt = (j: number): Value | typeof SKIP => {
    if (call.filter && !truthy(call.filter(rows[j], ctx))) return SKIP;
    return call.star ? 1 : arg(0, j);
  };
  const snapshot = (v: Value): Value => (Array.isArray(v) ? v.slice() : v);
  const whole = frame.start.kind === 'unbounded-preceding' && frame.end.kind === 'unbounded-following' && !frame.exclude;
  if (whole) {
    const st = makeAgg(spec);
    for (let j = 0; j < n; j++) {
      const v = valueAt(j);
      if (v !== SKIP) st.add(v);
    }
    const res = st.result();
    rows.forEach((r) => set(r, snapshot(res)));
    return;
  }
  const running = frame.start.kind === 'unbounded-preceding' && !frame.exclude && (frame.end.kind === 'current' || (frame.end.kind === 'following' && frame.unit === 'rows'));
  if (running) {
    // Frames that all start at the first row grow monotonically: one state, fed row by row.
    const st = makeAgg(spec);
    let fed = 0;
    rows.forEach((r, i) => {
      const [, hi] = bounds(i);
      for (; fed < hi; fed++) {
        const v = valueAt(fed);
        if (v !== SKIP) st.add(v);
      }
      set(r, snapshot(st.result()));
    });
    return;
  }
  rows.forEach((r, i) => {
    const st = makeAgg(spec);
    for (const j of frameRows(i)) {
      const v = valueAt(j);
      if (v !== SKIP) st.add(v);
    }
    set(r, st.result());
  });
}

const SKIP = Symbol('skip');
