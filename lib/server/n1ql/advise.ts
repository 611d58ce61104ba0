// ADVISE [INDEX] statement: the index advisor of the 7.6 SQL++ reference (advise.adoc), rule
// based. For each keyspace a statement reads (the FROM keyspace, ANSI-joined ones, a MERGE's
// source and target) the predicates on its documents become index keys in the order of the
// documented rules: a leading array key for UNNEST (1), equality/NULL/MISSING (2), IN (3),
// ranges (4, 5), IS NOT NULL/MISSING/VALUED (7), LIKE (8), the inner side of a join predicate (9),
// a document flavor's equality as a partial index condition (10); ANY ... SATISFIES gives a
// DISTINCT ARRAY key with its predicate's rule; a disjunction is taken arm by arm (keys common to
// all arms lead, arms on other keys get indexes of their own). A statement that reads a known
// set of expressions also gets a covering index (the keys, the ORDER BY keys when the order can
// come from the index, then the rest), with the ORDER/LIMIT/OFFSET and GROUP BY pushdowns it
// allows. The indexes the current plan uses are listed; one that already is the recommended
// index, or an optimal covering index, is marked so instead of being recommended again.
//
// Not covered: derived join filters (rule 6), `!=` taken as a disjunction of ranges, and the
// cost-based optimizer's recommendations.
import type * as A from './ast';
import type { Index } from './indexes';
import { collate, type Value } from './value';
import { QueryError } from './errors';
import { freeIdents, mapChildren } from './format';
import { indexName, keyText, nameWords, SELF } from './advise-text';

/** The documented rules, by number: their names as the advisor's recommending_rule quotes them. */
const RULES: Record<number, string> = {
  1: 'leading array index for unnest',
  2: 'equality/null/missing',
  3: 'in',
  4: 'not less than/between/not greater than',
  5: 'less than/greater than',
  6: 'derived join filter as leading key',
  7: 'not null/not missing/valued',
  8: 'like predicates',
  9: 'non-static join predicate',
  10: 'flavor for partial index',
};

interface Key {
  expr: A.Expr;
  rule: number;
  /** The key is the common leading key of a disjunction's arms. */
  disjunction?: boolean;
  /** Name words other than the key's own (an ANY key is named after its whole predicate). */
  words?: string[];
  /** The predicate leaves nothing to check beyond the key (a covering index can answer it). */
  exact: boolean;
  /** Order within a rule: equality (0), IS NULL (1), IS MISSING (2). */
  rank?: number;
  /** An IS MISSING predicate's key: it cannot lead an index, nor join arms of a disjunction. */
  missing?: boolean;
  /** The literal an equality compares the key with (a flavor's value makes a partial index). */
  eq?: { value: Value };
}

/** A keyspace the statement reads. */
export interface AdviceTerm {
  ks: A.KeyspaceRef;
  alias: string;
  /** Its ON clause (ANSI JOIN, MERGE target). */
  on?: A.Expr;
  /** The statement reads its whole documents (SELECT *, the alias itself, UPDATE, DELETE): nothing covers it. */
  whole: boolean;
  /** Its documents' flavors (INFER): the fields each flavor's documents share with one value. */
  flavors?: Map<string, Value>[];
}

export interface AdviceQuery {
  /** The FROM keyspace first, then the joined ones (a MERGE: source, then target). */
  terms: AdviceTerm[];
  /** UNNEST clauses over the first keyspace's documents, in order. */
  unnests: { alias: string; expr: A.Expr }[];
  where?: A.Expr;
  /** The result's expressions (what a covering index must give). */
  projection: A.Expr[];
  /** GROUP BY, HAVING, LETTING and ORDER BY expressions. */
  reads: A.Expr[];
  order: { expr: A.Expr; desc: boolean }[];
  groupBy: A.Expr[];
  limit: boolean;
  offset: boolean;
  grouped: boolean;
  /** LET bindings, replaced by their expressions. */
  lets: Map<string, A.Expr>;
  /** Names that are not fields of the document (WITH, LETTING). */
  scopeNames: Set<string>;
}

export interface CurrentIndex {
  index: Index;
  term: AdviceTerm;
}

const q = (s: string): string => '`' + s.replace(/`/g, '``') + '`';

export function keyspaceStatementText(ks: A.KeyspaceRef): string {
  return `${q(ks.namespace)}:${q(ks.bucket)}${ks.scope !== undefined ? `.${q(ks.scope)}.${q(ks.collection!)}` : ''}`;
}

const keyAlias = (t: AdviceTerm): string => {
  const name = t.ks.collection ?? t.ks.bucket;
  return t.alias === name ? name : `${name}_${t.alias}`;
};

/** An index name as its definition writes it: backquoted unless a plain identifier (`#primary`). */
const definitionName = (name: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : q(name));

function currentStatement(c: CurrentIndex): string {
  const ix = c.index;
  if (ix.primary) return `CREATE PRIMARY INDEX ${definitionName(ix.name)} ON ${keyspaceStatementText(c.term.ks)}`;
  const keys = ix.keys.map((k) => keyText(k.expr) + (k.desc ? ' DESC' : '')).join(',');
  return `CREATE INDEX ${definitionName(ix.name)} ON ${keyspaceStatementText(c.term.ks)}(${keys})${ix.where ? ` WHERE ${keyText(ix.where)}` : ''}`;
}

function conjunctsOf(e: A.Expr | undefined): A.Expr[] {
  if (!e) return [];
  return e.kind === 'and' ? e.args.flatMap(conjunctsOf) : [e];
}

const AGGREGATES = new Set(['count', 'countn', 'sum', 'avg', 'min', 'max', 'array_agg', 'median', 'stddev', 'variance', 'mean']);
/** The aggregates an index computes (advise.adoc, Pushdown Properties). */
const PUSHED_AGGREGATES = new Set(['count', 'countn', 'sum', 'avg', 'min', 'max']);

type Call = A.Expr & { kind: 'call' };

/** The aggregate calls in an expression (not looking inside subqueries). */
function aggregatesIn(e: A.Expr, out: Call[] = []): Call[] {
  if (e.kind === 'subquery') return out;
  if (e.kind === 'call' && AGGREGATES.has(e.name) && !e.over) {
    out.push(e);
    return out;
  }
  mapChildren(e, (c) => (aggregatesIn(c, out), c));
  return out;
}

const hasAggregate = (e: A.Expr): boolean => aggregatesIn(e).length > 0;
const VOLATILE = (name: string): boolean => name === 'random' || name === 'uuid' || name.startsWith('clock_') || name.startsWith('now_');

/** An expression seen from one keyspace's document: doc paths relative to it, bound variables kept. */
interface Relative {
  expr: A.Expr;
  doc: boolean;
  vars: Set<string>;
}

/** The advisor's view of one keyspace: how expressions read its documents. */
class View {
  constructor(
    readonly alias: string,
    /** Bare names are its fields (one keyspace in FROM). */
    private readonly implicit: boolean,
    /** Names that are neither its fields nor constants' parts (other aliases, WITH names). */
    private readonly others: Set<string>,
  ) {}

  /** `e` relative to the document (`t.a.b` -> `a.b`), or undefined when it reads another keyspace or a subquery. */
  relative(e: A.Expr, vars: Set<string> = new Set()): Relative | undefined {
    let doc = false;
    let ok = true;
    const used = new Set<string>();
    const walk = (x: A.Expr, bound: Set<string>): A.Expr => {
      if (!ok) return x;
      if (x.kind === 'field' && x.target.kind === 'ident' && x.target.name === this.alias && !bound.has(this.alias)) {
        doc = true;
        return { kind: 'ident', name: x.name };
      }
      if (x.kind === 'ident') {
        if (bound.has(x.name)) {
          if (vars.has(x.name)) used.add(x.name);
          return x;
        }
        if (x.name === this.alias) {
          doc = true;
          return { kind: 'ident', name: SELF };
        }
        if (this.others.has(x.name) || !this.implicit) ok = false;
        else doc = true;
        return x;
      }
      if (x.kind === 'call' && x.name === 'meta') {
        if (x.args.length === 0 ? this.implicit : x.args.length === 1 && x.args[0].kind === 'ident' && x.args[0].name === this.alias) {
          doc = true;
          return { kind: 'call', name: 'meta', args: [] };
        }
        ok = false;
        return x;
      }
      if (x.kind === 'subquery' || x.kind === 'exists' || x.kind === 'sequence' || (x.kind === 'call' && VOLATILE(x.name))) {
        ok = false;
        return x;
      }
      if (x.kind === 'quant' || x.kind === 'collect') {
        const inner = new Set(bound);
        const bindings = x.bindings.map((b) => {
          const expr = walk(b.expr, bound);
          inner.add(b.name);
          if (b.pos) inner.add(b.pos);
          return { ...b, expr };
        });
        if (x.kind === 'quant') return { ...x, bindings, satisfies: walk(x.satisfies, inner) };
        return { ...x, bindings, value: walk(x.value, inner), key: x.key && walk(x.key, inner), when: x.when && walk(x.when, inner) };
      }
      return mapChildren(x, (c) => walk(c, bound));
    };
    const out = walk(e, vars);
    return ok ? { expr: out, doc, vars: used } : undefined;
  }

  /** A value known before the document is read (literals, parameters, WITH names). */
  constant(e: A.Expr): boolean {
    const r = this.relative(e);
    return r !== undefined && !r.doc && r.vars.size === 0 && [...freeIdents(e)].every((n) => this.others.has(n) && n !== this.alias);
  }

  /** The paths of this document `e` reads (`t.a.b`, bare `a.b`), outermost first. */
  fields(e: A.Expr, out: A.Expr[] = [], bound: Set<string> = new Set()): A.Expr[] {
    const r = this.relative(e, bound);
    if (r && r.doc && r.vars.size === 0 && (r.expr.kind === 'ident' || r.expr.kind === 'field')) {
      out.push(r.expr);
      return out;
    }
    if (e.kind === 'quant' || e.kind === 'collect') {
      const inner = new Set([...bound, ...e.bindings.map((b) => b.name)]);
      for (const b of e.bindings) this.fields(b.expr, out, bound);
      if (e.kind === 'quant') this.fields(e.satisfies, out, inner);
      else this.fields(e.value, out, inner);
      return out;
    }
    if (e.kind === 'field' || e.kind === 'ident') return out;
    mapChildren(e, (c) => {
      this.fields(c, out, bound);
      return c;
    });
    return out;
  }
}

/** The rule a conjunct on the document falls under, and the key it constrains. */
function classify(c: A.Expr, view: View, vars: Set<string>): Key | undefined {
  const rel = (e: A.Expr): A.Expr | undefined => {
    const r = view.relative(e, vars);
    if (!r || (!r.doc && r.vars.size === 0)) return undefined;
    if (r.expr.kind === 'call' && r.expr.name === 'meta') return undefined;
    return r.expr;
  };
  const constant = (e: A.Expr): boolean => view.constant(e);
  switch (c.kind) {
    case 'binary': {
      const rules: Record<string, number> = { '=': 2, '<=': 4, '>=': 4, '<': 5, '>': 5 };
      const rule = rules[c.op];
      if (rule === undefined) return undefined;
      const lit = (x: A.Expr): { value: Value } | undefined => (c.op === '=' && x.kind === 'lit' ? { value: x.value } : undefined);
      const l = rel(c.left);
      if (l && constant(c.right)) return { expr: l, rule, exact: true, eq: lit(c.right) };
      const r = rel(c.right);
      if (r && constant(c.left)) return { expr: r, rule, exact: true, eq: lit(c.left) };
      return undefined;
    }
    case 'is': {
      const k = rel(c.arg);
      if (!k) return undefined;
      // IS NOT NULL / IS NOT MISSING / IS VALUED are rule 7; IS NULL / IS MISSING / IS NOT VALUED rule 2.
      const missing = c.what === 'missing' && !c.not;
      return { expr: k, rule: (c.what === 'valued') !== c.not ? 7 : 2, exact: true, rank: missing ? 2 : 1, missing };
    }
    case 'in': {
      const k = !c.not && !c.within ? rel(c.arg) : undefined;
      return k && constant(c.list) ? { expr: k, rule: 3, exact: true } : undefined;
    }
    case 'between': {
      const k = rel(c.arg);
      if (!k || !constant(c.low) || !constant(c.high)) return undefined;
      // NOT BETWEEN is `< low OR > high`: a disjunction on one leading key.
      return c.not ? { expr: k, rule: 5, disjunction: true, exact: true } : { expr: k, rule: 4, exact: true };
    }
    case 'like': {
      const k = !c.not ? rel(c.arg) : undefined;
      if (!k || !constant(c.pattern)) return undefined;
      // A pattern with a literal prefix is a range scan; a leading wildcard only a LIKE.
      const p = c.pattern.kind === 'lit' && typeof c.pattern.value === 'string' ? c.pattern.value : undefined;
      return { expr: k, rule: p !== undefined && /^[%_]/.test(p) ? 8 : 4, exact: p !== undefined && /^[^%_]*%?$/.test(p) };
    }
    case 'or': {
      const arms = c.args.map((a) => classify(a, view, vars));
      if (arms.some((a) => a === undefined)) return undefined;
      const first = keyText(arms[0]!.expr);
      if (!arms.every((a) => keyText(a!.expr) === first)) return undefined;
      return { expr: arms[0]!.expr, rule: Math.max(...arms.map((a) => a!.rule)), disjunction: true, exact: arms.every((a) => a!.exact) };
    }
    case 'quant':
      return c.quant === 'every' ? undefined : anyKey(c, view, vars);
    default:
      return undefined;
  }
}

/** ANY v IN arr SATISFIES pred END: a DISTINCT ARRAY key over the best key of `pred`. */
function anyKey(c: A.Expr & { kind: 'quant' }, view: View, vars: Set<string>): Key | undefined {
  const bindings: A.ForBinding[] = [];
  for (const b of c.bindings) {
    const r = view.relative(b.expr, vars);
    if (!r || (!r.doc && r.vars.size === 0)) return undefined;
    bindings.push({ ...b, expr: r.expr });
  }
  const inner = new Set([...vars, ...c.bindings.map((b) => b.name)]);
  const parts = conjunctsOf(c.satisfies).map((p) => classify(p, view, inner));
  let best: Key | undefined;
  for (const p of parts) if (p && (!best || p.rule < best.rule)) best = p;
  if (!best) return undefined;
  const value = best.expr;
  const exact = parts.length === 1 && best.exact;
  const key: A.Expr = { kind: 'collect', collect: 'array', distinct: true, value, bindings };
  return { expr: key, rule: best.rule, exact, words: ['DISTINCT', ...bindings.flatMap((b) => nameWords(b.expr, vars)), ...nameWords(c.satisfies, inner, true)] };
}

/**
 * UNNEST: the leading key is an array key over the unnested array — of the best-keyed predicate
 * on the unnested values (`ALL ARRAY x.f FOR x IN arr END`, nested for UNNEST of UNNEST), or of
 * the values themselves (`ALL arr`).
 */
function unnestKey(unnests: AdviceQuery['unnests'], preds: A.Expr[], view: View): { key?: Key; used: Set<A.Expr>; complete?: boolean } {
  const used = new Set<A.Expr>();
  const vars = new Set(unnests.map((u) => u.alias));
  const sources = new Map<string, A.Expr>();
  const before = new Set<string>();
  for (const u of unnests) {
    const r = view.relative(u.expr, before);
    if (!r) break;
    sources.set(u.alias, r.expr);
    before.add(u.alias);
  }
  if (!sources.size) return { used };
  let best: { key: Key; pred: A.Expr } | undefined;
  for (const p of preds) {
    const r = view.relative(p, vars);
    if (!r || r.vars.size === 0) continue;
    const k = classify(p, view, vars) ?? compared(p, view, vars);
    if (k && (!best || k.rule < best.key.rule)) best = { key: k, pred: p };
  }
  const first = unnests[0].alias;
  let value: A.Expr = best ? best.key.expr : { kind: 'ident', name: first };
  // The unnest variables the key reads, innermost first: each wraps the key in its array.
  const chain = unnests.map((u) => u.alias).filter((a) => sources.has(a));
  let depth = 0;
  if (best) {
    const free = freeIdents(value);
    depth = Math.max(0, ...chain.map((a, i) => (free.has(a) ? i : -1)));
  }
  for (let i = depth; i >= 0; i--) value = { kind: 'collect', collect: 'array', distinct: false, value, bindings: [{ name: chain[i], expr: sources.get(chain[i])!, within: false }] };
  if (best) used.add(best.pred);
  // An index over the outer array alone cannot give what the inner UNNESTs read.
  return { key: { expr: value, rule: 1, exact: best ? best.key.exact : false }, used, complete: depth === chain.length - 1 };
}

/** A comparison of unnested values with something of the document: the values' side is the key. */
function compared(p: A.Expr, view: View, vars: Set<string>): Key | undefined {
  const rules: Record<string, number> = { '=': 2, '<=': 4, '>=': 4, '<': 5, '>': 5 };
  if (p.kind !== 'binary' || rules[p.op] === undefined) return undefined;
  for (const side of [p.left, p.right]) {
    const r = view.relative(side, vars);
    if (r && r.vars.size && !r.doc) return { expr: r.expr, rule: rules[p.op], exact: false };
  }
  return undefined;
}

/** Most arms a WHERE's disjunctive form may have before the advisor gives up on it. */
const MAX_ARMS = 32;

/** The predicates as a disjunction of conjunctions (OR of ANDs); undefined when it grows too large. */
function disjunctiveForm(preds: A.Expr[]): A.Expr[][] | undefined {
  let arms: A.Expr[][] = [[]];
  for (const c of preds) {
    if (c.kind === 'or') {
      const sub: A.Expr[][] = [];
      for (const a of c.args) {
        const d = disjunctiveForm(conjunctsOf(a));
        if (!d) return undefined;
        sub.push(...d);
      }
      arms = arms.flatMap((arm) => sub.map((s) => [...arm, ...s]));
      if (arms.length > MAX_ARMS) return undefined;
    } else arms = arms.map((arm) => [...arm, c]);
  }
  return arms;
}

/** Keys by rule (within a rule: equality, IS NULL, IS MISSING, then as written), one per key text (its best rule). */
function byRule(keys: Key[]): Key[] {
  const best = new Map<string, Key>();
  for (const k of keys) {
    const t = keyText(k.expr);
    const had = best.get(t);
    if (!had || k.rule < had.rule) best.set(t, had ? { ...k, disjunction: had.disjunction || k.disjunction } : k);
  }
  return [...best.values()]
    .map((k, n) => ({ k, n }))
    .sort((a, b) => a.k.rule - b.k.rule || (a.k.rank ?? 0) - (b.k.rank ?? 0) || a.n - b.n)
    .map((x) => x.k);
}

/**
 * The indexes a disjunctive form needs: arms that share keys go to one index whose keys common
 * to all its arms lead ("common leading key for disjunction"), the other keys of its arms after.
 */
function armGroups(arms: Key[][]): Key[][] {
  if (arms.length === 1) return [byRule(arms[0])];
  const texts = arms.map((a) => new Set(a.filter((k) => !k.missing).map((k) => keyText(k.expr))));
  const groups: number[][] = [];
  const seen = new Set<number>();
  for (let n = 0; n < arms.length; n++) {
    if (seen.has(n)) continue;
    const group = [n];
    seen.add(n);
    for (let g = 0; g < group.length; g++) {
      for (let m = 0; m < arms.length; m++) {
        if (seen.has(m) || ![...texts[group[g]]].some((t) => texts[m].has(t))) continue;
        seen.add(m);
        group.push(m);
      }
    }
    groups.push(group.sort((a, b) => a - b));
  }
  return groups.map((g) => {
    if (g.length === 1) return byRule(arms[g[0]]);
    const common = [...texts[g[0]]].filter((t) => g.every((m) => texts[m].has(t)));
    const commonKeys = common.map((t) => {
      const ks = g.map((m) => arms[m].find((k) => keyText(k.expr) === t)!);
      return { ...ks[0], rule: Math.min(...ks.map((k) => k.rule)), disjunction: true, exact: ks.every((k) => k.exact) };
    });
    const others = g.flatMap((m) => arms[m]).filter((k) => k.missing || !common.includes(keyText(k.expr)));
    return [...byRule(commonKeys), ...byRule(others)];
  });
}

function ruleText(keys: Key[], partial = false): string {
  const named = (ks: Key[]): string[] => [...new Set(ks.map((k) => `${k.rule}. ${RULES[k.rule]}`))];
  const common = named(keys.filter((k) => k.disjunction));
  const parts = [...(common.length ? [`1. Common leading key for disjunction (${common.join(', ')})`] : []), ...named(keys.filter((k) => !k.disjunction)), ...(partial ? [`10. ${RULES[10]}`] : [])];
  return `Index keys follow order of predicate types: ${parts.join(', ')}.`;
}

interface Cover {
  expr: A.Expr;
  desc?: boolean;
  words?: string[];
}

const coverText = (c: Cover): string => keyText(c.expr) + (c.desc ? ' DESC' : '');

/** A partial index's condition, and the words it adds to the index name after the keys'. */
interface Partial {
  text: string;
  words: string[];
  /** A flavor's condition (rule 10), rather than an IS MISSING leading key's. */
  flavor: boolean;
}

const partialText = (p: Partial): string => p.text;

/** CREATE INDEX for keys; a partial index is named after its keys, its flavor field, then the rest. */
function indexStatement(ks: A.KeyspaceRef, keys: Cover[], partial?: Partial, keyCount = keys.length): string {
  const words = (cs: Cover[]): string[] =>
    cs.flatMap((k) => {
      const w = k.words ?? nameWords(k.expr);
      return k.desc && w.length ? [...w.slice(0, -1), w[w.length - 1] + 'DESC'] : w;
    });
  const name = indexName([...words(keys.slice(0, keyCount)), ...(partial?.words ?? []), ...words(keys.slice(keyCount))]);
  return `CREATE INDEX ${name} ON ${keyspaceStatementText(ks)}(${keys.map(coverText).join(',')})${partial ? ` WHERE ${partialText(partial)}` : ''}`;
}

/**
 * Rule 10: an equality on a field whose value marks one of several flavors of the keyspace's
 * documents (`type = "hotel"`) becomes the condition of a partial index rather than a key, when
 * other keys remain — or this keyspace's side of a join equality (the reference's ADVISOR
 * example: `h JOIN a ON h.city = a.city WHERE h.type = 'hotel'` gives (`city`) WHERE `type` = 'hotel').
 */
function flavorOf(keys: Key[], flavors: Map<string, Value>[] | undefined, fallback: Key[]): { partial: Partial; keys: Key[] } | undefined {
  if (!flavors || flavors.length < 2 || keys.length + fallback.length < 2) return undefined;
  for (const k of keys) {
    if (k.rule !== 2 || k.disjunction || !k.eq || k.expr.kind !== 'ident' || k.expr.name === SELF) continue;
    const field = k.expr.name;
    const value = k.eq.value;
    const marks = flavors.filter((f) => f.has(field) && collate(f.get(field)!, value) === 0).length;
    if (marks === 0 || marks === flavors.length) continue;
    const others = keys.filter((x) => x !== k);
    const text = `${keyText({ kind: 'ident', name: field })} = ${keyText({ kind: 'lit', value })}`;
    if (others.length || fallback.length) return { partial: { text, words: [field], flavor: true }, keys: others.length ? others : fallback.slice(0, 1) };
  }
  return undefined;
}

/** Replaces LET variables by their expressions. */
function inline(e: A.Expr, lets: Map<string, A.Expr>): A.Expr {
  if (!lets.size) return e;
  if (e.kind === 'ident' && lets.has(e.name)) return lets.get(e.name)!;
  return mapChildren(e, (c) => inline(c, lets));
}

const sameText = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function sameIndex(ix: Index, want: Cover[], partial?: Partial): boolean {
  const where = ix.where ? keyText(ix.where) : undefined;
  if (ix.primary || where !== (partial ? partialText(partial) : undefined)) return false;
  return ix.keys.length === want.length && ix.keys.every((k, i) => sameText(keyText(k.expr) + (k.desc ? ' DESC' : ''), coverText(want[i])));
}

/** The advice object of one statement (the `advice` of ADVISE's result). */
export function adviseIndexes(query: AdviceQuery | undefined, current: CurrentIndex[]): Record<string, unknown> {
  const currentIndexes: Record<string, unknown>[] = current.map((c) => ({ index_statement: currentStatement(c), keyspace_alias: keyAlias(c.term) }));
  const indexes: Record<string, unknown>[] = [];
  const covering: Record<string, unknown>[] = [];
  const optimal = new Set<CurrentIndex>();
  if (query) {
    const aliases = new Set([...query.terms.map((t) => t.alias), ...query.unnests.map((u) => u.alias)]);
    const where = query.where && inline(query.where, query.lets);
    const conjuncts: { pred: A.Expr; on?: number }[] = conjunctsOf(where).map((pred) => ({ pred }));
    query.terms.forEach((t, i) => {
      for (const pred of conjunctsOf(t.on && inline(t.on, query.lets))) conjuncts.push({ pred, on: i });
    });
    const projection = query.projection.map((e) => inline(e, query.lets));
    const reads = query.reads.map((e) => inline(e, query.lets));
    query.terms.forEach((term, i) => {
      const others = new Set([...aliases, ...query.scopeNames]);
      others.delete(term.alias);
      const view = new View(term.alias, query.terms.length === 1, others);
      const vars = i === 0 ? new Set(query.unnests.map((u) => u.alias)) : new Set<string>();
      const rest = new Set<A.Expr>();
      let coverable = !term.whole;
      // Keys every arm of the WHERE's disjunctive form has (the UNNEST key, join keys), then the local predicates.
      const always: Key[] = [];
      const fallback: Key[] = [];
      const local: A.Expr[] = [];
      const unnest = i === 0 && query.unnests.length ? unnestKey(query.unnests, conjuncts.map((c) => c.pred), view) : { used: new Set<A.Expr>() };
      if (unnest.key) always.push(unnest.key);
      if (unnest.key && !unnest.complete) coverable = false;
      for (const { pred, on } of conjuncts) {
        if (unnest.used.has(pred)) {
          if (!unnest.key!.exact) rest.add(pred);
          continue;
        }
        const r = view.relative(pred, vars);
        if (r && (r.doc || r.vars.size)) {
          if (r.vars.size) rest.add(pred);
          else local.push(pred);
          continue;
        }
        // A join predicate of this keyspace's ON clause: its side of an equality is a key (rule 9).
        if (on === i && pred.kind === 'binary' && pred.op === '=') {
          const sides = [pred.left, pred.right];
          const j = sides.findIndex((s) => {
            const x = view.relative(s);
            return x !== undefined && x.doc && x.vars.size === 0;
          });
          if (j >= 0 && view.relative(sides[1 - j]) === undefined) {
            always.push({ expr: view.relative(sides[j])!.expr, rule: 9, exact: true });
            continue;
          }
        }
        // This keyspace's side of another keyspace's join equality: a key only when a flavor leaves no other.
        if (on !== undefined && pred.kind === 'binary' && pred.op === '=') {
          for (const side of [pred.left, pred.right]) {
            const x = view.relative(side);
            if (x && x.doc && x.vars.size === 0) fallback.push({ expr: x.expr, rule: 9, exact: true });
          }
        }
        if (view.fields(pred).length) rest.add(pred);
      }
      const arms = (disjunctiveForm(local) ?? [local]).map((arm) => {
        const keys: Key[] = [...always];
        for (const p of arm) {
          const k = classify(p, view, vars);
          if (k) keys.push(k);
          if (!k || !k.exact) rest.add(p);
        }
        return keys;
      });
      const groups = armGroups(arms).filter((g) => g.length);
      // One index per group of arms on other keys: none of them covers the statement.
      if (groups.length > 1) coverable = false;
      for (const group of groups) {
      const flavor = flavorOf(group, term.flavors, fallback);
      let ordered = flavor ? flavor.keys : group;
      let partial = flavor?.partial;
      // An index does not hold documents whose leading key is missing: `x IS MISSING` leads, in a partial index on it.
      if (!partial && ordered[0]?.missing) {
        const is: A.Expr = { kind: 'is', arg: ordered[0].expr, what: 'missing', not: false };
        partial = { text: keyText(is), words: [], flavor: false };
        ordered = [{ ...ordered[0], expr: is, words: [nameWords(ordered[0].expr).join('_') + 'ISMISSING'] }, ...ordered.slice(1)];
      }
      const rule = ruleText(ordered, partial?.flavor === true);
      const keyCovers: Cover[] = ordered.map((k) => ({ expr: k.expr, words: k.words }));
      const alias = keyAlias(term);

      // The covering index: the keys, the order the statement wants when the index can give it, then what else it reads.
      let cover: Cover[] | undefined;
      const properties: string[] = [];
      if (coverable) {
        cover = [...keyCovers];
        const seen = new Set(cover.map((c) => keyText(c.expr)));
        const add = (e: A.Expr, bound: Set<string>): void => {
          // An aggregate's argument is what the index must give.
          if (e.kind === 'call' && AGGREGATES.has(e.name)) return e.args.forEach((a) => add(a, bound));
          const r = view.relative(e, bound);
          if (r && r.vars.size === 0 && r.doc && !hasAggregate(e)) {
            if (r.expr.kind === 'call' && r.expr.name === 'meta') return;
            if (r.expr.kind === 'field' && r.expr.target.kind === 'call' && r.expr.target.name === 'meta') return;
            const t = keyText(r.expr);
            if (!seen.has(t)) {
              seen.add(t);
              cover!.push({ expr: r.expr });
            }
            return;
          }
          if (r && !r.doc) return;
          if (e.kind === 'subquery' || e.kind === 'exists') {
            coverable = false;
            return;
          }
          if (e.kind === 'quant' || e.kind === 'collect') {
            const inner = new Set([...bound, ...e.bindings.map((b) => b.name)]);
            e.bindings.forEach((b) => add(b.expr, bound));
            if (e.kind === 'quant') add(e.satisfies, inner);
            else add(e.value, inner);
            return;
          }
          if (e.kind === 'ident' && bound.has(e.name)) return;
          mapChildren(e, (c) => {
            add(c, bound);
            return c;
          });
        };
        const single = query.terms.length === 1 && !query.unnests.length;
        const exact = rest.size === 0 && !query.grouped;
        let orderPushed = false;
        if (single && exact && query.order.length) {
          // The index gives the order when the ORDER BY keys follow the equality keys.
          const eqLead = ordered.findIndex((k) => k.rule !== 2 || k.disjunction);
          const lead = eqLead < 0 ? ordered.length : eqLead;
          const rel = query.order.map((o) => ({ r: view.relative(o.expr), desc: o.desc }));
          if (rel.every((o) => o.r && o.r.doc && o.r.vars.size === 0)) {
            const texts = rel.map((o) => keyText(o.r!.expr));
            const after = ordered.slice(lead).map((k) => keyText(k.expr));
            const inKeys = texts.every((t, n) => after[n] === t) && rel.every((o) => !o.desc);
            const appendable = lead === ordered.length && texts.every((t) => !seen.has(t));
            if (inKeys) orderPushed = true;
            else if (appendable) {
              rel.forEach((o) => {
                cover!.push({ expr: o.r!.expr, desc: o.desc });
                seen.add(keyText(o.r!.expr));
              });
              orderPushed = true;
            }
          }
          if (orderPushed) properties.push('ORDER pushdown');
        }
        // DISTINCT aggregates' arguments first: the index hands them over grouped.
        const aggs = [...projection, ...reads].flatMap((e) => aggregatesIn(e));
        for (const a of aggs) if (a.distinct) a.args.forEach((x) => add(x, new Set(vars)));
        for (const e of [...projection, ...reads]) add(e, new Set(vars));
        for (const p of rest) {
          // An ANY on this document the array key does not answer alone needs the whole array: no index covers it.
          if (p.kind === 'quant' && view.relative(p, vars)) coverable = false;
          if (p.kind === 'binary' || p.kind === 'like' || p.kind === 'is' || p.kind === 'in' || p.kind === 'between') mapChildren(p, (c) => (add(c, new Set(vars)), c));
          else add(p, new Set(vars));
        }
        // GROUP BY and aggregates the indexer can compute: on document expressions, with the aggregates it knows.
        if (single && rest.size === 0 && query.grouped && !query.unnests.length) {
          const groupable = query.groupBy.every((g) => view.relative(g)?.doc) && aggs.every((a) => PUSHED_AGGREGATES.has(a.name) && (a.star || a.args.every((x) => view.relative(x)?.doc)));
          if (groupable) properties.push('FULL GROUPBY & AGGREGATES pushdown', 'GROUPBY & AGGREGATES pushdown');
        }
        if (single && exact && (orderPushed || !query.order.length)) {
          if (query.limit) properties.push('LIMIT pushdown');
          if (query.offset) properties.push('OFFSET pushdown');
        }
      }

      const usedHere = current.filter((c) => c.term === term || (c.term.ks.bucket === term.ks.bucket && c.term.ks.collection === term.ks.collection));
      const best = coverable && cover ? usedHere.find((c) => sameIndex(c.index, cover!, partial)) : undefined;
      if (best) {
        optimal.add(best);
        continue;
      }
      const same = usedHere.find((c) => sameIndex(c.index, keyCovers, partial));
      if (same) {
        const entry = currentIndexes[current.indexOf(same)];
        entry.index_status = 'SAME TO THE INDEX WE CAN RECOMMEND';
        entry.recommending_rule = rule;
      } else indexes.push({ index_statement: indexStatement(term.ks, keyCovers, partial), keyspace_alias: alias, recommending_rule: rule });
      if (coverable && cover) {
        const entry: Record<string, unknown> = {};
        if (properties.length) entry.index_property = properties.join(', ');
        entry.index_statement = indexStatement(term.ks, cover, partial, keyCovers.length);
        entry.keyspace_alias = alias;
        covering.push(entry);
      }
      }
    });
  }
  for (const c of optimal) currentIndexes[current.indexOf(c)].index_status = 'THIS IS AN OPTIMAL COVERING INDEX.';
  const info: Record<string, unknown> = {};
  if (currentIndexes.length) info.current_indexes = currentIndexes;
  if (!indexes.length && !covering.length) {
    info.recommended_indexes = currentIndexes.length ? 'No index recommendation at this time.' : 'No index recommendation at this time, primary index may apply.';
  } else {
    const rec: Record<string, unknown> = {};
    if (covering.length) rec.covering_indexes = covering;
    rec.indexes = indexes;
    info.recommended_indexes = rec;
  }
  return { '#operator': 'IndexAdvice', adviseinfo: info };
}

export function unsupportedAdvise(): QueryError {
  return new QueryError(3250, 'Advise supports SELECT, MERGE, UPDATE and DELETE statements only.');
}
