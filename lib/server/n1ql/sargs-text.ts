// The text a predicate or an index key is matched by. Array index keys (ARRAY f(v) FOR v IN arr
// END) and ANY ... SATISFIES predicates name their loop variable freely: it is renamed to one
// name on both sides so `ANY s IN schedule SATISFIES s.day = 1 END` finds an index on
// `DISTINCT ARRAY v.day FOR v IN schedule END`.
import type * as A from './ast';
import { formatExpr, mapChildren } from './format';

export const LOOP_VAR = '\u0000v';

export function renameIdent(e: A.Expr, from: string, to: string): A.Expr {
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

export function arrayKeyText(value: A.Expr, source: A.Expr): string {
  return formatExpr({ kind: 'collect', collect: 'array', value, bindings: [{ name: LOOP_VAR, expr: source, within: false }] });
}

