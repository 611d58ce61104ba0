// ADVISE [INDEX] statement: the index advisor of the 7.6 SQL++ reference (advise.adoc), rule
// based. For the keyspace a SELECT, UPDATE or DELETE reads, the WHERE conjuncts on its documents
// become index keys in the order of the documented predicate rules (equality, IN, ranges, ...);
// a query that reads a known set of fields also gets a covering index (those keys, then the
// other fields). The indexes the current plan uses are listed, and one that already is the
// recommended index is marked so instead of being recommended again.
//
// Not covered (reported as such by the closing note of the work): array indexes for ANY and
// UNNEST predicates, partial indexes for a document flavor, join predicates, and the
// cost-based optimizer's recommendations.
import type * as A from './ast';
import type { Index } from './indexes';
import { QueryError } from './errors';
import { formatExpr } from './format';
import { docRelative, independentOf } from './keyspace';

/** The documented rules, by number: their names as the advisor's recommending_rule quotes them. */
const RULES: Record<number, string> = {
  1: 'leading array index for unnest',
  2: 'equality/null/missing',
  3: 'in predicates',
  4: 'not less than/between/not greater than',
  5: 'less than/greater than',
  6: 'derived join filter as leading key',
  7: 'is not null/missing/valued predicates',
  8: 'like predicates',
  9: 'non-static join predicate',
  10: 'flavor for partial index',
};

interface Key {
  expr: A.Expr;
  rule: number;
  /** The rule of a disjunction's arms, when the key is their common leading key. */
  disjunction?: boolean;
}

export interface AdviceTarget {
  ks: A.KeyspaceRef;
  alias: string;
  where?: A.Expr;
  /** The statement's expressions (projection, WHERE, GROUP BY, ORDER BY, ...): what a covering index must cover. */
  reads: A.Expr[];
  /** The statement reads whole documents (SELECT *, the alias itself): nothing covers it. */
  whole: boolean;
}

export interface CurrentIndex {
  index: Index;
  ks: A.KeyspaceRef;
  alias: string;
}

const q = (s: string): string => '`' + s.replace(/`/g, '``') + '`';

export function keyspaceStatementText(ks: A.KeyspaceRef): string {
  return `${q(ks.namespace)}:${q(ks.bucket)}${ks.scope !== undefined ? `.${q(ks.scope)}.${q(ks.collection!)}` : ''}`;
}

/** An index key as CREATE INDEX writes it: paths without the parentheses the formatter adds. */
function keyText(e: A.Expr): string {
  const path = (x: A.Expr): string | undefined => (x.kind === 'ident' ? q(x.name) : x.kind === 'field' ? ((t) => (t === undefined ? undefined : `${t}.${q(x.name)}`))(path(x.target)) : undefined);
  return path(e) ?? formatExpr(e);
}

/** The words of an index key that go into an advised index name (`adv_geo_alt`, `adv_lower_name`). */
function nameWords(e: A.Expr): string[] {
  switch (e.kind) {
    case 'ident':
      return [e.name];
    case 'field':
      return [...nameWords(e.target), e.name];
    case 'call':
      return [e.name, ...e.args.flatMap(nameWords)];
    default:
      return [];
  }
}

/** The rule a conjunct on the document falls under, and the key it constrains. */
function classify(c: A.Expr, rel: (e: A.Expr) => A.Expr | undefined, constant: (e: A.Expr) => boolean): Key | undefined {
  switch (c.kind) {
    case 'binary': {
      const rules: Record<string, number> = { '=': 2, '<=': 4, '>=': 4, '<': 5, '>': 5 };
      const rule = rules[c.op];
      if (rule === undefined) return undefined;
      const l = rel(c.left);
      if (l && constant(c.right)) return { expr: l, rule };
      const r = rel(c.right);
      if (r && constant(c.left)) return { expr: r, rule };
      return undefined;
    }
    case 'is': {
      const k = rel(c.arg);
      if (!k) return undefined;
      return { expr: k, rule: c.not ? 7 : 2 };
    }
    case 'in': {
      const k = !c.not && !c.within ? rel(c.arg) : undefined;
      return k && constant(c.list) ? { expr: k, rule: 3 } : undefined;
    }
    case 'between': {
      const k = rel(c.arg);
      if (!k || !constant(c.low) || !constant(c.high)) return undefined;
      // NOT BETWEEN is `< low OR > high`: a disjunction on one leading key.
      return c.not ? { expr: k, rule: 5, disjunction: true } : { expr: k, rule: 4 };
    }
    case 'like': {
      const k = !c.not ? rel(c.arg) : undefined;
      if (!k || !constant(c.pattern)) return undefined;
      // A pattern with a literal prefix is a range scan; a leading wildcard only a LIKE.
      const p = c.pattern.kind === 'lit' && typeof c.pattern.value === 'string' ? c.pattern.value : undefined;
      return { expr: k, rule: p !== undefined && !/^[%_]/.test(p) ? 4 : 8 };
    }
    case 'or': {
      const arms = c.args.map((a) => classify(a, rel, constant));
      if (arms.some((a) => a === undefined)) return undefined;
      const first = formatExpr(arms[0]!.expr);
      if (!arms.every((a) => formatExpr(a!.expr) === first)) return undefined;
      return { expr: arms[0]!.expr, rule: Math.max(...arms.map((a) => a!.rule)), disjunction: true };
    }
    default:
      return undefined;
  }
}

function conjunctsOf(e: A.Expr | undefined): A.Expr[] {
  if (!e) return [];
  return e.kind === 'and' ? e.args.flatMap(conjunctsOf) : [e];
}

function ruleText(keys: Key[]): string {
  const parts: string[] = [];
  for (const k of keys) {
    const t = k.disjunction ? `1. Common leading key for disjunction (${k.rule}. ${RULES[k.rule]})` : `${k.rule}. ${RULES[k.rule]}`;
    if (!parts.includes(t)) parts.push(t);
  }
  return `Index keys follow order of predicate types: ${parts.join(', ')}.`;
}

function indexStatement(name: string, ks: A.KeyspaceRef, keys: A.Expr[]): string {
  return `CREATE INDEX ${name} ON ${keyspaceStatementText(ks)}(${keys.map(keyText).join(',')})`;
}

/** An index name as its definition writes it: backquoted unless a plain identifier (`#primary`). */
const indexName = (name: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : q(name));

function currentStatement(c: CurrentIndex): string {
  const ix = c.index;
  if (ix.primary) return `CREATE PRIMARY INDEX ${indexName(ix.name)} ON ${keyspaceStatementText(c.ks)}`;
  const keys = ix.keys.map((k) => keyText(k.expr) + (k.desc ? ' DESC' : '')).join(',');
  return `CREATE INDEX ${indexName(ix.name)} ON ${keyspaceStatementText(c.ks)}(${keys})${ix.where ? ` WHERE ${formatExpr(ix.where)}` : ''}`;
}

const keyAlias = (ks: A.KeyspaceRef, alias: string): string => {
  const name = ks.collection ?? ks.bucket;
  return alias === name ? name : `${name}_${alias}`;
};

/** The advice object of one statement (the `advice` of ADVISE's result). */
export function adviseIndexes(target: AdviceTarget | undefined, current: CurrentIndex[], implicit: boolean, scopeNames: Set<string>): Record<string, unknown> {
  const currentIndexes: Record<string, unknown>[] = current.map((c) => ({ index_statement: currentStatement(c), keyspace_alias: keyAlias(c.ks, c.alias) }));
  const none = { '#operator': 'IndexAdvice', adviseinfo: { current_indexes: currentIndexes, recommended_indexes: 'No index recommendation at this time.' } };
  if (!target) return none;
  const rel = (e: A.Expr): A.Expr | undefined => docRelative(e, target.alias, implicit, scopeNames);
  const constant = (e: A.Expr): boolean => independentOf(e, target.alias, implicit, new Set(scopeNames));
  const keys: Key[] = [];
  for (const c of conjunctsOf(target.where)) {
    const k = classify(c, rel, constant);
    if (!k) continue;
    const text = formatExpr(k.expr);
    const had = keys.findIndex((x) => formatExpr(x.expr) === text);
    if (had < 0) keys.push(k);
    else if (k.rule < keys[had].rule) keys[had] = k;
  }
  if (!keys.length) return none;
  // Stable: keys of one rule keep the order of their predicates.
  const ordered = keys.map((k, i) => ({ k, i })).sort((a, b) => a.k.rule - b.k.rule || a.i - b.i).map((x) => x.k);
  const exprs = ordered.map((k) => k.expr);
  const name = (xs: A.Expr[]): string => `adv_${xs.flatMap(nameWords).join('_')}`;
  const rule = ruleText(ordered);
  const alias = keyAlias(target.ks, target.alias);
  const same = (ix: Index, want: A.Expr[]): boolean => !ix.primary && !ix.where && ix.keys.length === want.length && ix.keys.every((k, i) => formatExpr(k.expr) === formatExpr(want[i]));

  const recommended: Record<string, unknown>[] = [];
  const usedSame = current.find((c) => same(c.index, exprs));
  if (usedSame) {
    const entry = currentIndexes[current.indexOf(usedSame)];
    entry.index_status = 'SAME TO THE INDEX WE CAN RECOMMEND';
    entry.recommending_rule = rule;
  } else recommended.push({ index_statement: indexStatement(name(exprs), target.ks, exprs), keyspace_alias: alias, recommending_rule: rule });

  const covering: Record<string, unknown>[] = [];
  if (!target.whole) {
    const extra: A.Expr[] = [];
    const seen = new Set(exprs.map((e) => formatExpr(e)));
    // An expression an index key already is needs nothing more (LOWER(city) covers itself).
    const keyed = (x: A.Expr): boolean => {
      const k = rel(x);
      return k !== undefined && seen.has(formatExpr(k));
    };
    const fields = target.reads.flatMap((r) => fieldReads(r, [], keyed));
    const opaque = fields.some((f) => f.kind === 'ident' && f.name === OPAQUE);
    for (const r of opaque ? [] : fields) {
      const k = rel(r);
      if (!k || (k.kind === 'call' && k.name === 'meta')) continue;
      const t = formatExpr(k);
      if (seen.has(t)) continue;
      seen.add(t);
      extra.push(k);
    }
    const cover = [...exprs, ...extra];
    if (!opaque && extra.length && !current.some((c) => same(c.index, cover))) covering.push({ index_statement: indexStatement(name(cover), target.ks, cover), keyspace_alias: alias });
  }
  if (!recommended.length && !covering.length) return none;
  const rec: Record<string, unknown> = {};
  if (covering.length) rec.covering_indexes = covering;
  rec.indexes = recommended;
  return { '#operator': 'IndexAdvice', adviseinfo: { current_indexes: currentIndexes, recommended_indexes: rec } };
}

const OPAQUE = '\u0000opaque';

/** The field references of `e`, outermost first, not looking inside what `stop` accepts. */
export function fieldReads(e: A.Expr | undefined, out: A.Expr[] = [], stop: (x: A.Expr) => boolean = () => false): A.Expr[] {
  if (!e || stop(e)) return out;
  if (e.kind === 'ident' || e.kind === 'field') {
    out.push(e);
    return out;
  }
  const visit = (x: A.Expr | undefined): void => void fieldReads(x, out, stop);
  switch (e.kind) {
    case 'binary':
      visit(e.left);
      visit(e.right);
      break;
    case 'and':
    case 'or':
    case 'array':
      (e.kind === 'array' ? e.items : e.args).forEach(visit);
      break;
    case 'not':
    case 'neg':
    case 'is':
      visit(e.arg);
      break;
    case 'between':
      visit(e.arg);
      visit(e.low);
      visit(e.high);
      break;
    case 'like':
      visit(e.arg);
      visit(e.pattern);
      break;
    case 'in':
      visit(e.arg);
      visit(e.list);
      break;
    case 'call':
      e.args.forEach(visit);
      break;
    case 'case':
      visit(e.subject);
      for (const w of e.whens) {
        visit(w.when);
        visit(w.then);
      }
      visit(e.else);
      break;
    case 'object':
      for (const en of e.entries) visit(en.value);
      break;
    case 'lit':
    case 'param':
      break;
    default:
      // Subqueries, quantifiers and the rest read documents in ways no covering index is advised for.
      out.push({ kind: 'ident', name: OPAQUE });
  }
  return out;
}

export function unsupportedAdvise(): QueryError {
  return new QueryError(3250, 'Advise supports SELECT, MERGE, UPDATE and DELETE statements only.');
}
