// What a statement reads of one keyspace's documents: the field paths (`name`, `geo.lat`), the
// META() fields, or the whole document (SELECT *, the alias itself, a subquery). An index whose
// keys hold every path read covers the statement: its rows are built from index entries and no
// document is fetched (see ./access).
import type * as A from './ast';
import type { DocNeeds } from './access';
import { mapChildren } from './format';

/** A field path rooted at an identifier: the identifier and the field names after it. */
function chain(e: A.Expr): { root: A.Expr; steps: string[] } {
  const steps: string[] = [];
  let x = e;
  for (;;) {
    if (x.kind === 'field') {
      steps.unshift(x.name);
      x = x.target;
    } else if (x.kind === 'index' && x.index.kind === 'lit' && typeof x.index.value === 'string') {
      steps.unshift(x.index.value);
      x = x.target;
    } else break;
  }
  return { root: x, steps };
}

/** Whether SEARCH()'s first argument (`alias[.path]`, or a path of the one FROM term) names `alias`'s document. */
function searchesDoc(arg: A.Expr, alias: string, implicit: boolean, names: Set<string>): boolean {
  const { root } = chain(arg);
  return root.kind === 'ident' && (root.name === alias || (implicit && !names.has(root.name)));
}

/**
 * The needs of `exprs` on the document of `alias`. `implicit`: bare names are the document's
 * fields (one FROM term); `names`: the variables in scope (aliases, LET, ...), which are not.
 */
export function docNeeds(exprs: (A.Expr | undefined)[], alias: string, implicit: boolean, names: Set<string>): DocNeeds {
  const needs: DocNeeds = { whole: false, paths: [], meta: new Set() };
  const isMeta = (x: A.Expr): boolean =>
    x.kind === 'call' && x.name === 'meta' && (x.args.length === 0 ? implicit : x.args.length === 1 && x.args[0].kind === 'ident' && x.args[0].name === alias);
  const visit = (e: A.Expr, bound: Set<string>): void => {
    if (needs.whole) return;
    if (e.kind === 'field' || e.kind === 'index') {
      const { root, steps } = chain(e);
      if (root.kind === 'ident' && !bound.has(root.name)) {
        if (root.name === alias) {
          if (steps.length === 0) needs.whole = true;
          else needs.paths.push(steps);
          if (e.kind === 'index' && steps.length === 0) visit(e.index, bound);
          return;
        }
        if (implicit && !names.has(root.name)) {
          needs.paths.push([root.name, ...steps]);
          return;
        }
      }
      if (isMeta(root) && steps.length) {
        needs.meta.add(steps[0]);
        return;
      }
    }
    switch (e.kind) {
      case 'ident':
        if (bound.has(e.name)) return;
        if (e.name === alias) needs.whole = true;
        else if (implicit && !names.has(e.name)) needs.paths.push([e.name]);
        return;
      case 'call':
        if (isMeta(e)) {
          needs.meta.add('*');
          return;
        }
        // SEARCH() evaluates its query on the whole document, whatever path it names.
        if (e.name === 'search' && !e.fn && e.args.length && searchesDoc(e.args[0], alias, implicit, names)) {
          needs.whole = true;
          return;
        }
        if (e.over) {
          for (const p of e.over.partitionBy ?? []) visit(p, bound);
          for (const o of e.over.orderBy ?? []) visit(o.expr, bound);
        }
        break;
      case 'subquery':
      case 'exists':
        if (e.kind === 'subquery' || e.arg.kind === 'subquery') {
          // A subquery may read the document anywhere in its own clauses: take it all.
          needs.whole = true;
          return;
        }
        break;
      case 'quant':
      case 'collect': {
        const inner = new Set(bound);
        for (const b of e.bindings) {
          visit(b.expr, bound);
          inner.add(b.name);
          if (b.pos) inner.add(b.pos);
        }
        if (e.kind === 'quant') visit(e.satisfies, inner);
        else for (const x of [e.value, e.key, e.when]) if (x) visit(x, inner);
        return;
      }
    }
    mapChildren(e, (c) => {
      visit(c, bound);
      return c;
    });
  };
  for (const e of exprs) if (e) visit(e, new Set());
  return needs;
}

/** Every expression of a SELECT block over `alias` (its result terms, clauses and windows), for docNeeds. */
export function blockExprs(block: A.SelectBlock, alias: string): (A.Expr | undefined)[] {
  const out: (A.Expr | undefined)[] = [];
  // A bare `*` projects the whole document, as reading the alias does.
  for (const t of block.terms) out.push(t.expr ?? { kind: 'ident', name: alias });
  for (const l of block.let) out.push(l.expr);
  out.push(block.where, ...(block.groupBy ?? []), block.having);
  for (const l of block.letting) out.push(l.expr);
  for (const w of Object.values(block.windows ?? {})) out.push(...(w.partitionBy ?? []), ...(w.orderBy ?? []).map((o) => o.expr));
  return out;
}
