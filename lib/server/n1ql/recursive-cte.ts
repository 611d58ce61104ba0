// WITH RECURSIVE (Couchbase Server 7.6): the anchor arm runs once (level 0), then the step arm
// runs again and again with the CTE's name bound to what the previous level produced, until a
// level produces nothing, a limit of OPTIONS is reached, or the implicit limits (1,000 levels,
// 10,000 documents) are. The levels are appended in order. UNION drops a document produced
// before; CYCLE f, ... RESTRICT drops one whose values of those fields were seen before.
import type * as A from './ast';
import { QueryError, ErrorCode } from './errors';
import { AGGREGATES, childScope, compile, type Compiled, type ExecContext, type Row, type Scope } from './expr';
import { collect, type Pause } from './pause';
import { formatExpr } from './format';
import { isObject, typeName, valueKey, type Value } from './value';

const IMPLICIT_LEVELS = 1000;
const IMPLICIT_DOCUMENTS = 10_000;

/** The hidden name a CYCLE field reads its document from. */
const DOC = '\u0000cte';

type RunQuery = (outer: Row, ctx: ExecContext) => Iterable<Value | Pause>;

/**
 * The step with the previous level as its first FROM term: `FROM t JOIN cte ON ...` (or `FROM t,
 * cte`) is read as `FROM cte JOIN t ON ...`, so each level lists its documents in the order of
 * the documents of the level before, as Couchbase's plan for the recursive reference does. Only
 * inner joins are turned around (the result is the same set).
 */
function drivenByPreviousLevel(step: A.SelectStatement, name: string): A.SelectStatement {
  const block = step.body;
  if (block.kind !== 'block' || !block.from || block.from.joins.length !== 1) return step;
  const j = block.from.joins[0];
  const first = block.from.source;
  if (j.kind !== 'ansi' || j.outer || j.nest || j.indexFor !== undefined || first.kind !== 'keyspace') return step;
  const r = j.right;
  if (r.kind !== 'keyspace' || r.ks.scope !== undefined || r.ks.bucket !== name || r.alias !== name) return step;
  return { ...step, body: { ...block, from: { source: r, joins: [{ ...j, right: first }] } } };
}

/** Whether a FROM term reads the CTE's name. */
function readsCte(src: A.FromSource, name: string): boolean {
  return src.kind === 'keyspace' && src.ks.scope === undefined && src.ks.bucket === name;
}

/** The FROM clauses of a SELECT body's blocks. */
function fromClauses(body: A.SelectBody): A.FromClause[] {
  if (body.kind === 'block') return body.from ? [body.from] : [];
  if (body.kind === 'setop') return [...fromClauses(body.left), ...fromClauses(body.right)];
  return [];
}

/** Whether `node` calls an aggregate or a window function (not looking into subqueries or literals). */
function aggregates(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(aggregates);
  if (typeof node !== 'object' || node === null) return false;
  const o = node as Record<string, unknown>;
  if (o.kind === 'lit' || o.kind === 'subquery') return false;
  if (o.kind === 'call' && (o.over !== undefined || AGGREGATES.has(o.name as string))) return true;
  return Object.values(o).some(aggregates);
}

const semantic = (cause: string): QueryError => new QueryError(3300, `recursive_with semantics: ${cause}`);

/**
 * What the query engine's semantic check refuses in a SELECT of a WITH RECURSIVE clause (3300):
 * grouping, DISTINCT and aggregates, in either arm and in a CTE of that clause that does not
 * recurse too (the reference's restrictions; ORDER BY / LIMIT / OFFSET are checked on the UNION).
 */
export function checkRecursiveClauseSelect(stmt: A.SelectStatement): void {
  const body = (b: A.SelectBody): void => {
    if (b.kind === 'setop') {
      body(b.left);
      body(b.right);
    } else if (b.kind === 'paren') {
      // A parenthesised arm is a query of its own: its ORDER BY / LIMIT / OFFSET would apply per level.
      checkRecursiveClauseSelect(b.query);
      if (b.query.orderBy) throw semantic('Order not allowed');
      if (b.query.offset) throw semantic('Offset not allowed');
      if (b.query.limit) throw semantic('Limit not allowed');
    }
    else {
      if (b.groupBy) throw semantic('Grouping is not allowed');
      if (b.distinct) throw semantic('Distinct not allowed');
      if (aggregates(b.terms)) throw semantic('Aggregates/Window functions are not allowed');
    }
  };
  body(stmt.body);
}

/**
 * Whether a WITH RECURSIVE term recurses: the step arm reads the CTE's name in a FROM clause.
 * One that does not is an ordinary CTE (the server does not split it into anchor and step).
 */
export function stepReadsCte(name: string, cte: A.RecursiveCte): boolean {
  return fromClauses(cte.step.body).some((f) => [f.source, ...f.joins.flatMap((j) => (j.kind === 'unnest' ? [] : [j.right]))].some((t) => readsCte(t, name)));
}

/** Whether a SELECT's own FROM clauses read `name` (a non-recursive CTE that refers to itself). */
export function selectReads(name: string, q: A.SelectStatement): boolean {
  return fromClauses(q.body).some((f) => [f.source, ...f.joins.flatMap((j) => (j.kind === 'unnest' ? [] : [j.right]))].some((t) => readsCte(t, name)));
}

/** The restrictions the reference lists for a recursive CTE's arms (3300-3304). */
function checkArms(name: string, cte: A.RecursiveCte): void {
  if (cte.ordered) throw semantic('Order/Limit/Offset not allowed');
  checkRecursiveClauseSelect(cte.anchor);
  checkRecursiveClauseSelect(cte.step);
  for (const f of fromClauses(cte.anchor.body)) {
    const terms = [f.source, ...f.joins.flatMap((j) => (j.kind === 'unnest' ? [] : [j.right]))];
    if (terms.some((t) => readsCte(t, name))) throw new QueryError(3301, `Anchor Clause cannot have recursive reference in FROM expression: ${name}`);
  }
  for (const f of fromClauses(cte.step.body)) {
    let refs = readsCte(f.source, name) ? 1 : 0;
    for (const j of f.joins) {
      if (j.kind === 'unnest') {
        throw new QueryError(3304, 'recursive_with_unsupported: UNNEST');
      }
      // Any outer join in the step (either side the CTE): its unmatched rows would feed the next level forever.
      if (j.outer) throw new QueryError(3304, 'recursive_with_unsupported: OUTER JOIN');
      if (!readsCte(j.right, name)) continue;
      refs++;
      if (j.nest) throw new QueryError(3304, 'recursive_with_unsupported: NEST');
    }
    if (refs > 1) throw new QueryError(3302, `Recursive reference '${name}' must not appear more than once in the FROM clause`);
  }
}

/** A recursive CTE as a function of the row it is evaluated for: its documents, all levels. */
export function compileRecursiveCte(
  name: string,
  cte: A.RecursiveCte,
  scope: Scope,
  compileQuery: (q: A.SelectStatement, scope: Scope) => RunQuery,
): Compiled {
  checkArms(name, cte);
  const anchor = compileQuery(cte.anchor, scope);
  // The step reads the CTE's name as a FROM term: a variable holding the previous level.
  const step = compileQuery(drivenByPreviousLevel(cte.step, name), childScope(scope, [name]));
  const docScope: Scope = { ...childScope(scope, [DOC]), implicit: DOC };
  const cycle = cte.cycle?.map((e) => {
    if (e.kind !== 'ident' && e.kind !== 'field') {
      throw new QueryError(3307, `Cycle fields validation failed for with term: ${name} - cause: invalid cycle field expression term: ${formatExpr(e)} only identifier/path expressions are allowed`);
    }
    return compile(e, docScope);
  });
  const options = cte.options ? compile(cte.options, scope) : undefined;

  return (row, ctx) => {
    let levels = IMPLICIT_LEVELS;
    let documents = IMPLICIT_DOCUMENTS;
    if (options) {
      const o = options(row, ctx);
      if (o !== undefined && o !== null && !isObject(o)) throw new QueryError(ErrorCode.EXECUTION, `Invalid OPTIONS for recursive with term ${name}: expecting an object`);
      if (isObject(o)) {
        const notNumber = Object.keys(o).find((k) => typeof o[k] !== 'number' && typeof o[k] !== 'bigint');
        if (notNumber !== undefined) {
          throw new QueryError(5001, `Execution internal error: Configuration options must be numeric ('${notNumber}' is ${typeName(o[notNumber])})`);
        }
        const bad = Object.keys(o).find((k) => k !== 'levels' && k !== 'documents');
        if (bad !== undefined) throw new QueryError(3303, `Invalid config option ${bad}`, { invalid_option: bad });
      }
      if (isObject(o) && typeof o.levels === 'number') levels = Math.trunc(o.levels);
      if (isObject(o) && typeof o.documents === 'number') documents = Math.trunc(o.documents);
    }
    const seen = new Set<string>();
    const seenCycles = new Set<string>();
    const fresh = (v: Value): boolean => {
      if (!cte.all) {
        const k = valueKey(v);
        if (seen.has(k)) return false;
        seen.add(k);
      }
      if (cycle) {
        const r: Row = { vars: Object.create(row.vars), metas: row.metas };
        r.vars[DOC] = v;
        let k = '';
        for (const f of cycle) k += valueKey(f(r, ctx)) + '\u0001';
        if (seenCycles.has(k)) return false;
        seenCycles.add(k);
      }
      return true;
    };
    const out: Value[] = [];
    let level = collect(anchor(row, ctx), ctx).filter(fresh);
    for (let depth = 0; ; depth++) {
      for (const v of level) {
        if (out.length >= documents) return out;
        out.push(v);
      }
      if (level.length === 0 || depth >= levels) return out;
      ctx.checkDeadline();
      const r: Row = { vars: Object.create(row.vars), metas: row.metas };
      r.vars[name] = level;
      level = collect(step(r, ctx), ctx).filter(fresh);
    }
  };
}
