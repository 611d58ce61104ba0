// SELECT: compiles a statement into a pipeline of generators (scan -> fetch -> join -> let ->
// filter -> group -> project -> distinct -> order -> offset/limit). Rows flow one at a time;
// only GROUP BY, DISTINCT, ORDER BY and set operators hold rows, and ORDER BY with LIMIT keeps
// just the top offset+limit.
import type * as A from './ast';
import type { BucketStore, StoredDoc } from '../service-types';
import { AbortError, QueryError, ErrorCode, evaluating, nearText } from './errors';
import { AGGREGATES, childScope, compile, guard, unnestPosition, type AggregateSpec, type Compiled, type ExecContext, type Row, type Scope } from './expr';
import { distinctValues } from './functions/index';
import { formatExpr, freeIdents, mapChildren, op, qualifyDoc } from './format';
import { makeAgg, type AggState } from './aggregates';
import { docValue } from './indexes';
import { GroupingRule } from './grouping';
import { chooseAccess, type AccessOptions, type AccessPath, type OrderWish } from './access';
import { blockExprs, docNeeds } from './cover';
import { conjuncts, docRelative, fetchDoc, independentOf, keyspaceText, resolveBucket, type Env } from './keyspace';
import { defaultAlias, parseExpression } from './parser';
import { findFunction, FunctionErrors, mayUseFunction, qualifiedName, resolveName, type FunctionDefinition } from './udf';
import { defaultRunner, javascriptFunction } from './udf-javascript';
import { attempt, PAUSE, RETRY, type Pause, type Retry } from './pause';
import { collate, isObject, setField, sortedObject, truthy, valueKey, type ObjectValue, type Value } from './value';
import { checkWindowClause, computeWindow } from './window';
import { isCorrelated } from './correlation';
import { checkRecursiveClauseSelect, compileRecursiveCte, selectReads, stepReadsCte } from './recursive-cte';
import { compileSequenceOperator } from './sequences';
import { SYSTEM_CATALOG_KEYS, SYSTEM_CATALOGS } from './system-keyspaces';
import type { Profile } from './profile';
import { scanEstimates } from './statistics';

export interface CompiledQuery {
  /** Result values, with PAUSE markers where a driver may give the event loop a turn. */
  run(outer: Row, ctx: ExecContext): Iterable<Value | Pause>;
  explain: Record<string, unknown>;
  signature: Value;
}

// Variable chains are rooted in prototype-less objects: a variable named `constructor` or
// `__proto__` is the query's own, never something inherited from Object.prototype.
export const EMPTY_ROW: Row = { vars: Object.create(null) as Row['vars'], metas: Object.create(null) as Row['metas'] };

/** A fresh root row binding one alias (DML targets, ORDER BY over set operators). */
export function rowOf(alias: string, value: Value, meta?: Row['metas'][string]): Row {
  return bind(EMPTY_ROW, alias, value, meta);
}

const OUT = '\u0000out';

function walkExprs(e: A.Expr, visit: (x: A.Expr) => boolean | void): void {
  if (visit(e) === false) return;
  const kids: A.Expr[] = [];
  switch (e.kind) {
    case 'field':
    case 'star':
      kids.push(e.target);
      break;
    case 'index':
      kids.push(e.target, e.index);
      break;
    case 'slice':
      kids.push(e.target, ...(e.from ? [e.from] : []), ...(e.to ? [e.to] : []));
      break;
    case 'binary':
      kids.push(e.left, e.right);
      break;
    case 'and':
    case 'or':
      kids.push(...e.args);
      break;
    case 'not':
    case 'neg':
    case 'is':
    case 'exists':
      kids.push(e.arg);
      break;
    case 'between':
      kids.push(e.arg, e.low, e.high);
      break;
    case 'like':
      kids.push(e.arg, e.pattern, ...(e.escape ? [e.escape] : []));
      break;
    case 'in':
      kids.push(e.arg, e.list);
      break;
    case 'case':
      if (e.subject) kids.push(e.subject);
      for (const w of e.whens) kids.push(w.when, w.then);
      if (e.else) kids.push(e.else);
      break;
    case 'call':
      kids.push(...e.args);
      if (e.filter) kids.push(e.filter);
      if (e.over) kids.push(...(e.over.partitionBy ?? []), ...(e.over.orderBy ?? []).map((o) => o.expr));
      break;
    case 'array':
      kids.push(...e.items);
      break;
    case 'object':
      for (const en of e.entries) kids.push(en.key, en.value);
      break;
    case 'quant':
      for (const b of e.bindings) kids.push(b.expr);
      kids.push(e.satisfies);
      break;
    case 'collect':
      for (const b of e.bindings) kids.push(b.expr);
      kids.push(e.value);
      if (e.key) kids.push(e.key);
      if (e.when) kids.push(e.when);
      break;
  }
  for (const k of kids) walkExprs(k, visit);
}

export function hasAggregate(e: A.Expr | undefined): boolean {
  if (!e) return false;
  let found = false;
  walkExprs(e, (x) => {
    if (x.kind === 'subquery') return false;
    // SUM(x) OVER (...) is a window function, not an aggregate of the block.
    if (x.kind === 'call' && AGGREGATES.has(x.name) && !x.over) found = true;
  });
  return found;
}

/** Replaces identifiers naming projection aliases with reads of the projected row (ORDER BY). */
function aliasRefs(e: A.Expr, aliases: Set<string>, shadow: Set<string>): A.Expr {
  const walk = (x: A.Expr): A.Expr => {
    if (x.kind === 'ident' && aliases.has(x.name) && !shadow.has(x.name)) return { kind: 'field', target: { kind: 'ident', name: OUT }, name: x.name };
    if (x.kind === 'subquery') return x;
    return mapChildren(x, walk);
  };
  return walk(e);
}

// ---------------------------------------------------------------------------------------------
// FROM

type RowSource = (outer: Row, ctx: ExecContext) => Iterable<Row | Pause>;

/** How many rows a source reads between two looks at the clock. */
const SLICE_ROWS = 256;

interface FromPlan {
  source: RowSource;
  aliases: string[];
  explain: Record<string, unknown>[];
  /** Whether rows come out in the ORDER BY order the access path was asked for. */
  ordered: boolean;
}

/**
 * UNNEST a.arr AS u WHERE <u ...>: the WHERE conditions on u, as ANY u IN a.arr SATISFIES ...
 * END, so an array index on a.arr can choose the documents (the UNNEST and WHERE still run).
 */
function unnestHints(from: A.FromClause, scope: Scope, where: A.Expr[]): A.Expr[] {
  if (from.source.kind !== 'keyspace') return [];
  const alias = from.source.alias;
  const blockAliases = new Set([alias, ...from.joins.map((j) => (j.kind === 'unnest' ? j.alias : j.right.alias))]);
  const out: A.Expr[] = [];
  for (const j of from.joins) {
    if (j.kind !== 'unnest' || j.outer) continue;
    const rel = docRelative(j.expr, alias, true, scope.names);
    if (!rel) continue;
    const src = qualifyDoc(rel, alias);
    for (const c of where) {
      const free = freeIdents(c);
      if (!free.has(j.alias) || free.has('\0meta') || free.has('\0subquery')) continue;
      if ([...free].some((n) => n !== j.alias && (blockAliases.has(n) || !scope.names.has(n)))) continue;
      out.push({ kind: 'quant', quant: 'any', bindings: [{ name: j.alias, expr: src, within: false }], satisfies: c });
    }
  }
  return out;
}

/**
 * USE KEYS: the documents of the keys, with warning 5503 for keys that name no document (as 7.6
 * warns, with the keys in its reason).
 */
function* keyedSource(ids: Iterable<string>, store: BucketStore, ctx: ExecContext, keyspace: string, row: (f: { doc: StoredDoc; value: Value }) => Row): Generator<Row | Pause> {
  const missing: string[] = [];
  for (const id of ids) {
    ctx.checkDeadline();
    const f = fetchDoc(store, id);
    if (f) yield row(f);
    else missing.push(id);
  }
  if (missing.length) ctx.warn?.(5503, 'Key(s) in USE KEYS hint not found', { keys: missing, keyspace, num_missing_keys: missing.length });
}

/** A keyspace source that records its scan and fetch in the request's profile (profile=phases|timings). */
function* profiledSource<F>(
  ids: Iterable<string>,
  fetch: (id: string) => F | undefined,
  ctx: ExecContext,
  prof: Profile,
  scanOp: string,
  scanPhase: string,
  row: (f: F) => Row,
): Generator<Row | Pause> {
  // 7.6 reports a scan under its phase and again under the phase qualified by the index
  // service that ran it ("primaryScan" and "primaryScan.GSI").
  const gsiPhase = `${scanPhase}.GSI`;
  prof.operator(scanPhase);
  prof.operator(gsiPhase);
  prof.operator('fetch');
  const it = ids[Symbol.iterator]();
  let n = 0;
  for (;;) {
    let t = performance.now();
    const step = it.next();
    let dt = performance.now() - t;
    prof.time(scanPhase, dt);
    prof.time(gsiPhase, dt);
    if (step.done) break;
    prof.count(scanPhase, 1);
    prof.count(gsiPhase, 1);
    prof.record(scanOp, { itemsOut: 1, ms: dt });
    if (++n % SLICE_ROWS === 0) {
      ctx.checkDeadline();
      if (ctx.pauseDue?.()) yield PAUSE;
    }
    t = performance.now();
    const f = fetch(step.value);
    dt = performance.now() - t;
    prof.time('fetch', dt);
    prof.record('Fetch', { itemsIn: 1, itemsOut: f ? 1 : 0, ms: dt });
    if (!f) continue;
    prof.count('fetch', 1);
    yield row(f);
  }
}

/** WHERE under profile=phases|timings: the "filter" phase's time and the rows it let through. */
function* profiledFilter(rows: Iterable<Row | Pause>, admit: (row: Row, ctx: ExecContext) => boolean, ctx: ExecContext, prof: Profile): Generator<Row | Pause> {
  prof.operator('filter');
  for (const row of rows) {
    if (row === PAUSE) {
      yield row;
      continue;
    }
    const t = performance.now();
    let keep: boolean | Retry;
    while ((keep = attempt(admit, row, ctx)) === RETRY) yield PAUSE;
    prof.time('filter', performance.now() - t);
    if (!keep) continue;
    prof.count('filter', 1);
    yield row;
  }
}

/** `project` timed into the profile's "project" phase (its operator counted once). */
function profiledProject(project: (row: Row, ctx: ExecContext) => Value, prof: Profile): (row: Row, ctx: ExecContext) => Value {
  prof.operator('project');
  return (row, ctx) => {
    const t = performance.now();
    try {
      return project(row, ctx);
    } finally {
      prof.time('project', performance.now() - t);
    }
  };
}

/** A row extending `parent` with `alias` bound (and its document's META). */
export function bindAlias(parent: Row, alias: string, value: Value, meta?: Row['metas'][string]): Row {
  return bind(parent, alias, value, meta);
}

function bind(parent: Row, alias: string, value: Value, meta?: Row['metas'][string]): Row {
  const vars = Object.create(parent.vars) as Row['vars'];
  setField(vars, alias, value);
  let metas = parent.metas;
  if (meta) {
    metas = Object.create(parent.metas) as Row['metas'];
    setField(metas, alias, meta);
  }
  return { vars, metas };
}

function isKeyspaceSource(src: A.FromSource, scope: Scope): boolean {
  return src.kind === 'keyspace' && !(src.ks.namespace === 'default' && !src.ks.scope && scope.names.has(src.ks.bucket));
}

/** Documents a correlated subquery may read through a primary index (the server's limit). */
const CORRELATED_PRIMARY_LIMIT = 1000;

/**
 * A primary scan inside a correlated subquery: the server runs the subquery once per outer row
 * and refuses to scan more than 1,000 documents of its keyspace each time without a secondary
 * index (5370), rather than run a cartesian product.
 */
function limitedPrimaryScan(access: AccessPath, alias: string): AccessPath {
  const limited = <T>(scan: (row: Row, ctx: ExecContext) => Iterable<T>) =>
    function* (row: Row, ctx: ExecContext): Generator<T> {
      let n = 0;
      for (const x of scan(row, ctx)) {
        if (++n > CORRELATED_PRIMARY_LIMIT) {
          throw new QueryError(
            5370,
            `Unable to run subquery - cause: Correlated subquery's keyspace (${alias}) cannot have more than ${CORRELATED_PRIMARY_LIMIT} documents without appropriate secondary index`,
          );
        }
        yield x;
      }
    };
  const ids = access.ids.bind(access);
  const covered = access.covered;
  return { ...access, ids: limited(ids), covered: covered && limited(covered) };
}

/** A FROM source that names a variable in scope (WITH, outer query) reads that variable. */
function asExprSource(src: A.FromSource & { kind: 'keyspace' }): A.FromSource {
  return { kind: 'expr', expr: { kind: 'ident', name: src.ks.bucket }, alias: src.alias };
}

function compileSource(
  src: A.FromSource,
  scope: Scope,
  env: Env,
  where: A.Expr[],
  implicit: boolean,
  available: Set<string>,
  countOnly = false,
  opts: AccessOptions = {},
): { source: RowSource; explain: Record<string, unknown>[]; perRow?: boolean; ordered?: boolean } {
  if (src.kind === 'keyspace') {
    if (src.ks.namespace === 'system') return systemSource(src, env);
    const store = resolveBucket(env, src.ks);
    let access = chooseAccess(src.ks, store, src.alias, implicit, src.useKeys, where, scope, available, src.useIndex ? { ...opts, useIndex: src.useIndex } : opts);
    if (scope.correlated && access.index?.primary) access = limitedPrimaryScan(access, src.alias);
    const alias = src.alias;
    // With optimizer statistics (UPDATE STATISTICS), the scan reports the rows it expects.
    const estimates = scanEstimates(store, where, (e) => docRelative(e, alias, implicit, scope.names));
    if (estimates) access.explain.optimizer_estimates = estimates;
    if (countOnly && !src.useKeys) {
      // SELECT COUNT(*) with nothing else to evaluate: count index entries, fetch nothing.
      return {
        explain: [access.explain],
        *source(outer, ctx) {
          let n = 0;
          for (const _ of access.ids(outer, ctx)) {
            if (++n % SLICE_ROWS === 0) {
              ctx.checkDeadline();
              if (ctx.pauseDue?.()) yield PAUSE;
            }
            yield outer;
          }
        },
      };
    }
    const covered = access.covered;
    if (covered) {
      // The index holds everything the statement reads: rows come from its entries, no document is fetched.
      return {
        perRow: access.perRow,
        ordered: access.ordered,
        explain: [access.explain],
        *source(outer, ctx) {
          let n = 0;
          for (const d of covered(outer, ctx)) {
            if (++n % SLICE_ROWS === 0) {
              ctx.checkDeadline();
              if (ctx.pauseDue?.()) yield PAUSE;
            }
            yield bind(outer, alias, d.value, d.meta);
          }
        },
      };
    }
    const scanOp = access.explain['#operator'] as string;
    const scanPhase = scanOp === 'PrimaryScan3' ? 'primaryScan' : scanOp === 'IndexScan3' ? 'indexScan' : 'keyScan';
    return {
      perRow: access.perRow || !!src.useKeys,
      ordered: access.ordered,
      explain: [access.explain, { '#operator': 'Fetch', as: alias, keyspace: src.ks.bucket, namespace: src.ks.namespace }],
      *source(outer, ctx) {
        if (src.useKeys) {
          yield* keyedSource(access.ids(outer, ctx), store, ctx, keyspaceText(src.ks), (f) => bind(outer, alias, f.value, f.doc));
          return;
        }
        if (ctx.profile) {
          yield* profiledSource(access.ids(outer, ctx), (id) => fetchDoc(store, id), ctx, ctx.profile, scanOp, scanPhase, (f) => bind(outer, alias, f.value, f.doc));
          return;
        }
        let n = 0;
        for (const id of access.ids(outer, ctx)) {
          if (++n % SLICE_ROWS === 0) {
            ctx.checkDeadline();
            if (ctx.pauseDue?.()) yield PAUSE;
          }
          const f = fetchDoc(store, id);
          if (!f) continue;
          yield bind(outer, alias, f.value, f.doc);
        }
      },
    };
  }
  const term = src.kind === 'subquery' ? 'FROM Subquery' : 'FROM expression';
  if (src.alias === '') throw new QueryError(ErrorCode.NO_TERM_NAME, `${term} term must have a name or alias`);
  if (src.useKeysOrIndex) throw new QueryError(4110, `${term} term should not have USE KEYS or USE INDEX`);
  if (src.kind === 'subquery') {
    const q = compileSelect(src.query, scope, env);
    const alias = src.alias;
    return {
      explain: [{ '#operator': 'Alias', as: alias, subquery: q.explain }],
      *source(outer, ctx) {
        for (const v of q.run(outer, ctx)) yield v === PAUSE ? v : bind(outer, alias, v);
      },
    };
  }
  const e = guard('expression term', compile(src.expr, scope));
  const alias = src.alias;
  return {
    explain: [op({ '#operator': 'ExpressionScan', alias }, { expr: () => formatExpr(src.expr) })],
    *source(outer, ctx) {
      const v = e(outer, ctx);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          if (i % SLICE_ROWS === SLICE_ROWS - 1) {
            ctx.checkDeadline();
            if (ctx.pauseDue?.()) yield PAUSE;
          }
          yield bind(outer, alias, v[i]);
        }
      } else if (v !== undefined) yield bind(outer, alias, v);
    },
  };
}

function systemSource(src: A.FromSource & { kind: 'keyspace' }, env: Env): { source: RowSource; explain: Record<string, unknown>[] } {
  const name = src.ks.bucket;
  const catalog = Object.hasOwn(SYSTEM_CATALOGS, name) ? SYSTEM_CATALOGS[name] : undefined;
  if (!catalog) throw new QueryError(ErrorCode.KEYSPACE_NOT_FOUND, `Keyspace not found in CB datastore: system:${name}`);
  const alias = src.alias;
  return {
    explain: [{ '#operator': 'PrimaryScan', index: '#primary', keyspace: name, namespace: 'system', using: 'system' }],
    *source(outer) {
      const key = Object.hasOwn(SYSTEM_CATALOG_KEYS, name) ? SYSTEM_CATALOG_KEYS[name] : undefined;
      for (const doc of catalog(env)) yield bind(outer, alias, doc, key && { id: key(doc), cas: 0n, expiry: 0, flags: 0, datatype: 1 });
    },
  };
}

export function compileFrom(from: A.FromClause, scope: Scope, env: Env, where: A.Expr[], countOnly = false, positions = false, first: AccessOptions = {}): { plan: FromPlan; scope: Scope } {
  // A FROM name that is a variable of the enclosing scope (WITH, outer query) reads the variable.
  const resolve = (src: A.FromSource): A.FromSource => (src.kind === 'keyspace' && !isKeyspaceSource(src, scope) ? asExprSource(src) : src);
  from = { source: resolve(from.source), joins: from.joins.map((j) => (j.kind === 'ansi' ? { ...j, right: resolve(j.right) } : j)) };
  const aliases = [from.source.alias];
  // A FROM term of a subquery may not reuse a name of the enclosing statement (Couchbase's formalizer refuses it).
  if (from.source.kind === 'keyspace' && scope.names.has(from.source.alias)) {
    throw new QueryError(ErrorCode.DUPLICATE_ALIAS, `Duplicate subquery alias ${from.source.alias}`);
  }
  checkJoinKinds(from);
  for (const j of from.joins) {
    const alias = j.kind === 'unnest' ? j.alias : j.right.alias;
    // Joining a WITH variable under its own name (`JOIN cte`, `FROM t, cte`) shadows nothing.
    const readsItself = j.kind === 'ansi' && j.right.kind === 'expr' && j.right.expr.kind === 'ident' && j.right.expr.name === alias;
    if (aliases.includes(alias) || (scope.names.has(alias) && !readsItself)) {
      // The UNNEST form quotes the alias and says where it was written, as the server's does.
      if (j.kind === 'unnest') throw new QueryError(ErrorCode.DUPLICATE_ALIAS, `Duplicate UNNEST alias '${alias}'${nearText(j.at)}`);
      throw new QueryError(ErrorCode.DUPLICATE_ALIAS, `Duplicate ${j.nest ? 'NEST' : 'JOIN'} alias ${alias}`);
    }
    aliases.push(alias);
  }
  const implicit = from.joins.length === 0;
  const inner: Scope = childScope(scope, aliases);
  inner.implicit = implicit ? from.source.alias : undefined;
  inner.multipleFrom = !implicit;
  // Before anything of this block is read, only the outer scope is available to index spans.
  const available = new Set(scope.names);
  const hints = from.joins.length ? unnestHints(from, inner, where) : [];
  const firstSource = compileSource(from.source, inner, env, where, implicit, available, countOnly && from.joins.length === 0, hints.length ? { ...first, hints } : first);
  let source = firstSource.source;
  const explain = [...firstSource.explain];
  available.add(from.source.alias);
  from.joins.forEach((j, k) => {
    const left = source;
    // UNNEST and ON KEYS read the terms before them: right after the first term, bare names are its fields.
    const before: Scope = k === 0 ? { ...inner, implicit: from.source.alias, multipleFrom: false } : inner;
    if (j.kind === 'unnest') {
      const e = compile(j.expr, before);
      const { alias, outer } = j;
      const posKey = positions ? unnestPosition(alias) : undefined;
      source = function* (o, ctx) {
        for (const row of left(o, ctx)) {
          if (row === PAUSE) {
            yield row;
            continue;
          }
          let arr: Value | Retry;
          while ((arr = attempt(e, row, ctx)) === RETRY) yield PAUSE;
          if (Array.isArray(arr) && arr.length) {
            for (let i = 0; i < arr.length; i++) {
              if (i % SLICE_ROWS === SLICE_ROWS - 1) {
                ctx.checkDeadline();
                if (ctx.pauseDue?.()) yield PAUSE;
              }
              if (arr[i] === undefined) continue;
              const r = bind(row, alias, arr[i]);
              if (posKey) r.vars[posKey] = i;
              yield r;
            }
          } else if (outer) yield row;
        }
      };
      explain.push(op({ '#operator': 'Unnest', as: alias, outer: outer || undefined }, { expr: () => formatExpr(j.expr) }));
      available.add(alias);
      return;
    }
    if (j.kind === 'lookup') {
      const right = j.right;
      const store = resolveBucket(env, right.ks);
      const keys = compile(j.onKeys, before);
      const { outer, nest } = j;
      const alias = right.alias;
      source = function* (o, ctx) {
        for (const row of left(o, ctx)) {
          if (row === PAUSE) {
            yield row;
            continue;
          }
          let k: Value | Retry;
          while ((k = attempt(keys, row, ctx)) === RETRY) yield PAUSE;
          const ids = typeof k === 'string' ? [k] : Array.isArray(k) ? k.filter((x): x is string => typeof x === 'string') : [];
          if (nest) {
            const docs: Value[] = [];
            for (const id of ids) {
              const f = fetchDoc(store, id);
              if (f) docs.push(f.value);
            }
            if (docs.length) yield bind(row, alias, docs);
            else if (outer) yield row;
            continue;
          }
          let matched = false;
          for (const id of ids) {
            const f = fetchDoc(store, id);
            if (!f) continue;
            matched = true;
            yield bind(row, alias, f.value, f.doc);
          }
          if (!matched && outer) yield row;
        }
      };
      explain.push(op({ '#operator': nest ? 'Nest' : 'Join', keyspace: right.ks.bucket, as: alias, outer: outer || undefined }, { on_keys: () => formatExpr(j.onKeys) }));
      available.add(alias);
      return;
    }
    const right = j.right;
    // ANSI JOIN / NEST: for each left row, read the right side through an index when the ON
    // clause gives a sargable predicate, else through its primary index.
    const on = compile(j.on, inner);
    const { outer, nest } = j;
    const alias = right.alias;
    // An inner join may also narrow the right side with WHERE predicates on it alone.
    const rightConds = outer ? conjuncts(j.on) : [...conjuncts(j.on), ...where];
    // The terms before this one (a term may shadow an outer name: `FROM cte JOIN t` in a recursive CTE's step).
    const leftAliases = new Set(aliases.slice(0, k + 1));
    if (j.indexFor !== undefined && !leftAliases.has(j.indexFor)) throw new QueryError(4025, `Unknown ${nest ? 'NEST' : 'JOIN'} for alias ${j.indexFor}`);
    let rightPlan: ReturnType<typeof compileSource>;
    try {
      rightPlan = compileSource(right, inner, env, rightConds, false, available, false, { rowNames: leftAliases });
    } catch (err) {
      // The right side of an ANSI JOIN/NEST with no index to read it by: the plan error 4330.
      if (err instanceof QueryError && err.code === ErrorCode.PLAN && right.kind === 'keyspace') throw new QueryError(4330, `No index available for ANSI ${nest ? 'NEST' : 'JOIN'} term ${alias}`);
      throw err;
    }
    // An index join (ON KEY ... FOR) reads the right side through an index on its key, never a primary scan.
    if (j.indexFor !== undefined && rightPlan.explain[0]?.['#operator'] !== 'IndexScan3') {
      throw new QueryError(4100, `No index available for join term ${alias}`);
    }
    explain.push(op({ '#operator': nest ? 'NestedLoopNest' : 'NestedLoopJoin', alias, outer: outer || undefined, '~child': rightPlan.explain }, { on_clause: () => formatExpr(j.on) }));
    const rsrc = rightPlan.source;
    // Without an index to probe, the right side would be scanned once per left row. When ON has
    // an equality between a right-side expression and a left-side one, hash the right side once
    // per execution instead (what USE HASH asks for on Couchbase).
    const probe = right.kind === 'keyspace' && !rightPlan.perRow ? hashKeys(j.on, alias, inner, available) : undefined;
    if (probe) explain[explain.length - 1]['#operator'] = nest ? 'HashNest' : 'HashJoin';
    source = function* (o, ctx) {
      let table: Map<string, Row[]> | undefined;
      const candidates = (row: Row, k: Value): Iterable<Row | Pause> => {
        if (!probe || !table) return rsrc(row, ctx);
        const list = k === undefined || k === null ? undefined : table.get(valueKey(k));
        return list ? list.map((r) => bind(row, alias, r.vars[alias], r.metas[alias])) : [];
      };
      const matches = (r: Row): boolean => truthy(on(r, ctx));
      for (const row of left(o, ctx)) {
        if (row === PAUSE) {
          yield row;
          continue;
        }
        if (probe && !table) {
          // The right side is read once, at the first left row, into a hash table.
          table = new Map();
          for (const r of rsrc(o, ctx)) {
            if (r === PAUSE) {
              yield r;
              continue;
            }
            let k: Value | Retry;
            while ((k = attempt(probe.right, r, ctx)) === RETRY) yield PAUSE;
            if (k === undefined || k === null) continue;
            const key = valueKey(k);
            let list = table.get(key);
            if (!list) table.set(key, (list = []));
            list.push(r);
          }
        }
        let probeKey: Value = undefined;
        if (probe && table) {
          let k: Value | Retry;
          while ((k = attempt(probe.left, row, ctx)) === RETRY) yield PAUSE;
          probeKey = k;
        }
        // JOIN yields each matching right row; NEST collects their documents into one row.
        let matched = false;
        const docs: Value[] = [];
        for (const r of candidates(row, probeKey)) {
          if (r === PAUSE) {
            yield r;
            continue;
          }
          let m: boolean | Retry;
          while ((m = attempt(matches, r, ctx)) === RETRY) yield PAUSE;
          if (!m) continue;
          matched = true;
          if (nest) docs.push(r.vars[alias]);
          else yield r;
        }
        if (nest && matched) yield bind(row, alias, docs);
        else if (!matched && outer) yield row;
      }
    };
    available.add(alias);
  });
  return { plan: { source, aliases, explain, ordered: from.joins.length === 0 && !!firstSource.ordered }, scope: inner };
}

/**
 * The semantic checks Couchbase makes on a FROM clause's joins: ANSI and lookup (ON KEYS) joins
 * and nests do not mix (3200), and a lookup join or nest takes no join hint (3110), USE KEYS
 * (3120) or USE INDEX (3130) on its right side.
 */
function checkJoinKinds(from: A.FromClause): void {
  const first = from.source;
  if (first.hint !== undefined) throw new QueryError(3290, `Join hint (USE HASH or USE NL) cannot be specified on the first from term ${first.alias}`);
  let left: A.JoinClause | undefined;
  for (const j of from.joins) {
    if (j.kind === 'unnest') continue;
    const kind = (x: A.JoinClause & { kind: 'ansi' | 'lookup' }): string => `${x.kind === 'ansi' ? 'ANSI' : 'non ANSI'} ${x.nest ? 'NEST' : 'JOIN'}`;
    if (left && left.kind !== 'unnest' && left.kind !== j.kind) {
      throw new QueryError(3200, `Cannot mix ${kind(left)} on ${left.right.alias} with ${kind(j)} on ${j.right.alias}.`);
    }
    if (j.kind === 'lookup') {
      const op = j.nest ? 'NEST' : 'JOIN';
      const r = j.right;
      if (r.hint !== undefined) throw new QueryError(3110, `${op} on ${r.alias} cannot have join hint (USE HASH or USE NL).`);
      if (r.useKeys !== undefined) throw new QueryError(3120, `${op} on ${r.alias} cannot have USE KEYS.`);
      if (r.useIndex !== undefined) throw new QueryError(3130, `${op} on ${r.alias} cannot have USE INDEX.`);
    }
    left = j;
  }
}

/** For `right.x = <left expr>` in an ON clause: the two sides compiled, for a hash join. */
function hashKeys(on: A.Expr, alias: string, scope: Scope, leftNames: Set<string>): { left: Compiled; right: Compiled } | undefined {
  for (const c of conjuncts(on)) {
    if (c.kind !== 'binary' || c.op !== '=') continue;
    for (const [r, l] of [
      [c.left, c.right],
      [c.right, c.left],
    ]) {
      if (docRelative(r, alias, false, scope.names) && independentOf(l, alias, false, leftNames) && !freeIdents(l).has('\0meta')) {
        return { left: compile(l, scope), right: compile(r, scope) };
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// SELECT blocks

interface Item {
  row: Row;
  value: Value;
  /** Whether `row` belongs to this item alone (false when it is the shared outer row). */
  own: boolean;
}

interface BlockPlan {
  run(outer: Row, ctx: ExecContext): Iterable<Item | Pause>;
  explain: Record<string, unknown>[];
  signature: Value;
  scope: Scope;
  aliases: Set<string>;
  /** Present when the block groups: ORDER BY must then follow the same rule. */
  grouping?: GroupingRule;
  /** Whether rows come out in the ORDER BY order already (the index gave it): no sort. */
  ordered: boolean;
}

function termSignature(t: A.ResultTerm): [string, Value] | undefined {
  if (t.star) return ['*', '*'];
  return undefined;
}

function exprType(e: A.Expr | undefined): string {
  if (!e) return 'json';
  if (e.kind === 'lit') return e.value === null ? 'json' : typeof e.value === 'object' ? 'json' : typeof e.value;
  if (e.kind === 'binary') return ['+', '-', '*', '/', '%'].includes(e.op) ? 'number' : e.op === '||' ? 'string' : 'boolean';
  if (e.kind === 'and' || e.kind === 'or' || e.kind === 'not' || e.kind === 'is' || e.kind === 'like' || e.kind === 'in' || e.kind === 'between') return 'boolean';
  if (e.kind === 'call' && (e.name === 'count' || e.name === 'sum' || e.name === 'avg')) return 'number';
  return 'json';
}

interface BlockTraits {
  /** GROUP BY, LETTING, or an aggregate in the projection or HAVING: the block groups. */
  aggregated: boolean;
  /** A window function in the projection (rows then come in window order). */
  windowed: boolean;
  /** UNNEST_POS / UNNEST_POSITION is called (UNNEST then records positions). */
  unnestPos: boolean;
}

const traitsCache = new WeakMap<A.SelectBlock, BlockTraits>();

/** What a block's expressions hold, found in one walk (and kept: planning looks more than once). */
function traits(block: A.SelectBlock): BlockTraits {
  let t = traitsCache.get(block);
  if (t) return t;
  t = { aggregated: !!block.groupBy || block.letting.length > 0, windowed: false, unnestPos: false };
  const found = t;
  const visit = (inResult: boolean) => (x: A.Expr): boolean | void => {
    if (x.kind === 'subquery') return false;
    if (x.kind !== 'call') return;
    if (x.name === 'unnest_pos' || x.name === 'unnest_position') found.unnestPos = true;
    // SUM(x) OVER (...) is a window function, not an aggregate of the block.
    if (x.over) {
      if (inResult) found.windowed = true;
    } else if (inResult && AGGREGATES.has(x.name)) found.aggregated = true;
  };
  for (const term of block.terms) if (term.expr) walkExprs(term.expr, visit(true));
  if (block.having) walkExprs(block.having, visit(true));
  for (const e of [...block.let.map((l) => l.expr), block.where, ...(block.groupBy ?? []), ...block.letting.map((l) => l.expr)]) if (e) walkExprs(e, visit(false));
  traitsCache.set(block, t);
  return t;
}

const hasWindow = (block: A.SelectBlock): boolean => traits(block).windowed;
const isAggregated = (block: A.SelectBlock): boolean => traits(block).aggregated;

/**
 * What the access path of a block's only keyspace may do for the statement: cover it (the
 * document paths it reads) and give its ORDER BY order (when nothing between the scan and the
 * sort reorders rows).
 */
function blockAccess(block: A.SelectBlock, outer: Scope, orderBy: A.OrderTerm[] | undefined): AccessOptions {
  const src = block.from?.source;
  if (!src || src.kind !== 'keyspace' || src.useKeys || src.ks.namespace === 'system' || !isKeyspaceSource(src, outer)) return {};
  if (block.from!.joins.length) return {};
  const alias = src.alias;
  // SELECT * reads whole documents and needs no ORDER BY analysis for covering: the common case stays cheap.
  if (!orderBy && block.terms.some((t) => t.star && !t.expr)) return { needs: { whole: true, paths: [], meta: new Set() } };
  const names = new Set([...outer.names, alias, ...block.let.map((l) => l.name), ...block.letting.map((l) => l.name), ...(block.groupAs ? [block.groupAs] : [])]);
  // ORDER BY may name result aliases: read them as the expressions they stand for.
  const byAlias = new Map<string, A.Expr>();
  let n = 1;
  for (const t of block.terms) {
    if (t.star || !t.expr) continue;
    byAlias.set(t.alias ?? defaultAlias(t.expr) ?? `$${n++}`, t.expr);
  }
  const resolve = (e: A.Expr): A.Expr => {
    if (e.kind === 'ident' && byAlias.has(e.name)) return byAlias.get(e.name)!;
    if (e.kind === 'subquery') return e;
    return mapChildren(e, resolve);
  };
  const orderExprs = (orderBy ?? []).map((t) => resolve(t.expr));
  const needs = docNeeds([...blockExprs(block, alias), ...orderExprs], alias, true, names);
  let order: OrderWish[] | undefined;
  if (orderBy && !isAggregated(block) && !block.distinct && !hasWindow(block)) {
    const wishes = orderBy.map((t, i) => {
      // An index gives MISSING and NULL first ascending, last descending: the default placement only.
      if (t.nulls && (t.nulls === 'first') === t.desc) return undefined;
      const rel = docRelative(orderExprs[i], alias, true, names);
      return rel ? { text: formatExpr(rel), desc: t.desc } : undefined;
    });
    if (wishes.every((w) => w !== undefined)) order = wishes as OrderWish[];
  }
  return { needs, order };
}

/** A block's WHERE as EXPLAIN prints it (qualified with the alias of a single FROM term). */
function whereText(block: A.SelectBlock): string {
  const src = block.from?.source;
  if (!block.where) return '';
  if (!src || block.from!.joins.length) return formatExpr(block.where);
  return formatExpr(qualifyDoc(block.where, src.alias, new Set(block.let.map((l) => l.name))));
}

function compileBlock(block: A.SelectBlock, outerScope: Scope, env: Env, orderBy?: A.OrderTerm[]): BlockPlan {
  const explain: Record<string, unknown>[] = [];
  const where = conjuncts(block.where);
  let scope: Scope = outerScope;
  let fromPlan: FromPlan | undefined;
  let ordered = false;
  if (block.from) {
    const countOnly =
      !block.where && !block.let.length && !block.groupBy && !block.having && !block.letting.length && !block.distinct &&
      block.terms.length > 0 && block.terms.every((t) => !t.star && t.expr?.kind === 'call' && t.expr.name === 'count' && !!t.expr.star);
    const access = blockAccess(block, outerScope, orderBy);
    const c = compileFrom(block.from, outerScope, env, where, countOnly, traits(block).unnestPos, access);
    ordered = !!access.order && c.plan.ordered;
    fromPlan = c.plan;
    scope = c.scope;
  }
  const lets: { name: string; fn: Compiled }[] = [];
  const blockNames = new Set(fromPlan?.aliases ?? []);
  for (const l of [...block.let, ...block.letting]) {
    if (blockNames.has(l.name)) throw duplicateVariable(l);
    blockNames.add(l.name);
  }
  for (const l of block.let) {
    lets.push({ name: l.name, fn: guard('LET', compile(l.expr, { ...scope, clause: 'LET' })) });
    scope = childScope(scope, [l.name]);
  }
  if (lets.length) explain.push(op({ '#operator': 'Let' }, { bindings: () => block.let.map((l) => ({ var: l.name, expr: formatExpr(l.expr) })) }));
  const whereFn = block.where ? guard('filter', compile(block.where, { ...scope, clause: 'WHERE' })) : undefined;
  if (block.where) explain.push(op({ '#operator': 'Filter' }, { condition: () => whereText(block) }));

  // LETTING alone groups too (the whole input is one group), as in Couchbase's grammar.
  const aggregated = isAggregated(block);
  let grouping: GroupingRule | undefined;
  if (aggregated) {
    grouping = new GroupingRule(new Set([...(fromPlan?.aliases ?? []), ...block.let.map((l) => l.name)]), scope.names, scope.implicit, block.groupBy ?? []);
    for (const l of block.letting) {
      grouping.require(l.expr);
      grouping.allow(l.name);
    }
    if (block.groupAs) {
      if (scope.names.has(block.groupAs)) throw new QueryError(ErrorCode.DUPLICATE_ALIAS, `Duplicate GROUP AS alias ${block.groupAs}`);
      grouping.allow(block.groupAs);
    }
    if (block.having) grouping.require(block.having);
    for (const t of block.terms) {
      if (t.star) grouping.requireStar(t.expr);
      else grouping.require(t.expr!);
    }
  }
  const aggs: AggregateSpec[] = [];
  let groupScope = scope;
  const groupKeys = (block.groupBy ?? []).map((g) => guard('GROUP key', compile(g, { ...scope, clause: 'GROUP BY' })));
  const lettings: { name: string; fn: Compiled }[] = [];
  if (aggregated) {
    groupScope = { ...scope, aggregates: aggs };
    if (block.groupAs) groupScope = childScope(groupScope, [block.groupAs]);
    for (const l of block.letting) {
      lettings.push({ name: l.name, fn: guard('LETTING', compile(l.expr, { ...groupScope, clause: 'LETTING' })) });
      groupScope = childScope(groupScope, [l.name]);
    }
    explain.push(op({ '#operator': 'Group' }, { group_keys: () => (block.groupBy ?? []).map(formatExpr) }));
  }
  const havingFn = block.having ? guard('filter', compile(block.having, { ...groupScope, clause: 'HAVING' })) : undefined;
  if (block.having) explain.push(op({ '#operator': 'Filter' }, { condition: () => formatExpr(block.having!) }));
  // Window functions: collected while the projection (and then ORDER BY) compile, computed over
  // all the block's rows before the projection runs.
  checkWindowClause(block.windows);
  const windows: NonNullable<Scope['windows']> = { calls: [], named: block.windows };
  groupScope = { ...groupScope, windows };

  // Projection
  const fromAliases = fromPlan ? fromPlan.aliases : [];
  // Expressions in EXPLAIN as Couchbase prints them: names of the only FROM term qualified with its alias.
  const onlyAlias = block.from && fromAliases.length === 1 ? fromAliases[0] : undefined;
  const fmt = (e: A.Expr): string => formatExpr(onlyAlias !== undefined ? qualifyDoc(e, onlyAlias, new Set([...scope.names, ...block.let.map((l) => l.name)])) : e);
  const aliases = new Set<string>();
  type Proj = { kind: 'star' } | { kind: 'dotstar'; fn: Compiled } | { kind: 'named'; name: string; fn: Compiled };
  const projs: Proj[] = [];
  let rawFn: Compiled | undefined;
  const sig: [string, Value][] = [];
  if (block.raw) {
    rawFn = compile(block.terms[0].expr!, groupScope);
  } else {
    let n = 1;
    for (const t of block.terms) {
      if (t.star && !t.expr) {
        projs.push({ kind: 'star' });
        sig.push(termSignature(t)!);
      } else if (t.star) {
        projs.push({ kind: 'dotstar', fn: compile(t.expr!, groupScope) });
        sig.push(['*', '*']);
      } else {
        const name = t.alias ?? defaultAlias(t.expr!) ?? `$${n++}`;
        // Two terms under one name would overwrite each other in the result object: the server refuses it.
        if (aliases.has(name)) throw new QueryError(ErrorCode.DUPLICATE_ALIAS, `Duplicate result alias '${name}'${nearText(t.at)}.`);
        aliases.add(name);
        projs.push({ kind: 'named', name, fn: compile(t.expr!, groupScope) });
        sig.push([name, exprType(t.expr)]);
      }
    }
  }
  explain.push(op({ '#operator': 'InitialProject' }, { result_terms: () => block.terms.map((t) => ({ expr: t.expr ? fmt(t.expr) : 'self', star: t.star || undefined, as: t.alias })) }));
  const signature: Value = block.raw ? 'json' : sortedObject(sig);

  // With only named terms the key order is known now: build rows directly in sorted order. The
  // terms are still evaluated in the order written (NEXT / PREV VALUE FOR see each other's effects).
  const namedTerms = projs.every((p) => p.kind === 'named') ? (projs as { kind: 'named'; name: string; fn: Compiled }[]) : undefined;
  const sortedAt = namedTerms?.map((p, i) => ({ name: p.name, i })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const inOrder = sortedAt?.every((t, k) => t.i === k) ?? false;
  // One guard for the whole projection (not one per term): failures report as Couchbase's "projection" term.
  const project = guard('projection', (row: Row, ctx: ExecContext): Value => {
    if (rawFn) return rawFn(row, ctx);
    if (namedTerms) {
      const out: Record<string, Value> = {};
      if (inOrder) {
        for (const p of namedTerms) {
          const v = p.fn(row, ctx);
          if (v !== undefined) setField(out, p.name, v);
        }
        return out;
      }
      const values = namedTerms.map((p) => p.fn(row, ctx));
      for (const t of sortedAt!) {
        const v = values[t.i];
        if (v !== undefined) setField(out, t.name, v);
      }
      return out;
    }
    const entries: [string, Value][] = [];
    for (const p of projs) {
      if (p.kind === 'named') entries.push([p.name, p.fn(row, ctx)]);
      else if (p.kind === 'star') {
        // SELECT * wraps each FROM term's value under its alias
        for (const a of fromAliases) entries.push([a, row.vars[a]]);
      } else {
        const v = p.fn(row, ctx);
        if (isObject(v)) for (const k of Object.keys(v)) entries.push([k, v[k]]);
      }
    }
    return sortedObject(entries);
  });

  const source = fromPlan?.source;
  // LET then WHERE: whether the row goes on (evaluated again whole when a JavaScript call suspends it).
  const admit = (row: Row, ctx: ExecContext): boolean => {
    for (const l of lets) setField(row.vars, l.name, l.fn(row, ctx));
    return whereFn === undefined || truthy(whereFn(row, ctx));
  };
  const sourceRows = (outer: Row, ctx: ExecContext): Iterable<Row | Pause> => (source ? source(outer, ctx) : [{ vars: Object.create(outer.vars), metas: outer.metas }]);
  // Under profile, WHERE runs as the timed "filter" phase; the plain loop stays as it is.
  const filtered = (outer: Row, ctx: ExecContext): Iterable<Row | Pause> => (ctx.profile && whereFn ? profiledFilter(sourceRows(outer, ctx), admit, ctx, ctx.profile) : filteredRows(outer, ctx));
  function* filteredRows(outer: Row, ctx: ExecContext): Generator<Row | Pause> {
    const rows = sourceRows(outer, ctx);
    for (const row of rows) {
      if (row === PAUSE) {
        yield row;
        continue;
      }
      if (lets.length === 0 && whereFn === undefined) {
        yield row;
        continue;
      }
      let keep: boolean | Retry;
      while ((keep = attempt(admit, row, ctx)) === RETRY) yield PAUSE;
      if (keep) yield row;
    }
  }

  const groupAs = block.groupAs;
  const admitGroup = (row: Row, ctx: ExecContext): boolean => {
    for (const l of lettings) setField(row.vars, l.name, l.fn(row, ctx));
    return havingFn === undefined || truthy(havingFn(row, ctx));
  };
  function* grouped(outer: Row, ctx: ExecContext): Generator<Row | Pause> {
    const groups = new Map<string, { row: Row; states: AggState[]; members?: Value[] }>();
    // Per row: the aggregates' inputs (SKIP where FILTER leaves the row out); the key is returned.
    const inputs: (Value | typeof SKIP)[] = new Array(aggs.length);
    const groupInputs = (row: Row, ctx: ExecContext): string => {
      let key = '';
      for (const g of groupKeys) key += valueKey(g(row, ctx)) + '\u0001';
      for (let i = 0; i < aggs.length; i++) {
        const a = aggs[i];
        inputs[i] = a.filter && !truthy(a.filter(row, ctx)) ? SKIP : a.star ? 1 : a.arg!(row, ctx);
      }
      return key;
    };
    let n = 0;
    for (const row of filtered(outer, ctx)) {
      if (row === PAUSE) {
        yield row;
        continue;
      }
      if ((++n & 1023) === 0) ctx.checkDeadline();
      // The group key and every aggregate's input, computed before any group changes (so an
      // evaluation a JavaScript call suspends can run again whole).
      let key: string | Retry;
      while ((key = attempt(groupInputs, row, ctx)) === RETRY) yield PAUSE;
      let grp = groups.get(key);
      if (!grp) {
        grp = { row, states: aggs.map(makeAgg), members: groupAs ? [] : undefined };
        groups.set(key, grp);
      }
      // GROUP AS: each row of the group as an object of its FROM terms.
      if (grp.members) grp.members.push(sortedObject(fromAliases.map((a) => [a, row.vars[a]])));
      for (let i = 0; i < aggs.length; i++) if (inputs[i] !== SKIP) grp.states[i].add(inputs[i] as Value);
    }
    if (groups.size === 0 && groupKeys.length === 0) {
      // Aggregates without GROUP BY over no rows still produce one row (COUNT 0, others NULL).
      groups.set('', { row: { vars: Object.create(outer.vars), metas: outer.metas }, states: aggs.map(makeAgg), members: groupAs ? [] : undefined });
    }
    for (const grp of groups.values()) {
      const row: Row = { vars: Object.create(grp.row.vars), metas: grp.row.metas, aggs: grp.states.map((s) => s.result()) };
      if (groupAs) setField(row.vars, groupAs, grp.members!);
      let keep: boolean | Retry;
      while ((keep = attempt(admitGroup, row, ctx)) === RETRY) yield PAUSE;
      if (keep) yield row;
    }
  }

  const groupedOrFiltered = aggregated ? grouped : filtered;
  // With window functions, every row of the block is read before the first is projected.
  const rowsOf = (outer: Row, ctx: ExecContext): Iterable<Row | Pause> => (windows.calls.length === 0 ? groupedOrFiltered(outer, ctx) : windowed(outer, ctx));
  function* windowed(outer: Row, ctx: ExecContext): Generator<Row | Pause> {
    const all: Row[] = [];
    for (const row of groupedOrFiltered(outer, ctx)) {
      if (row === PAUSE) yield row;
      else all.push(row);
    }
    for (const row of all) row.wins = new Array(windows.calls.length);
    const compute = (rows: Row[], ctx: ExecContext): void =>
      windows.calls.forEach((call, i) => {
        const term = `${call.name.toUpperCase()}() OVER`;
        evaluating(term, () => computeWindow(call, rows, ctx, (row, v) => (row.wins![i] = v)));
      });
    while (attempt(compute, all, ctx) === RETRY) yield PAUSE;
    yield* all;
  }
  const exclude = block.exclude ? excluder(block.exclude, fromAliases.length === 1 ? fromAliases[0] : undefined) : undefined;
  if (block.exclude) explain.push(op({ '#operator': 'Exclude' }, { exclude: () => block.exclude!.map(formatExpr) }));
  // The scan, fetch and joins, then the per-row operators run in parallel (as the server plans them).
  return {
    // Without FROM the server plans a DummyScan (one empty row) and runs the rest on one thread.
    explain: fromPlan
      ? [...fromPlan.explain, { '#operator': 'Parallel', '~child': { '#operator': 'Sequence', '~children': explain } }]
      : [{ '#operator': 'DummyScan' }, { '#operator': 'Parallel', maxParallelism: 1, '~child': { '#operator': 'Sequence', '~children': explain } }],
    signature,
    scope: groupScope,
    aliases,
    grouping,
    ordered,
    *run(outer, ctx) {
      // Under profile the projection is timed as the "project" phase; otherwise nothing is added per row.
      const projectRow = ctx.profile ? profiledProject(project, ctx.profile) : project;
      for (const row of rowsOf(outer, ctx)) {
        if (row === PAUSE) {
          yield row;
          continue;
        }
        let value: Value | Retry;
        while ((value = attempt(projectRow, row, ctx)) === RETRY) yield PAUSE;
        if (rawFn && value === undefined) continue;
        if (exclude) value = exclude(value);
        yield { row, value, own: true };
      }
    },
  };
}

/** A path expression (`a.b`, `` `x` ``) as field names, or undefined for anything else. */
function pathSteps(e: A.Expr): string[] | undefined {
  if (e.kind === 'ident') return [e.name];
  if (e.kind === 'field') {
    const t = pathSteps(e.target);
    return t && [...t, e.name];
  }
  if (e.kind === 'index' && e.index.kind === 'lit' && typeof e.index.value === 'string') {
    const t = pathSteps(e.target);
    return t && [...t, e.index.value];
  }
  return undefined;
}

/** `value` without the field at `steps`, copying only the objects on the path; undefined when there is no such field. */
function withoutPath(value: Value, steps: string[]): Value | undefined {
  if (!isObject(value) || !Object.hasOwn(value, steps[0])) return undefined;
  const copy: ObjectValue = { ...value };
  if (steps.length === 1) {
    delete copy[steps[0]];
    return copy;
  }
  const inner = withoutPath(value[steps[0]], steps.slice(1));
  if (inner === undefined) return undefined;
  setField(copy, steps[0], inner);
  return copy;
}

/**
 * EXCLUDE: removes each term's field from a result. A term names a field as the result shows
 * it; with one FROM term, an unqualified name is also tried under that term's alias (SELECT *
 * wraps the document under it).
 */
function excluder(terms: A.Expr[], alias: string | undefined): (v: Value) => Value {
  const paths = terms.map((t) => {
    const steps = pathSteps(t);
    if (!steps) throw new QueryError(ErrorCode.SEMANTIC, `EXCLUDE term ${formatExpr(t)} must be a field name or path.`);
    return alias !== undefined && steps[0] !== alias ? [steps, [alias, ...steps]] : [steps];
  });
  return (v) => {
    for (const candidates of paths) {
      for (const steps of candidates) {
        const out = withoutPath(v, steps);
        if (out !== undefined) {
          v = out;
          break;
        }
      }
    }
    return v;
  };
}

// ---------------------------------------------------------------------------------------------
// Statements

function* distinctItems(items: Iterable<Item | Pause>): Generator<Item | Pause> {
  const seen = new Set<string>();
  for (const it of items) {
    if (it === PAUSE) {
      yield it;
      continue;
    }
    const k = valueKey(it.value);
    if (seen.has(k)) continue;
    seen.add(k);
    yield it;
  }
}

interface BodyPlan {
  run(outer: Row, ctx: ExecContext): Iterable<Item | Pause>;
  explain: Record<string, unknown>;
  signature: Value;
  /** Present for a single block: ORDER BY may then use the block's variables. */
  block?: BlockPlan;
}

function compileBody(body: A.SelectBody, scope: Scope, env: Env, orderBy?: A.OrderTerm[]): BodyPlan {
  if (body.kind === 'block') {
    const b = compileBlock(body, scope, env, orderBy);
    const distinct = body.distinct;
    if (distinct) b.explain.push({ '#operator': 'Distinct' });
    return {
      block: b,
      signature: b.signature,
      explain: { '#operator': 'Sequence', '~children': b.explain },
      run: distinct ? (o, c) => distinctItems(b.run(o, c)) : (o, c) => b.run(o, c),
    };
  }
  if (body.kind === 'paren') {
    const q = compileSelect(body.query, scope, env);
    return {
      signature: q.signature,
      explain: q.explain,
      *run(o, c) {
        for (const value of q.run(o, c)) yield value === PAUSE ? value : { row: o, value, own: false };
      },
    };
  }
  const left = compileBody(body.left, scope, env);
  const right = compileBody(body.right, scope, env);
  const op = body.op;
  const all = body.all;
  const name = { union: 'UnionAll', intersect: 'IntersectAll', except: 'ExceptAll' }[op];
  return {
    signature: left.signature,
    explain: { '#operator': all ? name : name.replace('All', ''), '~children': [left.explain, right.explain] },
    run(o, c) {
      if (op === 'union') {
        const both = (function* () {
          yield* left.run(o, c);
          yield* right.run(o, c);
        })();
        return all ? both : distinctItems(both);
      }
      return (function* () {
        const counts = new Map<string, number>();
        for (const it of right.run(o, c)) {
          if (it === PAUSE) {
            yield it;
            continue;
          }
          const k = valueKey(it.value);
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
        const out = (function* () {
          for (const it of left.run(o, c)) {
            if (it === PAUSE) {
              yield it;
              continue;
            }
            const k = valueKey(it.value);
            const n = counts.get(k) ?? 0;
            if (op === 'intersect' ? n > 0 : n === 0) {
              if (all && op === 'intersect') counts.set(k, n - 1);
              yield it;
            }
          }
        })();
        yield* all ? out : distinctItems(out);
      })();
    },
  };
}

function makeSubqueryScope(base: Scope, env: Env): Scope {
  return { ...base, subquery: (q, s) => {
    const correlated = isCorrelated(q, s.names);
    const plan = compileSelect(q, { ...s, aggregates: undefined, windows: undefined, clause: undefined, enclosing: undefined, correlated }, env);
    return (row, ctx) => plan.run(row, ctx);
  } };
}

/** The top-level scope of a statement. */
export function rootScope(env: Env): Scope {
  return makeSubqueryScope({ names: new Set(), subquery: () => [] as never, udf: (call) => userFunction(call, env), sequence: (e) => compileSequenceOperator(e, env) }, env);
}

/** 3081: a LET, LETTING or WITH name already bound in the same scope. */
function duplicateVariable(b: A.LetBinding): QueryError {
  return new QueryError(3081, `Duplicate variable: '${b.name}' already in scope${nearText(b.at)}.`);
}

/** An aggregate's input for a row its FILTER leaves out. */
const SKIP: unique symbol = Symbol('skip');

/** How deep user-defined functions call each other right now (statements run synchronously). */
let udfDepth = 0;
const MAX_UDF_DEPTH = 128;

/** The user-defined function `call` names, checked against its arguments, as a function of their values. */
function userFunction(call: A.Expr & { kind: 'call' }, env: Env): ((args: Value[], ctx: ExecContext) => Value) | undefined {
  const where = resolveName(env, call.fn ?? { name: call.rawName ?? call.name });
  const def = findFunction(env, where);
  if (!def) {
    if (call.fn) throw FunctionErrors.missing(qualifiedName(where));
    // Neither built in nor defined: the server names the function the bare name resolved to.
    throw new QueryError(ErrorCode.SEMANTIC, `Invalid function ${call.rawName ?? call.name} (resolving to ${qualifiedName(where)})${nearText(call.at)}`);
  }
  return invoker(def, call.args.length, env);
}

/** Calls `def` with `argc` arguments; its body is compiled at the first call (so functions may recurse). */
export function invoker(def: FunctionDefinition, argc: number, env: Env): (args: Value[], ctx: ExecContext) => Value {
  mayUseFunction(env, def, 'execute');
  if (def.params && def.params.length !== argc) throw FunctionErrors.arguments(def.name);
  if (def.language === 'javascript') return javascriptFunction(def, env.javascript ?? defaultRunner());
  const names = def.params ?? ['args'];
  // Keyspaces in the body resolve against the function's own namespace or scope.
  const fenv: Env = { ...env, queryContext: def.bucket !== undefined ? { bucket: def.bucket, scope: def.scope } : undefined };
  let body: Compiled | undefined;
  return (args, ctx) => {
    if (!body) body = compile(parseExpression(def.text), childScope(rootScope(fenv), names));
    if (udfDepth >= MAX_UDF_DEPTH) throw new QueryError(10112, `Error executing function ${def.name}: ${MAX_UDF_DEPTH} nested function calls`);
    const row = rowOf(names[0], def.params ? args[0] : args);
    for (let i = 1; i < names.length; i++) setField(row.vars, names[i], args[i]);
    udfDepth++;
    try {
      return body(row, ctx);
    } catch (err) {
      if (err instanceof AbortError) throw new QueryError(10109, `Error executing function ${def.name} : ${err.text} - cause: ${err.text}`);
      throw err;
    } finally {
      udfDepth--;
    }
  };
}

function limitValue(fn: Compiled | undefined, row: Row, ctx: ExecContext, what: string): number | undefined {
  if (!fn) return undefined;
  const w = fn(row, ctx);
  const v = typeof w === 'bigint' ? Number(w) : w;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new QueryError(ErrorCode.EXECUTION, `Invalid ${what} value ${JSON.stringify(v ?? null)}.`);
  return Math.max(0, Math.trunc(v));
}

/**
 * A WITH term: a recursive CTE when its step reads its name (else the UNION is an ordinary query,
 * as the server splits only then); a term that reads its own name without RECURSIVE cannot be
 * evaluated (the server's "Error evaluating WITH").
 */
function compileWith(w: A.LetBinding, scope: Scope, env: Env): Compiled {
  if (w.recursive && stepReadsCte(w.name, w.recursive)) return compileRecursiveCte(w.name, w.recursive, scope, (q, s) => compileSelect(q, s, env).run);
  if (w.expr.kind === 'subquery') {
    if (w.inRecursiveClause) checkRecursiveClauseSelect(w.expr.query);
    else if (selectReads(w.name, w.expr.query)) {
      throw new QueryError(ErrorCode.EVALUATION, `Error evaluating WITH - cause: ${w.name} refers to itself; a CTE that reads its own name must be declared WITH RECURSIVE`);
    }
  }
  return compile(w.expr, scope);
}

export function compileSelect(stmt: A.SelectStatement, outerScope: Scope, env: Env): CompiledQuery {
  let scope = makeSubqueryScope(outerScope, env);
  const withs: { name: string; fn: Compiled }[] = [];
  for (const w of stmt.with) {
    if (stmt.with.some((o) => o !== w && o.name === w.name && stmt.with.indexOf(o) < stmt.with.indexOf(w))) throw duplicateVariable(w);
    const fn = compileWith(w, scope, env);
    withs.push({ name: w.name, fn });
    scope = childScope(scope, [w.name]);
  }
  const body = compileBody(stmt.body, scope, env, stmt.orderBy);
  const children: Record<string, unknown>[] = [body.explain];
  let orderFns: { fn: Compiled; desc: boolean; nulls?: 'first' | 'last' }[] | undefined;
  if (stmt.orderBy) {
    let oscope: Scope;
    let terms: A.OrderTerm[];
    if (body.block) {
      const grouping = body.block.grouping;
      if (grouping) for (const t of stmt.orderBy) grouping.require(t.expr, body.block.aliases);
      const shadow = new Set<string>();
      oscope = { ...childScope(body.block.scope, [OUT]), clause: 'ORDER BY' };
      for (const n of body.block.scope.names) if (!body.block.aliases.has(n)) shadow.add(n);
      terms = stmt.orderBy.map((t) => ({ ...t, expr: aliasRefs(t.expr, body.block!.aliases, shadow) }));
    } else {
      oscope = { ...scope, names: new Set([...scope.names, OUT]), implicit: OUT };
      terms = stmt.orderBy;
    }
    orderFns = terms.map((t) => ({ fn: guard('ORDER BY', compile(t.expr, oscope)), desc: t.desc, nulls: t.nulls }));
    // Rows the index scan gives in this order need no sort (and the scan stops at OFFSET + LIMIT).
    if (body.block?.ordered) orderFns = undefined;
    else children.push(op({ '#operator': 'Order' }, { sort_terms: () => stmt.orderBy!.map((t) => ({ expr: formatExpr(t.expr), desc: t.desc || undefined })) }));
  }
  const offsetFn = stmt.offset ? compile(stmt.offset, scope) : undefined;
  const limitFn = stmt.limit ? compile(stmt.limit, scope) : undefined;
  if (stmt.offset) children.push(op({ '#operator': 'Offset' }, { expr: () => formatExpr(stmt.offset!) }));
  if (stmt.limit) children.push(op({ '#operator': 'Limit' }, { expr: () => formatExpr(stmt.limit!) }));

  const start = (outer: Row, ctx: ExecContext): { row: Row; offset: number; limit: number | undefined } => {
    let row = outer;
    if (withs.length) {
      row = { vars: Object.create(outer.vars), metas: outer.metas };
      for (const w of withs) row.vars[w.name] = w.fn(row, ctx);
    }
    return { row, offset: limitValue(offsetFn, row, ctx, 'OFFSET') ?? 0, limit: limitValue(limitFn, row, ctx, 'LIMIT') };
  };
  const run = function* (outer: Row, ctx: ExecContext): Generator<Value | Pause> {
    let started: ReturnType<typeof start> | Retry;
    while ((started = attempt(start, outer, ctx)) === RETRY) yield PAUSE;
    const { row, offset, limit } = started;
    if (limit === 0) return;
    let items: Iterable<Item | Pause> = body.run(row, ctx);
    if (orderFns) items = sortItems(items, orderFns, ctx, limit === undefined ? undefined : offset + limit);
    let skipped = 0;
    let emitted = 0;
    for (const it of items) {
      if (it === PAUSE) {
        yield it;
        continue;
      }
      if (skipped < offset) {
        skipped++;
        continue;
      }
      yield it.value;
      if (limit !== undefined && ++emitted >= limit) return;
    }
  };
  return { run, explain: children.length === 1 ? body.explain : { '#operator': 'Sequence', '~children': children }, signature: body.signature };
}

function* sortItems(items: Iterable<Item | Pause>, terms: { fn: Compiled; desc: boolean; nulls?: 'first' | 'last' }[], ctx: ExecContext, keep?: number): Generator<Item | Pause> {
  type Keyed = { item: Item; keys: Value[]; seq: number };
  const cmp = (a: Keyed, b: Keyed): number => {
    for (let i = 0; i < terms.length; i++) {
      const t = terms[i];
      const x = a.keys[i];
      const y = b.keys[i];
      let c: number;
      if (t.nulls) {
        const xn = x === null || x === undefined;
        const yn = y === null || y === undefined;
        if (xn !== yn) {
          c = xn === (t.nulls === 'first') ? -1 : 1;
          return c;
        }
      }
      c = collate(x, y);
      if (c !== 0) return t.desc ? -c : c;
    }
    return a.seq - b.seq;
  };
  const sortKeys = (r: Row, ctx: ExecContext): Value[] => {
    const keys: Value[] = new Array(terms.length);
    for (let i = 0; i < terms.length; i++) keys[i] = terms[i].fn(r, ctx);
    return keys;
  };
  const out: Keyed[] = [];
  let seq = 0;
  // profile: the "sort" phase counts the rows sorted; its time is the sorting, not the input's.
  const prof = ctx.profile;
  prof?.operator('sort');
  let sortMs = 0;
  for (const item of items) {
    if (item === PAUSE) {
      yield item;
      continue;
    }
    if ((seq & 1023) === 0) ctx.checkDeadline();
    const t = prof ? performance.now() : 0;
    // Each item owns its row (or shares only the outer row, for set operators), so the projected
    // value can be bound in place; Object.create per row would turn every row into a prototype.
    const r: Row = item.own ? item.row : rowOf(OUT, item.value);
    r.vars[OUT] = item.value;
    let keys: Value[] | Retry;
    while ((keys = attempt(sortKeys, r, ctx)) === RETRY) yield PAUSE;
    const k: Keyed = { item, keys, seq: seq++ };
    if (keep === undefined) {
      out.push(k);
      continue;
    }
    // Top-k: keep a sorted buffer of at most `keep` items.
    if (out.length >= keep && cmp(k, out[out.length - 1]) >= 0) continue;
    let lo = 0;
    let hi = out.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(out[mid], k) <= 0) lo = mid + 1;
      else hi = mid;
    }
    out.splice(lo, 0, k);
    if (out.length > keep) out.pop();
    if (prof) sortMs += performance.now() - t;
  }
  if (keep === undefined) {
    let n = 0;
    const t = prof ? performance.now() : 0;
    // The comparator may throw the timeout error: a sort of millions of rows stops at the deadline too.
    out.sort((a, b) => {
      if ((++n & 4095) === 0) ctx.checkDeadline();
      return cmp(a, b);
    });
    if (prof) sortMs += performance.now() - t;
  }
  if (prof) {
    prof.count('sort', seq);
    prof.time('sort', sortMs);
  }
  for (const k of out) yield k.item;
}

export { distinctValues, docRelative, docValue };

