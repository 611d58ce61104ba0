// SEARCH(), SEARCH_META() and SEARCH_SCORE() (the Search Functions reference). The embedded
// cluster runs no Search service, so every SEARCH() takes the path Couchbase takes when no
// Search index serves it: the query service fetches each document and evaluates the search on
// it (n1fty's "verify" step). SEARCH_META() and SEARCH_SCORE() then return MISSING, as the
// reference says they do when no Search index evaluated the search.
import type * as A from './ast';
import { ErrorCode, EvaluationCause, QueryError, nearText } from './errors';
import { formatExpr } from './format';
import type { Compiled, ExecContext, Row } from './row';
import { isObject, type Value } from './value';
import { compileSearch as compileQuery, DocView, SearchError, type Matcher } from '../search/index';

/** What SEARCH() needs of the compiler's scope (a structural slice of expr.ts's Scope). */
export interface SearchScope {
  names: Set<string>;
  implicit?: string;
  multipleFrom?: boolean;
  /** Compiling a WHERE or ON condition, the only places SEARCH() may appear. */
  searchable?: boolean;
}

type Call = A.Expr & { kind: 'call' };

const invalid = (which: string, arg: A.Expr): QueryError =>
  new QueryError(ErrorCode.SEMANTIC, `SEARCH() function operands are invalid. - cause: search() not valid ${which} argument: ${formatExpr(arg)}`);

/** An expression whose value is known before any document is read: constants and parameters. */
function isStatic(e: A.Expr): boolean {
  switch (e.kind) {
    case 'lit':
    case 'param':
      return true;
    case 'neg':
      return isStatic(e.arg);
    case 'array':
      return e.items.every(isStatic);
    case 'object':
      return e.entries.every((en) => isStatic(en.key) && isStatic(en.value));
    default:
      return false;
  }
}

/** SEARCH()'s first argument, `alias[.path]`: the keyspace alias and the field path (dot-separated). */
function target(arg: A.Expr, scope: SearchScope): { alias: string; path: string } {
  const steps: string[] = [];
  let x = arg;
  while (x.kind === 'field') {
    steps.unshift(x.name);
    x = x.target;
  }
  if (x.kind !== 'ident') throw invalid('first', arg);
  if (scope.names.has(x.name)) return { alias: x.name, path: steps.join('.') };
  if (scope.implicit !== undefined) return { alias: scope.implicit, path: [x.name, ...steps].join('.') };
  if (scope.multipleFrom) throw new QueryError(ErrorCode.AMBIGUOUS_REFERENCE, `Ambiguous reference to field '${x.name}'${nearText(x.at)}.`);
  throw invalid('first', arg);
}

/** The `index` and `out` options as far as they are written in the statement (values of parameters come later). */
function checkOptions(arg: A.Expr): void {
  const check = (key: Value, value: A.Expr): void => {
    if (value.kind !== 'lit') return;
    const v = value.value;
    if ((key === 'index' && typeof v !== 'string' && !isObject(v)) || (key === 'out' && typeof v !== 'string')) throw invalid('third', arg);
  };
  if (arg.kind === 'lit' && isObject(arg.value)) for (const [k, v] of Object.entries(arg.value)) check(k, { kind: 'lit', value: v });
  if (arg.kind === 'object') for (const en of arg.entries) if (en.key.kind === 'lit') check(en.key.value, en.value);
}

/** 3100 for SEARCH() outside a WHERE or ON clause. */
export function searchMisplaced(): QueryError {
  return new QueryError(ErrorCode.SEMANTIC, 'SEARCH() function is allowed in WHERE/ON clause(s) only.');
}

/** What one request's SEARCH() call evaluates with: the compiled query, or why it cannot run. */
interface Prepared {
  matcher?: Matcher;
  skip?: boolean;
  error?: Error;
}

/**
 * SEARCH(alias[.path], query[, options]). `compileArg` compiles the query and options (constants
 * or parameters, evaluated once per request). A row's document is analyzed once, however many
 * SEARCH() calls read it.
 */
export function compileSearch(e: Call, scope: SearchScope, compileArg: (x: A.Expr) => Compiled): Compiled {
  if (!scope.searchable) throw searchMisplaced();
  if (e.args.length < 2 || e.args.length > 3) throw new QueryError(ErrorCode.SEMANTIC, `Number of arguments to function search must be between 2 and 3.`);
  const { alias, path } = target(e.args[0], scope);
  const [, queryArg, optionsArg] = e.args;
  if ((queryArg.kind === 'lit' && typeof queryArg.value !== 'string' && !isObject(queryArg.value)) || !isStatic(queryArg)) throw invalid('second', queryArg);
  if (optionsArg) checkOptions(optionsArg);
  const query = compileArg(queryArg);
  const options = optionsArg ? compileArg(optionsArg) : undefined;
  const text = formatExpr(e);
  const prepared = new WeakMap<ExecContext, Prepared>();

  const prepare = (row: Row, ctx: ExecContext): Prepared => {
    const q = query(row, ctx);
    if (typeof q !== 'string' && !isObject(q)) return { error: new EvaluationCause(`${text} function Query parameter must be string or object.`) };
    const o = options?.(row, ctx);
    if (o !== undefined && !isObject(o)) return { error: new EvaluationCause(`${text} function Options parameter must be object.`) };
    // n1fty's verify step: skipVerify trusts the Search index and lets every document through.
    if (o && (o.skipVerify === true || o.skipVerify === 'true')) return { skip: true };
    try {
      const index = o?.index;
      const matcher = compileQuery(q, { defaultField: path, mapping: isObject(index) ? index : undefined });
      // A named Search index would give the mapping; there are none here.
      if (typeof index === 'string') return { error: new QueryError(ErrorCode.EXECUTION, 'n1fty: index mapping not found') };
      if (index !== undefined && !isObject(index)) return { error: new QueryError(ErrorCode.EXECUTION, 'n1fty: unrecognizable index option') };
      return { matcher };
    } catch (err) {
      if (err instanceof SearchError) return { error: new QueryError(ErrorCode.EXECUTION, `n1fty:  - cause: ${err.message}`) };
      throw err;
    }
  };

  return (row, ctx) => {
    const doc = row.vars[alias];
    // An outer join's missing side: MISSING or NULL, as the document is.
    if (doc === undefined || doc === null) return doc;
    let p = prepared.get(ctx);
    if (!p) prepared.set(ctx, (p = prepare(row, ctx)));
    if (p.error) throw p.error;
    if (p.skip) return true;
    return p.matcher!(viewOf(ctx, doc, row.metas[alias]?.id));
  };
}

/**
 * The views of the documents the current rows read, shared by every SEARCH() call of the
 * request: a row's document is analyzed once however many SEARCH() calls read it. Only the last
 * few are kept (a row of a join holds several documents), so a scan does not hold every
 * document's tokens until the request ends.
 */
const RECENT = 8;
const recent = new WeakMap<ExecContext, { docs: object[]; views: DocView[]; next: number }>();

function viewOf(ctx: ExecContext, doc: Value, id: string | undefined): DocView {
  if (typeof doc !== 'object' || doc === null) return new DocView(doc, id);
  let r = recent.get(ctx);
  if (!r) recent.set(ctx, (r = { docs: [], views: [], next: 0 }));
  const i = r.docs.indexOf(doc);
  if (i >= 0 && r.views[i].id === id) return r.views[i];
  const v = new DocView(doc, id);
  r.docs[r.next] = doc;
  r.views[r.next] = v;
  r.next = (r.next + 1) % RECENT;
  return v;
}

/**
 * SEARCH_META([alias.][outname]) and SEARCH_SCORE(...): the metadata and score a Search index
 * gives a document. No Search index evaluates a search here, so both are MISSING (their argument
 * names an operation, it is not evaluated).
 */
export function compileSearchMeta(e: Call): Compiled {
  if (e.args.length > 1) throw new QueryError(ErrorCode.SEMANTIC, `Number of arguments to function ${e.name} must be between 0 and 1.`);
  return () => undefined;
}
