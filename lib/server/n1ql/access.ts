// Choosing how to read a keyspace, with Couchbase's planner rules (the rule-based planner a 7.6
// cluster uses when there are no optimizer statistics): USE KEYS; else an online secondary index
// whose leading key a predicate constrains (an array index for ANY ... SATISFIES and UNNEST; a
// partial index whose WHERE the query implies; one with INCLUDE MISSING on its leading key for
// any query); else the primary index; else error 4000. Among usable indexes the one matching
// more leading keys wins, then one that covers the query (no document is fetched: the rows are
// built from the index entries), then one that gives the ORDER BY order (no sort; the scan stops
// at OFFSET + LIMIT).
import type * as A from './ast';
import type { BucketStore } from '../service-types';
import { childScope, compile, type Compiled, type DocMeta, type ExecContext, type Row, type Scope } from './expr';
import { formatExpr, freeIdents, op, qualifyDoc } from './format';
import { likePrefix } from './like';
import { catalogFor, type Index, type IndexEntry, type Span } from './indexes';
import { conjuncts, docRelative, independentOf, noIndexError } from './keyspace';
import { arrayKeyText, LOOP_VAR, renameIdent } from './sargs-text';
import { collate, setField, type ObjectValue, type Value } from './value';

type SargOp = 'eq' | 'in' | 'lt' | 'le' | 'gt' | 'ge' | 'like' | 'null' | 'notnull' | 'valued';

interface Sarg {
  key: string;
  op: SargOp;
  values: Compiled[];
  /** The value expressions, for EXPLAIN. */
  texts: A.Expr[];
  /** Whether the span matches the predicate exactly (no filter needed to decide it). */
  exact: boolean;
}

const FLIP: Record<string, SargOp> = { '=': 'eq', '<': 'gt', '<=': 'ge', '>': 'lt', '>=': 'le' };
const KEEP: Record<string, SargOp> = { '=': 'eq', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };

/** Span values that read a variable bound per row (a join's left side): they change per probe. */
const perRowValues = new WeakSet<Compiled>();

function markPerRow(e: A.Expr, fn: Compiled, rowNames: Set<string> | undefined): Compiled {
  if (rowNames) for (const n of freeIdents(e)) if (rowNames.has(n)) perRowValues.add(fn);
  return fn;
}

interface SargContext {
  /** The key text an expression is indexed under, when it reads the document (or the loop variable) only. */
  keyOf(e: A.Expr): string | undefined;
  /** The compiled value of an expression known before the document is read, if it is one. */
  valueOf(e: A.Expr): Compiled | undefined;
}

/** The sargable form of one predicate, if it has one. */
function sargOf(c: A.Expr, cx: SargContext): Sarg[] {
  const one = (key: string, op: SargOp, values: A.Expr[], exact = true): Sarg[] | undefined => {
    const fns: Compiled[] = [];
    for (const v of values) {
      const f = cx.valueOf(v);
      if (!f) return undefined;
      fns.push(f);
    }
    return [{ key, op, values: fns, texts: values, exact }];
  };
  switch (c.kind) {
    case 'binary': {
      if (KEEP[c.op]) {
        const l = cx.keyOf(c.left);
        const fromLeft = l && one(l, KEEP[c.op], [c.right]);
        if (fromLeft) return fromLeft;
        const r = cx.keyOf(c.right);
        return (r && one(r, FLIP[c.op], [c.left])) || [];
      }
      if (c.op === '!=') {
        // x != v: every value but one; the filter removes that one.
        const l = cx.keyOf(c.left);
        if (l && cx.valueOf(c.right)) return [{ key: l, op: 'notnull', values: [], texts: [], exact: false }];
        const r = cx.keyOf(c.right);
        if (r && cx.valueOf(c.left)) return [{ key: r, op: 'notnull', values: [], texts: [], exact: false }];
      }
      return [];
    }
    case 'between': {
      if (c.not) return [];
      const k = cx.keyOf(c.arg);
      const lo = k && one(k, 'ge', [c.low]);
      const hi = k && one(k, 'le', [c.high]);
      return lo && hi ? [...lo, ...hi] : [];
    }
    case 'in': {
      if (c.not || c.within) return [];
      const k = cx.keyOf(c.arg);
      return (k && one(k, 'in', [c.list])) || [];
    }
    case 'like': {
      if (c.not || c.escape) return [];
      const k = cx.keyOf(c.arg);
      return (k && one(k, 'like', [c.pattern], false)) || [];
    }
    case 'is': {
      const k = cx.keyOf(c.arg);
      if (!k) return [];
      if (c.what === 'null') return [{ key: k, op: c.not ? 'notnull' : 'null', values: [], texts: [], exact: true }];
      if (c.what === 'missing') return c.not ? [{ key: k, op: 'valued', values: [], texts: [], exact: true }] : [];
      return c.not ? [] : [{ key: k, op: 'notnull', values: [], texts: [], exact: true }];
    }
    case 'or': {
      // x = 1 OR x = 2: the points of each; other disjunctions on one key: every value of it.
      const parts = c.args.map((a) => conjuncts(a).flatMap((p) => sargOf(p, cx)));
      if (parts.some((p) => p.length === 0)) return [];
      const keys = new Set(parts.flat().map((s) => s.key));
      if (keys.size !== 1) return [];
      const key = [...keys][0];
      if (parts.every((p) => p.length === 1 && p[0].op === 'eq')) {
        const fns = parts.map((p) => p[0].values[0]);
        const list: Compiled = (row, ctx) => fns.map((f) => f(row, ctx));
        for (const f of fns) if (perRowValues.has(f)) perRowValues.add(list);
        return [{ key, op: 'in', values: [list], texts: [{ kind: 'array', items: parts.map((p) => p[0].texts[0]) }], exact: true }];
      }
      return [{ key, op: 'valued', values: [], texts: [], exact: false }];
    }
    default:
      return [];
  }
}

export interface SargSet {
  sargs: Sarg[];
  /** Texts of the conjuncts that read this document alone (a partial index applies when its WHERE is among them). */
  texts: Set<string>;
  /** Whether every conjunct became a span (then the scan alone decides the WHERE). */
  allExact: boolean;
}

/** The sargable predicates on the document of `alias` among `conds`. */
export function sargs(conds: A.Expr[], alias: string, implicit: boolean, scope: Scope, available: Set<string>, rowNames?: Set<string>): SargSet {
  const out: Sarg[] = [];
  const texts = new Set<string>();
  let allExact = true;
  const docKey = (e: A.Expr): string | undefined => {
    const r = docRelative(e, alias, implicit, scope.names);
    return r ? formatExpr(r) : undefined;
  };
  const value = (s: Scope, loopVar?: string) => (e: A.Expr): Compiled | undefined =>
    independentOf(e, alias, implicit, available) && !(loopVar && freeIdents(e).has(loopVar)) ? markPerRow(e, compile(e, s), rowNames) : undefined;
  const top: SargContext = { keyOf: docKey, valueOf: value(scope) };
  for (const c of conds) {
    if (c.kind === 'quant' && c.quant !== 'every' && c.bindings.length === 1 && !c.bindings[0].pos && !c.bindings[0].within) {
      // ANY v IN arr SATISFIES <pred on v> END: a predicate on the array index ARRAY <..v..> FOR v IN arr END.
      const b = c.bindings[0];
      const src = docRelative(b.expr, alias, implicit, scope.names);
      if (src) {
        const inner: SargContext = {
          keyOf: (e) => {
            const free = freeIdents(e);
            if (!free.has(b.name) || free.size !== 1 || free.has('\0subquery')) return undefined;
            return arrayKeyText(renameIdent(e, b.name, LOOP_VAR), src);
          },
          valueOf: value(childScope(scope, [b.name]), b.name),
        };
        const found = conjuncts(c.satisfies).flatMap((p) => sargOf(p, inner));
        for (const s of found) out.push({ ...s, exact: false });
      }
      allExact = false;
      continue;
    }
    const whole = docRelative(c, alias, implicit, scope.names);
    if (whole) texts.add(formatExpr(whole));
    const found = sargOf(c, top);
    if (found.length === 0 || found.some((s) => !s.exact)) allExact = false;
    out.push(...found);
  }
  return { sargs: out, texts, allExact };
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
  const restrict = (pts: Value[]): void => {
    r.points = r.points ? r.points.filter((p) => pts.some((x) => collate(p, x) === 0)) : pts;
  };
  for (const s of list) {
    const v = s.values.length ? s.values[0](row, ctx) : undefined;
    switch (s.op) {
      case 'eq':
        if (v === undefined || v === null) r.empty = true;
        else restrict([v]);
        break;
      case 'null':
        restrict([null]);
        break;
      case 'in':
        if (!Array.isArray(v)) r.empty = true;
        else restrict(v.filter((x) => x !== null && x !== undefined).sort(collate));
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

function buildSpans(keys: Sarg[][], row: Row, ctx: ExecContext): Span[] {
  let spans: { low: Value[]; high: Value[]; lowIncl: boolean; highIncl: boolean }[] = [{ low: [], high: [], lowIncl: true, highIncl: true }];
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
        });
      }
    }
    spans = next;
    if (spans.length > 10000) break;
    // A range on this key ends the composite prefix: later keys are not part of the span.
    if (!r.points) break;
  }
  return spans.map((s) => ({ low: s.low.length ? s.low : undefined, lowIncl: s.lowIncl, high: s.high.length ? s.high : undefined, highIncl: s.highIncl }));
}

/** The spans as EXPLAIN shows them (IndexScan3 `spans`). */
function explainSpans(keys: Sarg[][], keyTexts: string[], exact: boolean): unknown[] {
  const range = keys.map((list, i) => {
    const item: Record<string, unknown> = { index_key: keyTexts[i] };
    let low: string | undefined;
    let high: string | undefined;
    let incl = 0;
    for (const s of list) {
      switch (s.op) {
        case 'eq':
        case 'in':
          low = high = formatExpr(s.texts[0]);
          incl = 3;
          break;
        case 'null':
          low = high = 'null';
          incl = 3;
          break;
        case 'gt':
        case 'ge':
          low = formatExpr(s.texts[0]);
          incl = (incl & 2) | (s.op === 'ge' ? 1 : 0);
          break;
        case 'lt':
        case 'le':
          high = formatExpr(s.texts[0]);
          low ??= 'null';
          incl = (incl & 1) | (s.op === 'le' ? 2 : 0);
          break;
        case 'notnull':
          low ??= 'null';
          break;
        default:
          break;
      }
    }
    if (high !== undefined) item.high = high;
    item.inclusion = incl;
    if (low !== undefined) item.low = low;
    return item;
  });
  return [{ exact, range }];
}

/** What a statement reads of one keyspace's documents (see ./cover): field paths, or the whole document. */
export interface DocNeeds {
  whole: boolean;
  /** Field paths read (each a list of field names), relative to the document. */
  paths: string[][];
  /** META() fields read. */
  meta: Set<string>;
}

/** ORDER BY as the access path may give it: document-relative texts with their direction. */
export interface OrderWish {
  text: string;
  desc: boolean;
}

export interface AccessOptions {
  useIndex?: string[];
  /** Names bound per row of a join's left side (their spans change per probe). */
  rowNames?: Set<string>;
  /** Extra predicates that only choose the index (UNNEST conditions as ANY ... SATISFIES). */
  hints?: A.Expr[];
  /** What the statement reads of the document: an index holding all of it covers the statement. */
  needs?: DocNeeds;
  /** The statement's ORDER BY, when the scan order could serve it. */
  order?: OrderWish[];
}

export interface AccessPath {
  /** Whether the spans depend on the current row (an index nested-loop probe). */
  perRow?: boolean;
  /** Document ids to fetch, in scan order; the WHERE filter still runs on every fetched doc. */
  ids(row: Row, ctx: ExecContext): Iterable<string>;
  /** When the index covers the statement: the documents as the index has them (no fetch). */
  covered?: (row: Row, ctx: ExecContext) => Iterable<{ value: Value; meta: DocMeta }>;
  /** Whether the scan returns documents in the requested ORDER BY order. */
  ordered: boolean;
  explain: Record<string, unknown>;
  index?: Index;
}

const isPrefix = (p: string[], of: string[]): boolean => p.length <= of.length && p.every((s, i) => s === of[i]);

/** How an index covers `needs`: the key positions to copy into the document, or undefined when it cannot. */
function coverPlan(ix: Index, needs: DocNeeds): { paths: { key: number; path: string[] }[] } | undefined {
  if (needs.whole || [...needs.meta].some((m) => m !== 'id')) return undefined;
  if (ix.primary) return needs.paths.length === 0 ? { paths: [] } : undefined;
  if (ix.arrayKey >= 0) return undefined;
  const keyPaths = ix.keyPaths;
  const used = new Map<number, string[]>();
  for (const p of needs.paths) {
    const i = keyPaths.findIndex((kp) => kp !== undefined && isPrefix(kp, p));
    if (i < 0) return undefined;
    used.set(i, keyPaths[i]!);
  }
  // A document whose key is MISSING has no entry: only the leading key (present in every entry) decides that.
  return { paths: [...used].map(([key, path]) => ({ key, path })) };
}

/** The document a covering scan builds from an index entry: just the covered fields. */
function coveredDoc(entry: IndexEntry, paths: { key: number; path: string[] }[]): ObjectValue {
  const doc: ObjectValue = {};
  for (const { key, path } of paths) {
    const v = entry.key[key];
    if (v === undefined) continue;
    let o = doc;
    for (let i = 0; i < path.length - 1; i++) {
      const next = o[path[i]];
      if (typeof next === 'object' && next !== null && !Array.isArray(next)) o = next;
      else {
        const created: ObjectValue = {};
        setField(o, path[i], created);
        o = created;
      }
    }
    setField(o, path[path.length - 1], v);
  }
  return doc;
}

const COVERED_META = { cas: 0n, expiry: 0, flags: 0, datatype: 1 };

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
  opts: AccessOptions = {},
): AccessPath {
  const base = { keyspace: ks.bucket, namespace: ks.namespace };
  if (useKeys) {
    const keys = compile(useKeys, scope);
    return {
      ordered: false,
      explain: op({ '#operator': 'KeyScan' }, { keys: () => formatExpr(useKeys) }),
      *ids(row, ctx) {
        const k = keys(row, ctx);
        if (typeof k === 'string') yield k;
        else if (Array.isArray(k)) for (const x of k) if (typeof x === 'string') yield x;
      },
    };
  }
  const catalog = catalogFor(store);
  const found = sargs(opts.hints?.length ? [...conds, ...opts.hints] : conds, alias, implicit, scope, available, opts.rowNames);
  const useIndex = opts.useIndex;
  type Candidate = { index: Index; keys: Sarg[][]; score: number; cover?: ReturnType<typeof coverPlan>; ordered: boolean };
  let best: Candidate | undefined;
  const better = (c: Candidate, b: Candidate | undefined): boolean => {
    if (!b) return true;
    if (c.score !== b.score) return c.score > b.score;
    if (!!c.cover !== !!b.cover) return !!c.cover;
    if (c.ordered !== b.ordered) return c.ordered;
    return !c.index.primary && b.index.primary;
  };
  for (const ix of catalog.list()) {
    if (ix.state !== 'online') continue;
    if (useIndex && useIndex.length && !useIndex.includes(ix.name)) continue;
    const keyTexts = ix.sargTexts;
    if (ix.where && !ix.whereTexts.every((t) => found.texts.has(t))) continue;
    const perKey: Sarg[][] = [];
    let score = 0;
    for (const kt of keyTexts) {
      const list = found.sargs.filter((s) => s.key === kt);
      if (!list.length) break;
      perKey.push(list);
      const eq = list.some((s) => s.op === 'eq' || s.op === 'in' || s.op === 'null');
      score += eq ? 2 : 1;
      if (!eq) break;
    }
    const includeMissing = !ix.primary && ix.keys[0]?.includeMissing === true;
    const named = !!useIndex?.includes(ix.name);
    // The leading key must be constrained, unless the index holds every document (primary,
    // INCLUDE MISSING) or it is a partial index the query names.
    if (score === 0 && !(ix.primary && named) && !includeMissing && !(ix.where && named)) continue;
    if (ix.where) score += 1; // a partial index that applies is more selective
    const cover = opts.needs ? coverPlan(ix, opts.needs) : undefined;
    const ordered = !!opts.order && ix.arrayKey < 0 && ordersBy(ix, keyTexts, perKey, opts.order);
    const cand: Candidate = { index: ix, keys: perKey, score, cover, ordered };
    if (better(cand, best)) best = cand;
  }
  const primary = best ? undefined : catalog.primary();
  if (!best && !primary) throw noIndexError(ks);
  if (!best) {
    const cover = opts.needs ? coverPlan(primary!, opts.needs) : undefined;
    best = { index: primary!, keys: [], score: 0, cover, ordered: !!opts.order && ordersBy(primary!, ['(meta().`id`)'], [], opts.order) };
  }
  const { index, keys, cover, ordered } = best;
  const exact = found.allExact && keys.flat().length === found.sargs.length;
  const lazy: Record<string, () => unknown> = {};
  if (keys.length) lazy.spans = () => explainSpans(keys, index.primary ? ['(meta().`id`)'] : index.spanKeyTexts, exact);
  if (cover) {
    lazy.covers = () => {
      const keyExprs = index.primary ? [] : index.keys.map((k) => formatExpr(qualifyDoc(k.expr, alias)));
      return [...keyExprs, `(meta(\`${alias}\`).\`id\`)`].map((t) => `cover (${t})`);
    };
  }
  const explain = op(
    {
      '#operator': index.primary ? 'PrimaryScan3' : 'IndexScan3',
      index: index.name,
      index_id: index.id,
      index_projection: cover ? { entry_keys: cover.paths.map((p) => p.key).sort((a, b) => a - b), primary_key: true } : { primary_key: true },
      ...base,
      using: 'gsi',
    },
    lazy,
  );
  const spansOf = (row: Row, ctx: ExecContext): Span[] => (keys.length ? buildSpans(keys, row, ctx) : [{ lowIncl: true, highIncl: true }]);
  return {
    index,
    ordered,
    perRow: keys.some((list) => list.some((sg) => sg.values.some((v) => perRowValues.has(v)))),
    explain,
    *ids(row, ctx) {
      yield* index.scan(spansOf(row, ctx));
    },
    covered: cover
      ? function* (row, ctx) {
          for (const e of index.scanEntries(spansOf(row, ctx))) yield { value: coveredDoc(e, cover.paths), meta: { id: e.id, ...COVERED_META } };
        }
      : undefined,
  };
}

/**
 * Whether scanning `ix` gives the ORDER BY order: the ORDER BY terms are the index keys that
 * follow those fixed to one value, in the index's own directions, and the scan is one span.
 */
function ordersBy(ix: Index, keyTexts: string[], perKey: Sarg[][], order: OrderWish[]): boolean {
  if (perKey.some((list) => list.some((s) => s.op === 'in'))) return false;
  let k = 0;
  for (const o of order) {
    // Keys fixed by equality may be skipped or named in ORDER BY; either way they do not change the order.
    while (k < keyTexts.length && keyTexts[k] !== o.text && perKey[k]?.some((s) => s.op === 'eq' || s.op === 'null')) k++;
    if (k >= keyTexts.length || keyTexts[k] !== o.text) return false;
    const desc = ix.primary ? false : ix.keys[k].desc;
    if (o.desc !== desc) return false;
    k++;
  }
  return true;
}
