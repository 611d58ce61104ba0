// Expressions back to text, in the style Couchbase uses for system:indexes (`index_key`,
// `condition`) and EXPLAIN: identifiers back-quoted, operators parenthesised.
import type * as A from './ast';
import { jsonText } from './json';
import type { Value } from './value';

const q = (name: string): string => '`' + name.replace(/`/g, '``') + '`';

function lit(v: Value): string {
  if (v === undefined) return 'missing';
  return jsonText(v)!;
}

function bindings(bs: A.ForBinding[]): string {
  return bs.map((b) => `${b.pos ? q(b.pos) + ' : ' : ''}${q(b.name)} ${b.within ? 'within' : 'in'} ${formatExpr(b.expr)}`).join(', ');
}

export function formatExpr(e: A.Expr): string {
  switch (e.kind) {
    case 'lit':
      return lit(e.value);
    case 'ident':
      return q(e.name);
    case 'field':
      return `(${formatExpr(e.target)}.${q(e.name)})`;
    case 'index':
      return `(${formatExpr(e.target)}[${formatExpr(e.index)}])`;
    case 'slice':
      return `(${formatExpr(e.target)}[${e.from ? formatExpr(e.from) : ''} : ${e.to ? formatExpr(e.to) : ''}])`;
    case 'star':
      return `(${formatExpr(e.target)}[*])`;
    case 'param':
      return '$' + e.name;
    case 'binary':
      return `(${formatExpr(e.left)} ${e.op} ${formatExpr(e.right)})`;
    case 'and':
      return '(' + e.args.map(formatExpr).join(' and ') + ')';
    case 'or':
      return '(' + e.args.map(formatExpr).join(' or ') + ')';
    case 'not':
      return `(not ${formatExpr(e.arg)})`;
    case 'neg':
      return `(-${formatExpr(e.arg)})`;
    case 'is':
      return `(${formatExpr(e.arg)} is ${e.not ? 'not ' : ''}${e.what})`;
    case 'between':
      return `(${formatExpr(e.arg)} ${e.not ? 'not ' : ''}between ${formatExpr(e.low)} and ${formatExpr(e.high)})`;
    case 'like':
      return `(${formatExpr(e.arg)} ${e.not ? 'not ' : ''}like ${formatExpr(e.pattern)})`;
    case 'in':
      return `(${formatExpr(e.arg)} ${e.not ? 'not ' : ''}${e.within ? 'within' : 'in'} ${formatExpr(e.list)})`;
    case 'case':
      return `case ${e.subject ? formatExpr(e.subject) + ' ' : ''}${e.whens.map((w) => `when ${formatExpr(w.when)} then ${formatExpr(w.then)}`).join(' ')}${e.else ? ' else ' + formatExpr(e.else) : ''} end`;
    case 'call':
      if (e.star) return `${e.name}(*)${e.filter ? ` filter (where ${formatExpr(e.filter)})` : ''}`;
      return `${e.name}(${e.distinct ? 'distinct ' : ''}${e.args.map((a, i) => formatExpr(a) + (e.flattenDesc?.[i] ? ' desc' : '')).join(', ')})${e.filter ? ` filter (where ${formatExpr(e.filter)})` : ''}`;
    case 'array':
      return '[' + e.items.map(formatExpr).join(', ') + ']';
    case 'object':
      return '{' + e.entries.map((en) => `${formatExpr(en.key)}: ${formatExpr(en.value)}`).join(', ') + '}';
    case 'quant':
      return `${e.quant === 'anyevery' ? 'any and every' : e.quant} ${bindings(e.bindings)} satisfies ${formatExpr(e.satisfies)} end`;
    case 'collect': {
      const head = e.collect === 'object' ? `object ${formatExpr(e.key!)} : ${formatExpr(e.value)}` : `${e.collect} ${formatExpr(e.value)}`;
      const body = `${head} for ${bindings(e.bindings)}${e.when ? ' when ' + formatExpr(e.when) : ''} end`;
      return e.distinct ? `(distinct (${body}))` : e.distinct === false ? `(all (${body}))` : `(${body})`;
    }
    case 'exists':
      return `(exists ${formatExpr(e.arg)})`;
    case 'subquery':
      return '(select ...)';
    case 'sequence': {
      const n = e.name;
      const path = [n.bucket, n.scope, n.name].filter((x): x is string => x !== undefined).map(q).join('.');
      return `${e.next ? 'nextval' : 'prevval'} for ${n.namespace !== undefined ? q(n.namespace) + ':' : ''}${path}`;
    }
  }
}

/** A document-relative expression (an index key) qualified with `alias`, as EXPLAIN prints covers. */
export function qualifyDoc(e: A.Expr, alias: string, names: ReadonlySet<string> = new Set()): A.Expr {
  const walk = (x: A.Expr, bound: Set<string>): A.Expr => {
    if (x.kind === 'ident') return bound.has(x.name) || x.name === alias ? x : { kind: 'field', target: { kind: 'ident', name: alias }, name: x.name };
    if (x.kind === 'call' && x.name === 'meta' && x.args.length === 0) return { ...x, args: [{ kind: 'ident', name: alias }] };
    if (x.kind === 'quant' || x.kind === 'collect') {
      const inner = new Set(bound);
      for (const b of x.bindings) {
        inner.add(b.name);
        if (b.pos) inner.add(b.pos);
      }
      const bindings = x.bindings.map((b) => ({ ...b, expr: walk(b.expr, bound) }));
      if (x.kind === 'quant') return { ...x, bindings, satisfies: walk(x.satisfies, inner) };
      return { ...x, bindings, value: walk(x.value, inner), key: x.key && walk(x.key, inner), when: x.when && walk(x.when, inner) };
    }
    if (x.kind === 'subquery') return x;
    return mapChildren(x, (c) => walk(c, bound));
  };
  return walk(e, new Set(names));
}

const LAZY = Symbol('lazy');

/**
 * An EXPLAIN operator whose text fields are computed only when the plan is shown (see
 * `materialize`): every statement builds its plan, few are explained, and formatting
 * expressions is not free.
 */
export function op(fields: Record<string, unknown>, lazy: Record<string, () => unknown>): Record<string, unknown> {
  (fields as Record<symbol, unknown>)[LAZY] = lazy;
  return fields;
}

/** The plan with every lazy field of its operators computed (in place), ready to be shown. */
export function materialize<T>(plan: T): T {
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      const o = x as Record<string | symbol, unknown>;
      const lazy = o[LAZY] as Record<string, () => unknown> | undefined;
      if (lazy) {
        delete o[LAZY];
        for (const [k, f] of Object.entries(lazy)) o[k] = f();
      }
      for (const v of Object.values(o)) walk(v);
    }
  };
  walk(plan);
  return plan;
}

/** Index keys are stored relative to the document: strip a leading keyspace alias. */
export function stripAlias(e: A.Expr, alias: string): A.Expr {
  const walk = (x: A.Expr): A.Expr => {
    if (x.kind === 'field' && x.target.kind === 'ident' && x.target.name === alias) return { kind: 'ident', name: x.name };
    return mapChildren(x, walk);
  };
  return walk(e);
}

/** A shallow rebuild of `e` with `f` applied to each direct child expression. */
export function mapChildren(e: A.Expr, f: (x: A.Expr) => A.Expr): A.Expr {
  switch (e.kind) {
    case 'field':
      return { ...e, target: f(e.target) };
    case 'index':
      return { ...e, target: f(e.target), index: f(e.index) };
    case 'slice':
      return { ...e, target: f(e.target), from: e.from && f(e.from), to: e.to && f(e.to) };
    case 'star':
      return { ...e, target: f(e.target) };
    case 'binary':
      return { ...e, left: f(e.left), right: f(e.right) };
    case 'and':
    case 'or':
      return { ...e, args: e.args.map(f) };
    case 'not':
    case 'neg':
    case 'is':
      return { ...e, arg: f(e.arg) };
    case 'between':
      return { ...e, arg: f(e.arg), low: f(e.low), high: f(e.high) };
    case 'like':
      return { ...e, arg: f(e.arg), pattern: f(e.pattern), escape: e.escape && f(e.escape) };
    case 'in':
      return { ...e, arg: f(e.arg), list: f(e.list) };
    case 'case':
      return { ...e, subject: e.subject && f(e.subject), whens: e.whens.map((w) => ({ when: f(w.when), then: f(w.then) })), else: e.else && f(e.else) };
    case 'call':
      return { ...e, args: e.args.map(f), filter: e.filter && f(e.filter) };
    case 'array':
      return { ...e, items: e.items.map(f) };
    case 'object':
      return { ...e, entries: e.entries.map((en) => ({ key: f(en.key), value: f(en.value) })) };
    case 'quant':
      return { ...e, bindings: e.bindings.map((b) => ({ ...b, expr: f(b.expr) })), satisfies: f(e.satisfies) };
    case 'collect':
      return { ...e, bindings: e.bindings.map((b) => ({ ...b, expr: f(b.expr) })), value: f(e.value), key: e.key && f(e.key), when: e.when && f(e.when) };
    case 'exists':
      return { ...e, arg: f(e.arg) };
    default:
      return e;
  }
}

/** Identifiers an expression reads at its top level (not those bound by its own FOR clauses). */
export function freeIdents(e: A.Expr, out = new Set<string>(), bound = new Set<string>()): Set<string> {
  const visit = (x: A.Expr, b: Set<string>): void => {
    if (x.kind === 'ident') {
      if (!b.has(x.name)) out.add(x.name);
      return;
    }
    if (x.kind === 'quant' || x.kind === 'collect') {
      const inner = new Set(b);
      for (const bd of x.bindings) {
        visit(bd.expr, b);
        inner.add(bd.name);
        if (bd.pos) inner.add(bd.pos);
      }
      if (x.kind === 'quant') visit(x.satisfies, inner);
      else {
        visit(x.value, inner);
        if (x.key) visit(x.key, inner);
        if (x.when) visit(x.when, inner);
      }
      return;
    }
    if (x.kind === 'subquery' || x.kind === 'sequence') {
      // Neither is a function of the row alone (a sequence changes at every document).
      out.add('\0subquery');
      return;
    }
    // META() reads the implicit keyspace; META(x) reads x, which the walk below records.
    if (x.kind === 'call' && x.name === 'meta' && x.args.length === 0) out.add('\0meta');
    mapChildren(x, (c) => {
      visit(c, b);
      return c;
    });
  };
  visit(e, bound);
  return out;
}
