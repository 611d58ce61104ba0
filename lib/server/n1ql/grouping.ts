// The rule Couchbase's planner applies to a grouped SELECT (GROUP BY, LETTING, or aggregates):
// LETTING, HAVING, the projection and ORDER BY may read the row data only through group keys or
// aggregates. Anything else has no single value per group, so the statement is refused with
// 4210 "Expression <expr> must depend only on group keys or aggregates." rather than answered
// with an arbitrary row's value. Expressions are compared after qualifying unqualified names
// with the implicit keyspace alias, as Couchbase does, so `x` and `b.x` are the same key and
// the message shows (`b`.`x`).
import type * as A from './ast';
import { AGGREGATES } from './expr';
import { QueryError, ErrorCode } from './errors';
import { formatExpr, mapChildren } from './format';

function keyOf(e: A.Expr): string {
  // aggIndex is written into call nodes when they are compiled, `at` is where a name was written: neither is part of the meaning.
  return JSON.stringify(e, (k, v: unknown) => (k === 'aggIndex' || k === 'at' ? undefined : typeof v === 'bigint' ? `${v}n` : v));
}

/** Every identifier a subquery mentions that it does not bind itself (its FROM/LET/WITH names). */
function subqueryOuterRefs(q: A.SelectStatement, names: Set<string>): boolean {
  const bound = new Set<string>();
  const mentioned = new Set<string>();
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) {
      for (const y of x) visit(y);
      return;
    }
    if (typeof x !== 'object' || x === null) return;
    const o = x as Record<string, unknown>;
    if (o.kind === 'ident' && typeof o.name === 'string') mentioned.add(o.name);
    if (typeof o.alias === 'string') bound.add(o.alias);
    for (const v of Object.values(o)) visit(v);
  };
  visit(q);
  for (const n of mentioned) if (names.has(n) && !bound.has(n)) return true;
  return false;
}

export class GroupingRule {
  private readonly keys = new Set<string>();
  private readonly allowed = new Set<string>();

  /**
   * @param dataNames the block's per-row names (FROM, JOIN, UNNEST aliases and LET variables)
   * @param visible every name the block's expressions can see (the rest are document fields)
   * @param implicit the alias unqualified names resolve against, if any
   */
  constructor(
    private readonly dataNames: Set<string>,
    private readonly visible: Set<string>,
    private readonly implicit: string | undefined,
    groupBy: readonly A.Expr[],
  ) {
    for (const g of groupBy) this.keys.add(keyOf(this.qualify(g, new Set())));
  }

  /** A LETTING variable: usable from HAVING, the projection and ORDER BY. */
  allow(name: string): void {
    this.allowed.add(name);
  }

  /** Throws 4210 unless `e` depends only on group keys, aggregates and allowed names. */
  require(e: A.Expr, extraAllowed?: ReadonlySet<string>): void {
    // LETTING variables and (in ORDER BY) projection aliases are names, not fields of the keyspace.
    const q = this.qualify(e, new Set([...this.allowed, ...(extraAllowed ?? [])]));
    if (!this.survives(q, new Set(), extraAllowed)) {
      throw new QueryError(ErrorCode.NOT_GROUP_KEY, `Expression ${formatExpr(q)} must depend only on group keys or aggregates.`);
    }
  }

  /** A `*` or `alias.*` projection term: only an allowed name or group key survives. */
  requireStar(e: A.Expr | undefined): void {
    if (e === undefined) throw new QueryError(ErrorCode.NOT_GROUP_KEY, 'Expression * must depend only on group keys or aggregates.');
    this.require(e);
  }

  private qualify(e: A.Expr, bound: Set<string>): A.Expr {
    switch (e.kind) {
      case 'ident':
        if (bound.has(e.name) || this.visible.has(e.name) || this.implicit === undefined) return e;
        return { kind: 'field', target: { kind: 'ident', name: this.implicit }, name: e.name };
      case 'call':
        if (e.name === 'meta' && e.args.length === 0 && this.implicit !== undefined) {
          return { ...e, args: [{ kind: 'ident', name: this.implicit }] };
        }
        return { ...e, args: e.args.map((a) => this.qualify(a, bound)) };
      case 'quant':
      case 'collect': {
        const inner = new Set(bound);
        const bindings = e.bindings.map((b) => {
          const out = { ...b, expr: this.qualify(b.expr, inner) };
          inner.add(b.name);
          if (b.pos) inner.add(b.pos);
          return out;
        });
        if (e.kind === 'quant') return { ...e, bindings, satisfies: this.qualify(e.satisfies, inner) };
        return {
          ...e,
          bindings,
          value: this.qualify(e.value, inner),
          key: e.key && this.qualify(e.key, inner),
          when: e.when && this.qualify(e.when, inner),
        };
      }
      default:
        return mapChildren(e, (c) => this.qualify(c, bound));
    }
  }

  private survives(e: A.Expr, bound: Set<string>, extra?: ReadonlySet<string>): boolean {
    if (this.keys.has(keyOf(e))) return true;
    switch (e.kind) {
      case 'ident':
        return bound.has(e.name) || this.allowed.has(e.name) || extra?.has(e.name) === true || !this.dataNames.has(e.name);
      case 'call':
        if (AGGREGATES.has(e.name)) return true;
        return e.args.every((a) => this.survives(a, bound, extra));
      case 'subquery':
        return !subqueryOuterRefs(e.query, this.dataNames);
      case 'quant':
      case 'collect': {
        const inner = new Set(bound);
        for (const b of e.bindings) {
          if (!this.survives(b.expr, inner, extra)) return false;
          inner.add(b.name);
          if (b.pos) inner.add(b.pos);
        }
        const body = e.kind === 'quant' ? [e.satisfies] : [e.value, e.key, e.when];
        return body.every((x) => x === undefined || this.survives(x, inner, extra));
      }
      default: {
        let ok = true;
        mapChildren(e, (c) => {
          if (ok && !this.survives(c, bound, extra)) ok = false;
          return c;
        });
        return ok;
      }
    }
  }
}
