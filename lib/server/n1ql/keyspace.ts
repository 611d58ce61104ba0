// Resolving keyspace names, and choosing how to read a keyspace: USE KEYS, a secondary index
// range scan, or a primary scan (Couchbase's planner rules, simplified: the index that matches
// the most leading keys of sargable WHERE/ON conjuncts wins; no index and no primary -> 4000).
import type * as A from './ast';
import type { BucketStore, StoredDoc } from '../service-types';
import { QueryError, ErrorCode } from './errors';
import { childScope, compile, type Compiled, type ExecContext, type Row, type Scope } from './expr';
import { formatExpr, freeIdents, mapChildren } from './format';
import { likePrefix } from './like';
import type { Access } from './privileges';
import { catalogFor, docValue, type Index, type Span } from './indexes';
import { collate, type Value } from './value';

export interface Env {
  bucket(name: string): BucketStore | undefined;
  buckets(): BucketStore[];
  /** Whether the caller may read (SELECT) or change (DML, index DDL) this bucket (see ./privileges). */
  canAccess(bucket: string, access: Access): boolean;
  /** Couchbase's 13014 message when the caller may not run a `verb` statement on `ks` (see ./privileges). */
  denied(ks: A.KeyspaceRef, verb: string, text: string): string | undefined;
  /** The request's query_context (`default:bucket.scope`): bare names are collections in it. */
  queryContext?: { bucket: string; scope?: string };
}

/** Parses a query_context parameter: "default:`b`.`s`", "`b`.`s`", "default:b" or "b". */
export function parseQueryContext(text: string): { bucket: string; scope?: string } | undefined {
  let rest = text.trim();
  const colon = rest.indexOf(':');
  if (colon >= 0 && !rest.slice(0, colon).includes('`')) rest = rest.slice(colon + 1);
  const parts: string[] = [];
  const re = /`((?:[^`]|``)*)`|([^.`]+)/y;
  while (rest.length) {
    const m = re.exec(rest);
    if (!m) return undefined;
    parts.push(m[1] !== undefined ? m[1].replace(/``/g, '`') : m[2]);
    rest = rest.slice(re.lastIndex);
    re.lastIndex = 0;
    if (rest.startsWith('.')) rest = rest.slice(1);
  }
  if (parts.length === 0 || parts.length > 2) return undefined;
  return { bucket: parts[0], scope: parts[1] };
}

export function keyspaceText(ks: A.KeyspaceRef): string {
  return `${ks.namespace}:${ks.bucket}${ks.scope ? `.${ks.scope}.${ks.collection}` : ''}`;
}

/** The bucket behind a keyspace reference, or Couchbase's 12003 / 13014 errors. */
export function resolveBucket(env: Env, ks: A.KeyspaceRef, verb = 'SELECT'): BucketStore {
  const qc = env.queryContext;
  if (qc?.scope !== undefined && ks.scope === undefined && ks.namespace === 'default') {
    ks = { namespace: 'default', bucket: qc.bucket, scope: qc.scope, collection: ks.bucket };
  }
  if (ks.namespace !== 'default') throw new QueryError(ErrorCode.KEYSPACE_NOT_FOUND, `Keyspace not found in CB datastore: ${keyspaceText(ks)} - cause: No namespace named ${ks.namespace}`);
  const store = env.bucket(ks.bucket);
  if (!store) throw new QueryError(ErrorCode.KEYSPACE_NOT_FOUND, `Keyspace not found in CB datastore: ${keyspaceText(ks)} - cause: No bucket named ${ks.bucket}`);
  if (ks.scope !== undefined && (ks.scope !== '_default' || ks.collection !== '_default')) {
    throw new QueryError(ErrorCode.KEYSPACE_NOT_FOUND, `Keyspace not found in CB datastore: ${keyspaceText(ks)} - cause: No collection named ${ks.scope}.${ks.collection}`);
  }
  const denied = env.denied(ks, verb, keyspaceText(ks));
  if (denied !== undefined) throw new QueryError(ErrorCode.INSUFFICIENT_CREDENTIALS, denied);
  return store;
}

export function noIndexError(ks: A.KeyspaceRef): QueryError {
  const name = `\`${ks.namespace}\`:\`${ks.bucket}\``;
  return new QueryError(
    ErrorCode.PLAN,
    `No index available on keyspace ${name} that matches your query. Use CREATE PRIMARY INDEX ON ${name} to create a primary index, or check that your expected index is online.`,
  );
}

export function conjuncts(e: A.Expr | undefined): A.Expr[] {
  if (!e) return [];
  if (e.kind === 'and') return e.args.flatMap(conjuncts);
  return [e];
}

/**
 * `e` rewritten relative to the document of `alias` (`t.name` -> `name`, `META(t)` -> `META()`),
 * or undefined when it reads anything else (another variable, a parameter, a subquery).
 */
export function docRelative(e: A.Expr, alias: string, implicit: boolean, scopeNames: Set<string>): A.Expr | undefined {
  let usesDoc = false;
  let ok = true;
  const walk = (x: A.Expr): A.Expr => {
    if (!ok) return x;
    if (x.kind === 'field' && x.target.kind === 'ident' && x.target.name === alias) {
      usesDoc = true;
      return { kind: 'ident', name: x.name };
    }
    if (x.kind === 'ident') {
      if (x.name === alias || scopeNames.has(x.name) || !implicit) ok = false;
      else usesDoc = true;
      return x;
    }
    if (x.kind === 'call' && x.name === 'meta') {
      if (x.args.length === 0 ? implicit : x.args.length === 1 && x.args[0].kind === 'ident' && x.args[0].name === alias) {
        usesDoc = true;
        return { kind: 'call', name: 'meta', args: [] };
      }
      ok = false;
      return x;
    }
    if (x.kind === 'param' || x.kind === 'subquery' || x.kind === 'quant' || x.kind === 'collect' || x.kind === 'exists') {
      ok = false;
      return x;
    }
    if (x.kind === 'call' && (x.name === 'random' || x.name === 'uuid' || x.name.startsWith('clock_'))) ok = false;
    return mapChildren(x, walk);
  };
  const out = walk(e);
  return ok && usesDoc ? out : undefined;
}

/** Whether `e` can be evaluated before the document of `alias` is read. */
export function independentOf(e: A.Expr, alias: string, implicit: boolean, available: Set<string>): boolean {
  const free = freeIdents(e);
  if (free.has('\0subquery')) return false;
  if (free.has('\0meta')) return false;
  for (const n of free) {
    if (n === alias) return false;
    if (!available.has(n)) return false;
    if (implicit && !available.has(n)) return false;
  }
  return true;
}

const LOOP_VAR = '\u0000v';

function renameIdent(e: A.Expr, from: string, to: string): A.Expr {
  if (e.kind === 'ident') return e.name === from ? { kind: 'ident', name: to } : e;
  if (e.kind === 'quant' || e.kind === 'collect') return e;
  return mapChildren(e, (x) => renameIdent(x, from, to));
}

/** The text an index key is matched by: array keys with their loop variable renamed. */
export function sargKeyText(e: A.Expr): string {
  if (e.kind === 'collect' && e.collect === 'array' && e.bindings.length === 1 && !e.bindings[0].pos && !e.bindings[0].within && !e.when) {
    const b = e.bindings[0];
    return arrayKeyText(renameIdent(e.value, b.name, LOOP_VAR), b.expr);
  }
  return formatExpr(e);
}

function arrayKeyText(value: A.Expr, source: A.Expr): string {
  return formatExpr({ kind: 'collect', collect: 'array', value, bindings: [{ name: LOOP_VAR, expr: source, within: false }] });
}

type SargOp = 'eq' | 'in' | 'lt' | 'le' | 'gt' | 'ge' | 'like' | 'notnull' | 'valued';

interface Sarg {
  key: string;
  op: SargOp;
  values: Compiled[];
}

const FLIP: Record<string, SargOp> = { '=': 'eq', '<': 'gt', '<=': 'ge', '>': 'lt', '>=': 'le' };
const KEEP: Record<string, SargOp> = { '=': 'eq', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };

/** Extracts sargable predicates on the document of `alias` from a list of conjuncts. */
/** Span values that read a variable bound per row (a join's left side): they change per probe. */
const perRowValues = new WeakSet<Compiled>();

function markPerRow(e: A.Expr, fn: Compiled, rowNames: Set<string> | undefined): Compiled {
  if (rowNames) for (const n of freeIdents(e)) if (rowNames.has(n)) perRowValues.add(fn);
  return fn;
}

export function sargs(conds: A.Expr[], alias: string, implicit: boolean, scope: Scope, available: Set<string>, rowNames?: Set<string>): { sargs: Sarg[]; texts: Set<string> } {
  const out: Sarg[] = [];
  const texts = new Set<string>();
  const rel = (e: A.Expr): string | undefined => {
    const r = docRelative(e, alias, implicit, scope.names);
    return r ? formatExpr(r) : undefined;
  };
  const val = (e: A.Expr): Compiled | undefined => (independentOf(e, alias, implicit, available) ? markPerRow(e, compile(e, scope), rowNames) : undefined);
  for (const c of conds) {
    if (c.kind === 'quant' && c.quant !== 'every' && c.bindings.length === 1 && !c.bindings[0].pos && !c.bindings[0].within) {
      // ANY v IN arr SATISFIES v.f = x END matches an array index ARRAY v.f FOR v IN arr END
      const b = c.bindings[0];
      const src = docRelative(b.expr, alias, implicit, scope.names);
      if (src) {
        const inner = childScope(scope, [b.name]);
        for (const part of conjuncts(c.satisfies)) {
          if (part.kind !== 'binary' || !KEEP[part.op]) continue;
          const sides: [A.Expr, A.Expr, Record<string, SargOp>][] = [
            [part.left, part.right, KEEP],
            [part.right, part.left, FLIP],
          ];
          for (const [loopSide, valueSide, ops] of sides) {
            const free = freeIdents(loopSide);
            if (!free.has(b.name) || free.size !== 1) continue;
            if (!independentOf(valueSide, alias, implicit, available) || freeIdents(valueSide).has(b.name)) continue;
            out.push({ key: arrayKeyText(renameIdent(loopSide, b.name, LOOP_VAR), src), op: ops[part.op], values: [markPerRow(valueSide, compile(valueSide, inner), rowNames)] });
            break;
          }
        }
      }
      continue;
    }
    const whole = docRelative(c, alias, implicit, scope.names);
    if (whole) texts.add(formatExpr(whole));
    if (c.kind === 'binary' && KEEP[c.op]) {
      const l = rel(c.left);
      const rv = l ? val(c.right) : undefined;
      if (l && rv) {
        out.push({ key: l, op: KEEP[c.op], values: [rv] });
        continue;
      }
      const r = rel(c.right);
      const lv = r ? val(c.left) : undefined;
      if (r && lv) out.push({ key: r, op: FLIP[c.op], values: [lv] });
      continue;
    }
    if (c.kind === 'between' && !c.not) {
      const k = rel(c.arg);
      const lo = k && val(c.low);
      const hi = k && val(c.high);
      if (k && lo && hi) {
        out.push({ key: k, op: 'ge', values: [lo] }, { key: k, op: 'le', values: [hi] });
      }
      continue;
    }
    if (c.kind === 'in' && !c.not && !c.within) {
      const k = rel(c.arg);
      const l = k && val(c.list);
      if (k && l) out.push({ key: k, op: 'in', values: [l] });
      continue;
    }
    if (c.kind === 'like' && !c.not && !c.escape) {
      const k = rel(c.arg);
      const p = k && val(c.pattern);
      if (k && p) out.push({ key: k, op: 'like', values: [p] });
      continue;
    }
    if (c.kind === 'is' && c.not && c.what !== 'valued') {
      const k = rel(c.arg);
      if (k) out.push({ key: k, op: c.what === 'null' ? 'notnull' : 'valued', values: [] });
      continue;
    }
    if (c.kind === 'is' && !c.not && c.what === 'valued') {
      const k = rel(c.arg);
      if (k) out.push({ key: k, op: 'notnull', values: [] });
    }
  }
  return { sargs: out, texts };
}

/** A range over one index key, built at run time from the sargs' values. */
interface KeyRange {
  points?: Value[]; // equality / IN
  low?: Value;
  lowIncl: boolean;
  high?: Value;
  highIncl: boolean;
  hasLow: boolean;
  hasHigh: boolean;
  empty: boolean;
}

function rangeFor(list: Sarg[], row: Row, ctx: ExecContext): KeyRange {
  const r: KeyRange = { lowIncl: true, highIncl: true, hasLow: false, hasHigh: false, empty: false };
  const setLow = (v: Value, incl: boolean): void => {
    if (!r.hasLow || collate(v, r.low) > 0 || (collate(v, r.low) === 0 && !incl)) {
      r.low = v;
      r.lowIncl = incl;
      r.hasLow = true;
    }
  };
  const setHigh = (v: Value, incl: boolean): void => {
    if (!r.hasHigh || collate(v, r.high) < 0 || (collate(v, r.high) === 0 && !incl)) {
      r.high = v;
      r.highIncl = incl;
      r.hasHigh = true;
    }
  };
  for (const s of list) {
    const v = s.values.length ? s.values[0](row, ctx) : undefined;
    switch (s.op) {
      case 'eq':
        if (v === undefined || v === null) r.empty = true;
        else r.points = r.points ? r.points.filter((p) => collate(p, v) === 0) : [v];
        break;
      case 'in':
        if (!Array.isArray(v)) r.empty = true;
        else {
          const vals = v.filter((x) => x !== null && x !== undefined).sort(collate);
          r.points = r.points ? r.points.filter((p) => vals.some((x) => collate(p, x) === 0)) : vals;
        }
        break;
      case 'lt':
      case 'le':
        if (v === undefined || v === null) r.empty = true;
        else setHigh(v, s.op === 'le');
        setLow(null, false);
        break;
      case 'gt':
      case 'ge':
        if (v === undefined || v === null) r.empty = true;
        else setLow(v, s.op === 'ge');
        break;
      case 'like':
        if (typeof v !== 'string') r.empty = true;
        else {
          const pre = likePrefix(v);
          setLow(pre, true);
          if (pre) setHigh(pre.slice(0, -1) + String.fromCharCode(pre.charCodeAt(pre.length - 1) + 1), false);
          else setHigh([], false);
        }
        break;
      case 'notnull':
        setLow(null, false);
        break;
      case 'valued':
        break;
    }
  }
  if (r.points && r.points.length === 0) r.empty = true;
  return r;
}

export interface AccessPath {
  /** Whether the spans depend on the current row (an index nested-loop probe). */
  perRow?: boolean;
  /** Document ids to fetch, in scan order; the WHERE filter still runs on every fetched doc. */
  ids(row: Row, ctx: ExecContext): Iterable<string>;
  explain: Record<string, unknown>;
  index?: Index;
}

/** Picks the access path for `alias` over `store`, or throws 4000 when only a primary would do and none exists. */
export function chooseAccess(
  ks: A.KeyspaceRef,
  store: BucketStore,
  alias: string,
  implicit: boolean,
  useKeys: A.Expr | undefined,
  conds: A.Expr[],
  scope: Scope,
  available: Set<string>,
  useIndex?: string[],
  rowNames?: Set<string>,
): AccessPath {
  const base = { keyspace: ks.bucket, namespace: ks.namespace };
  if (useKeys) {
    const keys = compile(useKeys, scope);
    return {
      explain: { '#operator': 'KeyScan', keys: formatExpr(useKeys) },
      *ids(row, ctx) {
        const k = keys(row, ctx);
        if (typeof k === 'string') yield k;
        else if (Array.isArray(k)) for (const x of k) if (typeof x === 'string') yield x;
      },
    };
  }
  const catalog = catalogFor(store);
  const { sargs: found, texts } = sargs(conds, alias, implicit, scope, available, rowNames);
  let best: { index: Index; keys: Sarg[][]; score: number } | undefined;
  for (const ix of catalog.list()) {
    if (ix.state !== 'online') continue;
    if (useIndex && useIndex.length && !useIndex.includes(ix.name)) continue;
    const keyTexts = ix.primary ? ['(meta().`id`)'] : ix.keys.map((k) => sargKeyText(k.expr));
    if (ix.where && !conjuncts(ix.where).every((c) => texts.has(formatExpr(c)))) continue;
    const perKey: Sarg[][] = [];
    let score = 0;
    for (const kt of keyTexts) {
      const list = found.filter((s) => s.key === kt);
      if (!list.length) break;
      perKey.push(list);
      const eq = list.some((s) => s.op === 'eq' || s.op === 'in');
      score += eq ? 2 : 1;
      if (!eq) break;
    }
    if (ix.primary && score === 0) continue;
    if (!ix.primary && score === 0 && !(ix.where && useIndex?.includes(ix.name))) continue;
    if (ix.where) score += 1; // a partial index that applies is more selective
    if (!best || score > best.score || (score === best.score && !ix.primary && best.index.primary)) best = { index: ix, keys: perKey, score };
  }
  if (best) {
    const { index, keys } = best;
    return {
      index,
      perRow: keys.some((list) => list.some((sg) => sg.values.some((v) => perRowValues.has(v)))),
      explain: {
        '#operator': index.primary ? 'PrimaryScan3' : 'IndexScan3',
        index: index.name,
        index_id: index.id,
        ...base,
        spans: keys.map((list) => list.map((s) => `${s.op} ${s.key}`)),
        using: 'gsi',
      },
      *ids(row, ctx) {
        yield* index.scan(buildSpans(keys, row, ctx));
      },
    };
  }
  const primary = catalog.primary();
  if (!primary) throw noIndexError(ks);
  return {
    index: primary,
    explain: { '#operator': 'PrimaryScan3', index: primary.name, index_id: primary.id, ...base, using: 'gsi' },
    ids() {
      return primary.scan([{ lowIncl: true, highIncl: true }]);
    },
  };
}

function buildSpans(keys: Sarg[][], row: Row, ctx: ExecContext): Span[] {
  let spans: { low: Value[]; high: Value[]; lowIncl: boolean; highIncl: boolean; open: boolean }[] = [
    { low: [], high: [], lowIncl: true, highIncl: true, open: false },
  ];
  for (const list of keys) {
    const r = rangeFor(list, row, ctx);
    if (r.empty) return [];
    const next: typeof spans = [];
    for (const s of spans) {
      if (r.points) {
        for (const p of r.points) next.push({ ...s, low: [...s.low, p], high: [...s.high, p] });
      } else {
        next.push({
          low: r.hasLow ? [...s.low, r.low] : s.low,
          high: r.hasHigh ? [...s.high, r.high] : s.high,
          lowIncl: r.hasLow ? r.lowIncl : true,
          highIncl: r.hasHigh ? r.highIncl : true,
          open: true,
        });
      }
    }
    spans = next;
    if (spans.length > 10000) break;
  }
  return spans.map((s) => ({
    low: s.low.length ? s.low : undefined,
    lowIncl: s.lowIncl,
    high: s.high.length ? s.high : undefined,
    highIncl: s.highIncl,
  }));
}

/** Fetches a document for a scanned id; undefined when it went away meanwhile. */
export function fetchDoc(store: BucketStore, id: string): { doc: StoredDoc; value: Value } | undefined {
  const doc = store.get(id);
  if (!doc) return undefined;
  return { doc, value: docValue(doc) };
}
