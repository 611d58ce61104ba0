// Whether a subquery is correlated: it reads a name of the enclosing query that it does not bind
// itself. The server plans a correlated subquery per outer row, and refuses to scan a large
// keyspace through its primary index there (5370, see ./select).
import type * as A from './ast';

/** Names a query's tree reads (identifiers) and binds (FROM / JOIN / UNNEST aliases, LET, WITH, FOR variables). */
function walk(node: unknown, used: Set<string>, bound: Set<string>): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, used, bound);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Record<string, unknown>;
  if (o.kind === 'lit') return;
  if (o.kind === 'ident' && typeof o.name === 'string') used.add(o.name);
  // Terms with an alias (FROM, JOIN, UNNEST) and bindings without a kind (LET, WITH, FOR, comprehension variables).
  if (typeof o.alias === 'string' && o.kind !== undefined && o.kind !== 'ident') bound.add(o.alias);
  if (o.kind === 'keyspace' && typeof o.alias === 'string') bound.add(o.alias);
  if (o.kind === undefined && typeof o.name === 'string') bound.add(o.name);
  if (o.kind === undefined && typeof o.pos === 'string') bound.add(o.pos);
  for (const k of Object.keys(o)) if (k !== 'at') walk(o[k], used, bound);
}

/** Whether `q` reads one of `outer`'s names that it does not bind itself. */
export function isCorrelated(q: A.SelectStatement, outer: ReadonlySet<string>): boolean {
  if (outer.size === 0) return false;
  const used = new Set<string>();
  const bound = new Set<string>();
  walk(q, used, bound);
  for (const n of used) if (outer.has(n) && !bound.has(n)) return true;
  return false;
}
