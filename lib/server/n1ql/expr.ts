// Compiles expression trees into closures once per statement, so evaluating an expression on a
// row is a few function calls, not a tree walk with a switch per node.
import type * as A from './ast';
import { QueryError, ErrorCode, EvaluationCause, evaluationError, nearText } from './errors';
import { arithmetic, fromBig, isNumeric, negate, type ArithOp } from './int64';
import { compileLike, type LikeMatcher } from './like';
import { checkWindowCall, resolveWindow, WINDOW_ONLY, type CompiledBound, type WindowCall } from './window';
import { formatExpr, mapChildren } from './format';
import { collect, hasValue, type Pause } from './pause';
import { distinctValues, lookupFunction, starObject } from './functions/index';
import { compileSearch, compileSearchMeta } from './search';
import { collate, comparison, equality, equals, getField, isObject, logical, rank, Rank, setField, sortedObject, truthy, type ObjectValue, type Value } from './value';

export type { AggregateSpec, Compiled, DocMeta, ExecContext, Row, Vars } from './row';
import type { AggregateSpec, Compiled, DocMeta, ExecContext, Row, Vars } from './row';

export interface Scope {
  /** Variables visible here (aliases, LET, FOR variables, outer query's too). */
  names: Set<string>;
  /** The alias unqualified names resolve against (only when FROM has exactly one term). */
  implicit?: string;
  /** FROM has several terms (joins, UNNEST): META() must then name one. */
  multipleFrom?: boolean;
  /** Where aggregates are collected; undefined where aggregates are not allowed. */
  aggregates?: AggregateSpec[];
  /** Where window function calls are collected (projection, ORDER BY); undefined where they are not allowed. */
  windows?: { calls: WindowCall[]; named?: Record<string, A.WindowSpec> };
  /** The clause being compiled, for Couchbase's errors about aggregates and window functions out of place. */
  clause?: Clause;
  /** Inside an aggregate or window function's arguments: where that call was written. */
  enclosing?: A.SourcePos;
  /** Inside a subquery that reads the enclosing query's names (the server refuses large primary scans there, 5370). */
  correlated?: boolean;
  /** Compiles a subquery correlated to this scope; returns its result values for a row. */
  subquery(q: A.SelectStatement, scope: Scope): (row: Row, ctx: ExecContext) => Iterable<Value | Pause>;
  /** NEXT / PREV VALUE FOR a sequence, ready to evaluate. */
  sequence?(e: A.Expr & { kind: 'sequence' }): Compiled;
  /** The user-defined function a call names (after the built-in functions), ready to call; undefined when none. */
  udf?(call: A.Expr & { kind: 'call' }): ((args: Value[], ctx: ExecContext) => Value) | undefined;
  /** Compiling a WHERE or ON condition, the only places SEARCH() may appear (see ./search). */
  searchable?: boolean;
}

export type Clause = 'WHERE' | 'LET' | 'GROUP BY' | 'LETTING' | 'HAVING' | 'ORDER BY' | 'DML' | 'aggregate' | 'window';

/** The planner's errors (4000) for an aggregate where the clause allows none. */
function aggregateOutOfPlace(e: A.Expr & { kind: 'call' }, scope: Scope): QueryError {
  switch (scope.clause) {
    case 'aggregate':
      return new QueryError(ErrorCode.PLAN, `Nested aggregates are not allowed${nearText(scope.enclosing)}.`);
    case 'WHERE':
    case 'LET':
    case 'GROUP BY':
      return new QueryError(ErrorCode.PLAN, `Aggregates not allowed in ${scope.clause}${nearText(e.at)}.`);
    case 'ORDER BY':
      return new QueryError(ErrorCode.PLAN, `Aggregates not available for this ORDER BY${nearText(e.at)}.`);
    case 'DML':
      return new QueryError(ErrorCode.SEMANTIC, 'Aggregates/Window functions are allowed in SELECT only');
    default:
      return new QueryError(ErrorCode.SEMANTIC, `Aggregate function ${e.name.toUpperCase()} is not allowed here.`);
  }
}

/** The errors for a window function where the clause allows none. */
function windowOutOfPlace(e: A.Expr & { kind: 'call' }, scope: Scope): QueryError {
  switch (scope.clause) {
    case 'aggregate':
      return new QueryError(ErrorCode.PLAN, `Window aggregates are not allowed inside Aggregates${nearText(scope.enclosing)}.`);
    case 'window':
      return new QueryError(ErrorCode.PLAN, `Window aggregates are not allowed inside Window Aggregates${nearText(scope.enclosing)}.`);
    case 'WHERE':
    case 'LET':
    case 'GROUP BY':
    case 'LETTING':
    case 'HAVING':
      return new QueryError(ErrorCode.PLAN, `Window Aggregates not allowed in ${scope.clause}${nearText(e.at)}.`);
    case 'DML':
      return new QueryError(ErrorCode.SEMANTIC, 'Aggregates/Window functions are allowed in SELECT only');
    default:
      return new QueryError(3220, `${e.name.toUpperCase()} window function is not allowed here.`);
  }
}

const MAX_FUNCTION_ARGS = 32767;

export const AGGREGATES = new Set(['count', 'countn', 'sum', 'avg', 'min', 'max', 'array_agg', 'median', 'stddev', 'stddev_samp', 'stddev_pop', 'variance', 'var_samp', 'var_pop', 'variance_samp', 'variance_pop', 'mean']);

export function childScope(scope: Scope, names: Iterable<string>): Scope {
  const s: Scope = { ...scope, names: new Set(scope.names) };
  for (const n of names) s.names.add(n);
  return s;
}

export function field(v: Value, name: string): Value {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? getField(v as ObjectValue, name) : undefined;
}

/** `` `name`i ``: the field whose name equals `name` without regard to case (an exact match first). */
export function fieldIgnoringCase(v: Value, name: string): Value {
  if (!isObject(v)) return undefined;
  if (Object.hasOwn(v, name)) return v[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(v)) if (k.toLowerCase() === lower) return v[k];
  return undefined;
}

/** The hidden variable holding an UNNEST alias's position (UNNEST_POS). */
export function unnestPosition(alias: string): string {
  return '\u0000pos:' + alias;
}

/** `fn` with an evaluation failure reported as Couchbase reports it for `term` (5010). */
export function guard(term: string, fn: Compiled): Compiled {
  return (row, ctx) => {
    try {
      return fn(row, ctx);
    } catch (err) {
      if (err instanceof EvaluationCause) throw evaluationError(err, term);
      throw err;
    }
  };
}

export function metaObject(m: DocMeta | undefined, ks?: string): Value {
  if (!m) return undefined;
  const out: ObjectValue = {
    cas: fromBig(m.cas),
    expiration: m.expiry,
    flags: m.flags,
    id: m.id,
  };
  if (ks) out.keyspace = ks;
  out.type = m.datatype & 1 ? 'json' : 'base64';
  return out;
}

export function compile(e: A.Expr, scope: Scope): Compiled {
  switch (e.kind) {
    case 'lit': {
      const v = e.value;
      return () => v;
    }
    case 'ident': {
      let name = e.name;
      if (e.ci && !scope.names.has(name)) {
        const lower = name.toLowerCase();
        for (const n of scope.names) if (n.toLowerCase() === lower) name = n;
      }
      if (scope.names.has(name)) return (row) => row.vars[name];
      const imp = scope.implicit;
      if (imp !== undefined) return e.ci ? (row) => fieldIgnoringCase(row.vars[imp], name) : (row) => field(row.vars[imp], name);
      // Several FROM terms: a bare name could be a field of any of them (Couchbase's formalizer refuses it).
      if (scope.multipleFrom) throw new QueryError(ErrorCode.AMBIGUOUS_REFERENCE, `Ambiguous reference to field '${name}'${nearText(e.at)}.`);
      return () => undefined;
    }
    case 'field': {
      if (e.target.kind === 'call' && e.target.name === 'meta' && (e.name === 'id' || e.name === 'cas' || e.name === 'expiration')) {
        // META(x).id and friends without building the whole META object per row
        const alias = metaAlias(e.target, scope);
        if (alias === undefined) return () => undefined;
        if (e.name === 'id') return (row) => row.metas[alias]?.id;
        if (e.name === 'cas') return (row) => (row.metas[alias] ? fromBig(row.metas[alias].cas) : undefined);
        return (row) => row.metas[alias]?.expiry;
      }
      const t = compile(e.target, scope);
      const name = e.name;
      if (e.ci) return (row, ctx) => fieldIgnoringCase(t(row, ctx), name);
      return (row, ctx) => field(t(row, ctx), name);
    }
    case 'index': {
      const t = compile(e.target, scope);
      const i = compile(e.index, scope);
      return (row, ctx) => {
        const target = t(row, ctx);
        const idx = i(row, ctx);
        if (typeof idx === 'number') {
          if (!Array.isArray(target)) return undefined;
          const k = Math.trunc(idx) < 0 ? target.length + Math.trunc(idx) : Math.trunc(idx);
          return target[k];
        }
        if (typeof idx === 'string') return field(target, idx);
        return idx === null ? null : undefined;
      };
    }
    case 'slice': {
      const t = compile(e.target, scope);
      const from = e.from ? compile(e.from, scope) : () => 0;
      const to = e.to ? compile(e.to, scope) : undefined;
      return (row, ctx) => {
        const a = t(row, ctx);
        if (!Array.isArray(a)) return a === undefined ? undefined : null;
        const f = from(row, ctx);
        const tv = to ? to(row, ctx) : a.length;
        if (typeof f !== 'number' || typeof tv !== 'number') return null;
        const s = f < 0 ? a.length + f : f;
        const en = tv < 0 ? a.length + tv : tv;
        if (s < 0 || en > a.length || s > en) return null;
        return a.slice(s, en);
      };
    }
    case 'star': {
      const t = compile(e.target, scope);
      return (row, ctx) => {
        const a = t(row, ctx);
        if (Array.isArray(a)) return starObject(a);
        if (isObject(a)) return a;
        return a === undefined ? undefined : null;
      };
    }
    case 'param': {
      const name = e.name;
      if (/^\d+$/.test(name)) {
        const i = Number(name) - 1;
        return (_, ctx) => {
          if (i >= ctx.positional.length) throw new EvaluationCause(`No value for positional parameter $${name}.`);
          return ctx.positional[i];
        };
      }
      // Own properties only: `$__proto__` or `$constructor` name nothing unless the request set them.
      return (_, ctx) => {
        if (!Object.hasOwn(ctx.named, name)) throw new EvaluationCause(`No value for named parameter $${name}.`);
        return ctx.named[name];
      };
    }
    case 'binary':
      return compileBinary(e.op, compile(e.left, scope), compile(e.right, scope));
    case 'and': {
      const args = e.args.map((a) => compile(a, scope));
      return (row, ctx) => {
        let missing = false;
        let nul = false;
        for (const a of args) {
          const v = logical(a(row, ctx));
          if (v === false) return false;
          if (v === undefined) missing = true;
          else if (v === null) nul = true;
        }
        return missing ? undefined : nul ? null : true;
      };
    }
    case 'or': {
      const args = e.args.map((a) => compile(a, scope));
      return (row, ctx) => {
        let missing = false;
        let nul = false;
        for (const a of args) {
          const v = logical(a(row, ctx));
          if (v === true) return true;
          if (v === undefined) missing = true;
          else if (v === null) nul = true;
        }
        return nul ? null : missing ? undefined : false;
      };
    }
    case 'not': {
      const a = compile(e.arg, scope);
      return (row, ctx) => {
        const v = logical(a(row, ctx));
        return v === undefined || v === null ? v : !v;
      };
    }
    case 'neg': {
      const a = compile(e.arg, scope);
      return (row, ctx) => {
        const v = a(row, ctx);
        return isNumeric(v) ? negate(v) : v === undefined ? undefined : null;
      };
    }
    case 'is': {
      const a = compile(e.arg, scope);
      const not = e.not;
      switch (e.what) {
        case 'missing':
          return (row, ctx) => (a(row, ctx) === undefined) !== not;
        case 'valued':
          return (row, ctx) => {
            const v = a(row, ctx);
            return (v !== undefined && v !== null) !== not;
          };
        case 'null':
          return (row, ctx) => {
            const v = a(row, ctx);
            if (v === undefined) return undefined;
            return (v === null) !== not;
          };
      }
      break;
    }
    case 'between': {
      const a = compile(e.arg, scope);
      const lo = compile(e.low, scope);
      const hi = compile(e.high, scope);
      const not = e.not;
      return (row, ctx) => {
        const v = a(row, ctx);
        const l = lo(row, ctx);
        const h = hi(row, ctx);
        if (v === undefined || l === undefined || h === undefined) return undefined;
        if (v === null || l === null || h === null) return null;
        const cl = comparison(v, l);
        const ch = comparison(v, h);
        // AND of the two bounds: one FALSE decides; else an unknown bound makes it unknown.
        if ((typeof cl === 'number' && cl < 0) || (typeof ch === 'number' && ch > 0)) return not;
        if (typeof cl !== 'number' || typeof ch !== 'number') return cl === undefined || ch === undefined ? undefined : null;
        return !not;
      };
    }
    case 'like':
      return compileLikeExpr(e, scope);
    case 'in': {
      const a = compile(e.arg, scope);
      const list = compile(e.list, scope);
      const not = e.not;
      const within = e.within;
      return (row, ctx) => {
        const v = a(row, ctx);
        const l = list(row, ctx);
        if (v === undefined || l === undefined) return undefined;
        if (!Array.isArray(l) && !(within && isObject(l))) return null;
        if (v === null && within) return null;
        // A NULL or MISSING element (or a NULL left side against any element) leaves IN unknown
        // when nothing matched: NULL IN [] is FALSE, NULL IN [1] is NULL.
        let nul = false;
        let missing = false;
        const scan = (arr: Value[]): boolean => {
          for (const x of arr) {
            if (x === undefined) missing = true;
            else if (x === null || v === null) nul = true;
            else if (equals(v, x)) return true;
            if (within && (Array.isArray(x) || isObject(x)) && scan(Array.isArray(x) ? x : Object.values(x))) return true;
          }
          return false;
        };
        const found = scan(Array.isArray(l) ? l : Object.values(l));
        if (found) return !not;
        if (!within && (nul || missing)) return nul ? null : undefined;
        return not;
      };
    }
    case 'case': {
      const whens = e.whens.map((w) => ({ when: compile(w.when, scope), then: compile(w.then, scope) }));
      const otherwise = e.else ? compile(e.else, scope) : () => null;
      if (e.subject) {
        const subj = compile(e.subject, scope);
        return (row, ctx) => {
          const s = subj(row, ctx);
          for (const w of whens) {
            const x = w.when(row, ctx);
            if (s !== undefined && s !== null && x !== undefined && x !== null && equals(s, x)) return w.then(row, ctx);
          }
          return otherwise(row, ctx);
        };
      }
      return (row, ctx) => {
        for (const w of whens) if (truthy(w.when(row, ctx))) return w.then(row, ctx);
        return otherwise(row, ctx);
      };
    }
    case 'call':
      return compileCall(e, scope);
    case 'array': {
      // A MISSING element stays MISSING inside the array ([MISSING][0] IS MISSING, TYPE() of it is
      // "missing"); results and stored documents write it as null.
      const items = e.items.map((i) => compile(i, scope));
      return (row, ctx) => items.map((i) => i(row, ctx));
    }
    case 'object': {
      const entries = e.entries.map((en) => ({ key: compile(en.key, scope), value: compile(en.value, scope) }));
      return (row, ctx) => {
        const out: [string, Value][] = [];
        for (const en of entries) {
          const k = en.key(row, ctx);
          if (typeof k !== 'string') {
            if (k === undefined) continue;
            return null;
          }
          out.push([k, en.value(row, ctx)]);
        }
        return sortedObject(out);
      };
    }
    case 'quant':
      return compileQuant(e, scope);
    case 'collect':
      return compileCollect(e, scope);
    case 'exists': {
      if (e.arg.kind === 'subquery') {
        const run = scope.subquery(e.arg.query, scope);
        return (row, ctx) => hasValue(run(row, ctx), ctx);
      }
      const a = compile(e.arg, scope);
      return (row, ctx) => {
        const v = a(row, ctx);
        return Array.isArray(v) ? v.length > 0 : v === undefined ? undefined : null;
      };
    }
    case 'sequence':
      // A sequence moves at every document: it cannot decide which documents there are.
      if (scope.clause === 'WHERE') throw new QueryError(ErrorCode.SEMANTIC, `Sequence operators are not allowed in the WHERE clause: ${formatExpr(e)}`);
      if (!scope.sequence) throw new QueryError(ErrorCode.SEMANTIC, `Sequence operators are not allowed here: ${formatExpr(e)}`);
      return scope.sequence(e);
    case 'subquery': {
      const run = scope.subquery(e.query, scope);
      return (row, ctx) => collect(run(row, ctx), ctx);
    }
  }
  throw new QueryError(ErrorCode.SEMANTIC, `Unsupported expression ${(e as A.Expr).kind}`);
}

/**
 * Arithmetic as Couchbase's Go engine does it: int64 while integers fit, else IEEE results
 * (overflow is +/-Infinity); x / 0 and x % 0 are NULL with warning 5036.
 */
const FAST: Record<ArithOp, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '%': (a, b) => a % b,
};

function arith(op: ArithOp): (l: Compiled, r: Compiled) => Compiled {
  const divides = op === '/' || op === '%';
  const fast = FAST[op];
  return (l, r) => (row, ctx) => {
    const a = l(row, ctx);
    const b = r(row, ctx);
    // Two doubles whose result a double holds exactly: the common case, without the general path.
    if (typeof a === 'number' && typeof b === 'number' && !(divides && b === 0)) {
      const v = fast(a, b);
      if (v <= Number.MAX_SAFE_INTEGER && v >= -Number.MAX_SAFE_INTEGER) return v;
    }
    if (a === undefined || b === undefined) return undefined;
    if (divides && b === 0) {
      ctx.warn?.(5036, 'Division by 0.');
      return null;
    }
    if (!isNumeric(a) || !isNumeric(b)) return null;
    const v = arithmetic(op, a, b);
    if (typeof v === 'number' && !Number.isFinite(v)) ctx.nonFinite = true;
    return v;
  };
}

function compare(test: (c: number) => boolean): (l: Compiled, r: Compiled) => Compiled {
  return (l, r) => (row, ctx) => {
    const a = l(row, ctx);
    const b = r(row, ctx);
    if (a === undefined || b === undefined) return undefined;
    if (a === null || b === null) return null;
    if (typeof a === typeof b && typeof a !== 'object' && typeof a !== 'number') return test(a! < b! ? -1 : a! > b! ? 1 : 0);
    const c = comparison(a, b);
    return typeof c === 'number' ? test(c) : c;
  };
}

const BINARY: Record<A.BinaryOp, (l: Compiled, r: Compiled) => Compiled> = {
  '+': arith('+'),
  '-': arith('-'),
  '*': arith('*'),
  '/': arith('/'),
  '%': arith('%'),
  '||': (l, r) => (row, ctx) => {
    const a = l(row, ctx);
    const b = r(row, ctx);
    if (a === undefined || b === undefined) return undefined;
    return typeof a === 'string' && typeof b === 'string' ? a + b : null;
  },
  '=': (l, r) => (row, ctx) => equality(l(row, ctx), r(row, ctx)),
  '!=': (l, r) => (row, ctx) => {
    const e = equality(l(row, ctx), r(row, ctx));
    return typeof e === 'boolean' ? !e : e;
  },
  '<': compare((c) => c < 0),
  '<=': compare((c) => c <= 0),
  '>': compare((c) => c > 0),
  '>=': compare((c) => c >= 0),
};

function compileBinary(op: A.BinaryOp, l: Compiled, r: Compiled): Compiled {
  return BINARY[op](l, r);
}

function compileLikeExpr(e: A.Expr & { kind: 'like' }, scope: Scope): Compiled {
  const a = compile(e.arg, scope);
  const p = compile(e.pattern, scope);
  const esc = e.escape ? compile(e.escape, scope) : undefined;
  const not = e.not;
  let cachedPattern: string | undefined;
  let cachedEscape: string | undefined;
  let cached: LikeMatcher | undefined;
  return (row, ctx) => {
    const v = a(row, ctx);
    const pat = p(row, ctx);
    const es = esc ? esc(row, ctx) : '\\';
    if (v === undefined || pat === undefined || es === undefined) return undefined;
    if (typeof v !== 'string' || typeof pat !== 'string' || typeof es !== 'string') return null;
    if (pat !== cachedPattern || es !== cachedEscape) {
      cached = compileLike(pat, es);
      cachedPattern = pat;
      cachedEscape = es;
    }
    return cached!.test(v) !== not;
  };
}

function metaAlias(e: A.Expr & { kind: 'call' }, scope: Scope): string | undefined {
  if (e.args.length > 1) throw new QueryError(ErrorCode.SEMANTIC, 'Wrong number of arguments to function META.');
  if (e.args.length === 0) {
    if (scope.implicit === undefined && scope.multipleFrom) throw new QueryError(ErrorCode.AMBIGUOUS_META, `META() in query with multiple FROM terms requires an argument${nearText(e.at)}.`);
    return scope.implicit;
  }
  if (e.args[0].kind === 'ident' && scope.names.has(e.args[0].name)) return e.args[0].name;
  return undefined;
}

function hasSubquery(e: A.Expr): boolean {
  let found = false;
  const walk = (x: A.Expr): A.Expr => {
    if (x.kind === 'subquery') found = true;
    return found ? x : mapChildren(x, walk);
  };
  walk(e);
  return found;
}

function compileWindowCall(e: A.Expr & { kind: 'call' }, scope: Scope): Compiled {
  const name = e.name;
  if (!WINDOW_ONLY.has(name) && !AGGREGATES.has(name)) throw new QueryError(ErrorCode.SEMANTIC, `${name.toUpperCase()} is not a window function.`);
  if (!scope.windows) throw windowOutOfPlace(e, scope);
  const spec = resolveWindow(name, e.over!, scope.windows.named);
  checkWindowCall(e, spec);
  if (AGGREGATES.has(name) && !e.star && e.args.length !== 1) throw new QueryError(ErrorCode.SEMANTIC, `Wrong number of arguments to function ${name.toUpperCase()}.`);
  // Arguments, partitions and orders see the row (and the group's aggregates), never another window.
  const inner: Scope = { ...scope, windows: undefined, clause: 'window', enclosing: e.at };
  const bound = (b: A.FrameBound): CompiledBound => ('offset' in b ? { kind: b.kind, offset: compile(b.offset, inner) } : { kind: b.kind });
  const call: WindowCall = {
    name,
    args: e.args.map((a) => compile(a, inner)),
    distinct: !!e.distinct,
    star: !!e.star,
    filter: e.filter ? compile(e.filter, inner) : undefined,
    partition: (spec.partitionBy ?? []).map((p) => compile(p, inner)),
    order: (spec.orderBy ?? []).map((o) => ({ fn: compile(o.expr, inner), desc: o.desc, nulls: o.nulls })),
    frame: spec.frame ? { unit: spec.frame.unit, start: bound(spec.frame.start), end: bound(spec.frame.end), exclude: spec.frame.exclude } : undefined,
    fromLast: !!e.fromLast,
    ignoreNulls: !!e.ignoreNulls,
  };
  const idx = scope.windows.calls.length;
  scope.windows.calls.push(call);
  return (row) => row.wins?.[idx];
}

function compileCall(e: A.Expr & { kind: 'call' }, scope: Scope): Compiled {
  const name = e.name;
  if (e.over) return compileWindowCall(e, scope);
  if (WINDOW_ONLY.has(name)) throw new QueryError(3220, `${name.toUpperCase()} window function Requires OVER clause`);
  if (AGGREGATES.has(name)) {
    if (!scope.aggregates) throw aggregateOutOfPlace(e, scope);
    if (!e.star && e.args.length !== 1) throw new QueryError(ErrorCode.SEMANTIC, `Wrong number of arguments to function ${name.toUpperCase()}.`);
    if (e.filter && hasSubquery(e.filter)) throw new QueryError(ErrorCode.PLAN, `Subqueries are not allowed in aggregate filter${nearText(e.at)}.`);
    const inner: Scope = { ...scope, aggregates: undefined, windows: undefined, clause: 'aggregate', enclosing: e.at };
    const idx = scope.aggregates.length;
    scope.aggregates.push({ name, distinct: !!e.distinct, star: !!e.star, arg: e.star ? undefined : compile(e.args[0], inner), filter: e.filter ? compile(e.filter, inner) : undefined });
    return (row) => (row.aggs ? row.aggs[idx] : undefined);
  }
  if (name === 'unnest_pos' || name === 'unnest_position') {
    // UNNEST_POS(alias): the position of the UNNEST alias's element in its array.
    if (e.args.length !== 1) throw new QueryError(ErrorCode.SEMANTIC, `Wrong number of arguments to function ${name.toUpperCase()}.`);
    const a = e.args[0];
    if (a.kind !== 'ident' || !scope.names.has(a.name)) return () => undefined;
    const key = unnestPosition(a.name);
    return (row) => row.vars[key];
  }
  if (name === 'meta') {
    const alias = metaAlias(e, scope);
    if (alias === undefined) return () => undefined;
    return (row) => metaObject(row.metas[alias]);
  }
  if (e.filter) throw new QueryError(ErrorCode.SEMANTIC, `FILTER clause is allowed only on aggregate functions (not ${name.toUpperCase()}).`);
  // The grammar reads `f(DISTINCT x)`, `f(ALL x)` and `f(*)` as aggregate calls, whatever f is.
  if (e.quantified || e.star) throw new QueryError(ErrorCode.SYNTAX, `Invalid aggregate function ${e.rawName ?? name}${e.star ? '(*)' : ''}.`);
  if (name === 'search' && !e.fn) return compileSearch(e, scope, (a) => compile(a, scope));
  if ((name === 'search_meta' || name === 'search_score') && !e.fn) return compileSearchMeta(e);
  const fn = e.fn ? undefined : lookupFunction(name);
  if (!fn) {
    const udf = scope.udf?.(e);
    if (!udf) throw new QueryError(ErrorCode.SEMANTIC, `Invalid function ${e.rawName ?? name}`);
    const args = e.args.map((a) => compile(a, scope));
    return (row, ctx) => udf(args.map((a) => a(row, ctx)), ctx);
  }
  // A variadic function takes at most 32767 arguments (the server's MaxInt16); the name is quoted as written.
  const max = Math.min(fn.max, MAX_FUNCTION_ARGS);
  if (e.args.length < fn.min || e.args.length > max) {
    throw new QueryError(ErrorCode.SEMANTIC, `Number of arguments to function ${e.rawName ?? name} must be ${fn.min === max ? fn.min : `between ${fn.min} and ${max}`}${nearText(e.argsAt)}.`);
  }
  const args = e.args.map((a) => compile(a, scope));
  const impl = fn.make ? fn.make() : fn.fn;
  // Float64 functions see an int64 beyond 2^53 as the nearest double, as Couchbase's do.
  const floats = fn.floatArgs;
  if (!fn.strict) {
    return (row, ctx) => impl(args.map((a) => {
      const v = a(row, ctx);
      return floats && typeof v === 'bigint' ? Number(v) : v;
    }), ctx);
  }
  return (row, ctx) => {
    const vals: Value[] = new Array(args.length);
    let nul = false;
    for (let i = 0; i < args.length; i++) {
      const v = args[i](row, ctx);
      if (v === undefined) return undefined;
      if (v === null) nul = true;
      vals[i] = floats && typeof v === 'bigint' ? Number(v) : v;
    }
    return nul ? null : impl(vals, ctx);
  };
}

interface CompiledBindings {
  names: string[];
  exprs: Compiled[];
  within: boolean[];
  pos: (string | undefined)[];
}

function compileBindings(bindings: A.ForBinding[], scope: Scope): { cb: CompiledBindings; inner: Scope } {
  const names: string[] = [];
  for (const b of bindings) {
    names.push(b.name);
    if (b.pos) names.push(b.pos);
  }
  const inner = childScope(scope, names);
  return {
    cb: {
      names: bindings.map((b) => b.name),
      exprs: bindings.map((b) => compile(b.expr, scope)),
      within: bindings.map((b) => b.within),
      pos: bindings.map((b) => b.pos),
    },
    inner,
  };
}

function descendants(v: Value, out: Value[], ctx: ExecContext): void {
  const kids = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
  for (const k of kids) {
    ctx.checkDeadline();
    out.push(k);
    descendants(k, out, ctx);
  }
}

/**
 * Visits the binding tuples of `x IN a, y IN b` (zipped by position, as N1QL does: the n-th
 * tuple takes the n-th element of every array, up to the longest) as rows binding the names,
 * until `visit` returns true. One row is rebound for every tuple (nothing keeps a row past its
 * visit: evaluation is synchronous), so a million-element comprehension allocates no tuple.
 * Returns undefined when a source is MISSING, null when it is not an array, else whether
 * `visit` stopped the scan.
 */
function eachBinding(cb: CompiledBindings, row: Row, ctx: ExecContext, visit: (r: Row) => boolean): boolean | undefined | null {
  const arrays: Value[][] = [];
  let n = 0;
  for (let i = 0; i < cb.exprs.length; i++) {
    const v = cb.exprs[i](row, ctx);
    if (v === undefined) return undefined;
    let a: Value[];
    if (cb.within[i]) {
      a = [];
      descendants(v, a, ctx);
    } else if (Array.isArray(v)) a = v;
    else return null;
    arrays.push(a);
    if (a.length > n) n = a.length;
  }
  if (n === 0) return false;
  const vars = Object.create(row.vars) as Vars;
  const bound: Row = { vars, metas: row.metas, aggs: row.aggs, wins: row.wins };
  const { names, pos } = cb;
  for (let k = 0; k < n; k++) {
    ctx.checkDeadline();
    for (let i = 0; i < arrays.length; i++) {
      setField(vars, names[i], arrays[i][k]);
      const p = pos[i];
      if (p) setField(vars, p, k);
    }
    if (visit(bound)) return true;
  }
  return false;
}

function compileQuant(e: A.Expr & { kind: 'quant' }, scope: Scope): Compiled {
  const { cb, inner } = compileBindings(e.bindings, scope);
  const sat = compile(e.satisfies, inner);
  const quant = e.quant;
  if (quant === 'any') {
    return (row, ctx) => eachBinding(cb, row, ctx, (r) => truthy(sat(r, ctx)));
  }
  // EVERY (and ANY AND EVERY, which is false for no elements): stops at the first failing tuple.
  return (row, ctx) => {
    let any = false;
    const failed = eachBinding(cb, row, ctx, (r) => {
      any = true;
      return !truthy(sat(r, ctx));
    });
    if (failed === undefined || failed === null) return failed;
    if (quant === 'anyevery' && !any) return false;
    return !failed;
  };
}

function compileCollect(e: A.Expr & { kind: 'collect' }, scope: Scope): Compiled {
  const { cb, inner } = compileBindings(e.bindings, scope);
  const value = compile(e.value, inner);
  const key = e.key ? compile(e.key, inner) : undefined;
  const when = e.when ? compile(e.when, inner) : undefined;
  const kind = e.collect;
  const distinct = !!e.distinct;
  if (kind === 'first') {
    return (row, ctx) => {
      let first: Value;
      const found = eachBinding(cb, row, ctx, (r) => {
        if (when && !truthy(when(r, ctx))) return false;
        first = value(r, ctx);
        return true;
      });
      if (found === undefined || found === null) return found;
      return found ? first : undefined;
    };
  }
  if (kind === 'object') {
    return (row, ctx) => {
      const pairs: [string, Value][] = [];
      const done = eachBinding(cb, row, ctx, (r) => {
        if (when && !truthy(when(r, ctx))) return false;
        const v = value(r, ctx);
        const k = key!(r, ctx);
        if (typeof k === 'string') pairs.push([k, v]);
        return false;
      });
      if (done === undefined || done === null) return done;
      return sortedObject(pairs);
    };
  }
  return (row, ctx) => {
    const out: Value[] = [];
    const done = eachBinding(cb, row, ctx, (r) => {
      if (when && !truthy(when(r, ctx))) return false;
      const v = value(r, ctx);
      if (v !== undefined) out.push(v);
      return false;
    });
    if (done === undefined || done === null) return done;
    return distinct ? distinctValues(out) : out;
  };
}

export { truthy, Rank };
