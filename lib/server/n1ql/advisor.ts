// The ADVISE statement and the ADVISOR() function around the index advisor's rules (./advise):
// ADVISE finds what a statement reads and the indexes its plan uses now; ADVISOR(statement |
// [statements]) gathers the advice of many statements by index; ADVISOR({action: ...}) manages
// advisor sessions (./advisor-sessions). The statement runner hands in how to plan a statement,
// so this module needs nothing of it.
import type * as A from './ast';
import { QueryError, ErrorCode } from './errors';
import { compile } from './expr';
import { catalogFor } from './indexes';
import { parseQueryContext, resolveBucket, type Env } from './keyspace';
import { parse } from './parser';
import { flavorValues } from './infer';
import { EMPTY_ROW, rootScope } from './select';
import type { ExecContext } from './row';
import { adviseIndexes, unsupportedAdvise, type AdviceQuery, type AdviceTerm, type CurrentIndex } from './advise';
import { runSessionAction, sessionsFor, type SessionHost } from './advisor-sessions';
import { isObject, type ObjectValue, type Value } from './value';

/** What the advisor needs of the statement runner: the environment and how to plan a statement. */
export interface AdvisorHost {
  env: Env;
  ctx: ExecContext;
  /** The statement's plan; throws the planner's QueryError (4000 when no index serves it). */
  plan(stmt: A.Statement): unknown;
}

/** Whether an expression calls an aggregate (the statement groups). */
function aggregates(e: unknown): boolean {
  if (Array.isArray(e)) return e.some(aggregates);
  if (typeof e !== 'object' || e === null) return false;
  const o = e as Record<string, unknown>;
  if (o.kind === 'subquery' || o.kind === 'lit') return false;
  if (o.kind === 'call' && typeof o.aggIndex === 'number') return true;
  for (const k in o) if (aggregates(o[k])) return true;
  return false;
}

/** What a SELECT reads, as the advisor looks at it (undefined: no keyspace to advise on). */
function selectQuery(inner: A.SelectStatement): AdviceQuery | A.SelectStatement | undefined {
  if (inner.body.kind !== 'block' || !inner.body.from) return undefined;
  const block = inner.body;
  const from = block.from!;
  // FROM (subquery): the subquery's keyspaces are the ones to index.
  if (from.source.kind === 'subquery' && from.joins.length === 0) return from.source.query;
  if (from.source.kind !== 'keyspace' || from.source.ks.namespace === 'system') return undefined;
  const terms: AdviceTerm[] = [{ ks: from.source.ks, alias: from.source.alias, whole: false }];
  const unnests: AdviceQuery['unnests'] = [];
  for (const j of from.joins) {
    if (j.kind === 'unnest') unnests.push({ alias: j.alias, expr: j.expr });
    else if (j.right.kind === 'keyspace' && j.right.ks.namespace !== 'system') terms.push({ ks: j.right.ks, alias: j.right.alias, on: j.kind === 'ansi' ? j.on : undefined, whole: false });
  }
  const projection: A.Expr[] = [];
  for (const t of block.terms) {
    const whole = (alias: string): boolean => !t.expr || (t.expr.kind === 'ident' && t.expr.name === alias);
    let wholeTerm = false;
    for (const term of terms) if (whole(term.alias)) term.whole = wholeTerm = true;
    if (!t.expr) continue;
    if (!wholeTerm) projection.push(t.expr);
  }
  const scopeNames = new Set<string>([...inner.with.map((w) => w.name), ...block.letting.map((l) => l.name)]);
  const reads = [...(block.groupBy ?? []), ...(block.having ? [block.having] : []), ...block.letting.map((l) => l.expr), ...(inner.orderBy ?? []).map((o) => o.expr)];
  return {
    terms,
    unnests,
    where: block.where,
    projection,
    reads,
    order: inner.orderBy ?? [],
    groupBy: block.groupBy ?? [],
    limit: inner.limit !== undefined,
    offset: inner.offset !== undefined,
    grouped: block.groupBy !== undefined || aggregates(block.terms) || block.having !== undefined,
    lets: new Map(block.let.map((l) => [l.name, l.expr])),
    scopeNames,
  };
}

/** What an UPDATE, DELETE or MERGE reads, as the advisor looks at it. */
function dmlQuery(inner: A.UpdateStatement | A.DeleteStatement | A.MergeStatement): AdviceQuery | undefined {
  const base = { unnests: [], projection: [], reads: [], order: [], groupBy: [], limit: false, offset: false, grouped: false, lets: new Map(), scopeNames: new Set<string>() };
  if (inner.type === 'merge') {
    const terms: AdviceTerm[] = [];
    if (inner.source.kind === 'keyspace') terms.push({ ks: inner.source.ks, alias: inner.source.alias, whole: true });
    terms.push({ ks: inner.target.ks, alias: inner.target.alias, on: inner.on, whole: true });
    return { ...base, terms };
  }
  if (inner.useKeys) return undefined;
  // DELETE needs only the keys of what it deletes: an index can cover it. UPDATE reads whole documents.
  return { ...base, terms: [{ ks: inner.target.ks, alias: inner.target.alias, whole: inner.type === 'update' }], where: inner.where };
}

// A keyspace's flavors, sampled at most once a few seconds: ADVISOR over a session's thousands of
// statements would otherwise read the same documents for each one.
const FLAVOR_TTL_MS = 5000;
const flavorCache = new WeakMap<object, { at: number; flavors: ReturnType<typeof flavorValues> }>();

function flavorsOf(store: Parameters<typeof flavorValues>[0]): ReturnType<typeof flavorValues> {
  const now = Date.now();
  const had = flavorCache.get(store);
  if (had && now - had.at < FLAVOR_TTL_MS) return had.flavors;
  const flavors = flavorValues(store);
  flavorCache.set(store, { at: now, flavors });
  return flavors;
}

/** ADVISE: what the statement reads of its keyspaces, the indexes its plan uses, then the advice. */
export function runAdvise(stmt: A.AdviseStatement, host: AdvisorHost): ObjectValue {
  let inner: A.Statement = stmt.stmt;
  if (inner.type !== 'select' && inner.type !== 'update' && inner.type !== 'delete' && inner.type !== 'merge') throw unsupportedAdvise();
  let query: AdviceQuery | undefined;
  for (;;) {
    const q: AdviceQuery | A.SelectStatement | undefined = inner.type === 'select' ? selectQuery(inner) : dmlQuery(inner as A.UpdateStatement | A.DeleteStatement | A.MergeStatement);
    if (q && 'type' in q) {
      inner = q;
      continue;
    }
    query = q;
    break;
  }
  // The indexes the statement's plan uses now (none when it has no plan yet: no index at all).
  const current: CurrentIndex[] = [];
  if (query) {
    let plan: unknown;
    try {
      plan = host.plan(inner);
    } catch (err) {
      // No index serves it yet (4000, or 4330 for a join term): advice is what it needs.
      if (!(err instanceof QueryError) || (err.code !== ErrorCode.PLAN && err.code !== 4330)) throw err;
    }
    const qc = host.env.queryContext;
    const catalogs = query.terms.map((t) => {
      const store = resolveBucket(host.env, t.ks);
      // Index statements name the keyspace by its full path: a collection named under a query context gets its bucket and scope.
      if (qc?.scope !== undefined && t.ks.scope === undefined && t.ks.namespace === 'default') t.ks = { namespace: 'default', bucket: qc.bucket, scope: qc.scope, collection: t.ks.bucket };
      t.flavors = flavorsOf(store);
      return { term: t, indexes: catalogFor(store).list() };
    });
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) return x.forEach(walk);
      if (!x || typeof x !== 'object') return;
      const o = x as Record<string, unknown>;
      if ((o['#operator'] === 'IndexScan3' || o['#operator'] === 'PrimaryScan3') && typeof o.index === 'string') {
        for (const c of catalogs) {
          const ix = c.indexes.find((i) => i.name === o.index);
          if (ix && !current.some((x) => x.index === ix)) {
            current.push({ index: ix, term: c.term });
            break;
          }
        }
      }
      Object.values(o).forEach(walk);
    };
    walk(plan);
  }
  const advice = adviseIndexes(query, current);
  return { '#operator': 'Advise', advice: advice as ObjectValue, query: stmt.text };
}

/** Whether any node under `node` calls ADVISOR (literal values are not looked into). */
export function hasAdvisorCall(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasAdvisorCall);
  if (typeof node !== 'object' || node === null) return false;
  const o = node as Record<string, unknown>;
  if (o.kind === 'lit') return false;
  if (o.kind === 'call' && o.name === 'advisor') return true;
  for (const k in o) if (hasAdvisorCall(o[k])) return true;
  return false;
}

/** One statement given to the advisor, with how many times it was given. */
interface Given {
  statement: string;
  queryContext?: string;
  runs: number;
}

/**
 * The statements an ADVISOR argument names: a string, or an array of strings and of
 * `{statement, query_context | queryContext}` objects (what system:completed_requests rows give).
 * ADVISE statements and statements on the system catalogs are left out, as the server does.
 */
function givenStatements(arg: Value): Given[] | undefined {
  const out = new Map<string, Given>();
  const add = (statement: string, queryContext?: string): void => {
    const t = statement.trim().toLowerCase();
    if (t.startsWith('advise') || t.includes('system:')) return;
    const key = queryContext ? `${statement}_${queryContext}` : statement;
    const had = out.get(key);
    if (had) had.runs++;
    else out.set(key, { statement, queryContext: queryContext || undefined, runs: 1 });
  };
  if (typeof arg === 'string') add(arg);
  else if (Array.isArray(arg)) {
    for (const x of arg) {
      if (typeof x === 'string') add(x);
      else if (isObject(x) && typeof x.statement === 'string') {
        const a = typeof x.query_context === 'string' ? x.query_context : '';
        const b = typeof x.queryContext === 'string' ? x.queryContext : '';
        if (a && b && a !== b) return undefined;
        add(x.statement, a || b);
      }
    }
  } else return undefined;
  return [...out.values()];
}

/**
 * ADVISOR(statement | [statements]): ADVISE for each statement, the indexes gathered over all of
 * them with the statements (and how many times each was given) that use or want each one, and the
 * statements the advisor could not take (`errors`). No statement at all gives an empty array.
 */
export function adviseStatements(arg: Value, host: AdvisorHost): Value {
  const given = givenStatements(arg);
  if (!given?.length) return [];
  const groups: Record<string, Map<string, Given[]>> = { current_used_indexes: new Map(), recommended_indexes: new Map(), recommended_covering_indexes: new Map() };
  const errors: ObjectValue[] = [];
  const add = (group: string, index: unknown, g: Given): void => {
    if (typeof index !== 'string') return;
    const m = groups[group];
    if (!m.has(index)) m.set(index, []);
    m.get(index)!.push(g);
  };
  for (const g of given) {
    let info: ObjectValue;
    try {
      const text = g.statement.trim();
      const parsed = parse(/^advise\b/i.test(text) ? text : `advise ${text}`);
      if (parsed.type !== 'advise') throw unsupportedAdvise();
      const qc = g.queryContext ? parseQueryContext(g.queryContext) : undefined;
      const ctxHost = qc ? { ...host, env: { ...host.env, queryContext: qc } } : host;
      info = ((runAdvise(parsed, ctxHost).advice as ObjectValue).adviseinfo ?? {}) as ObjectValue;
    } catch (err) {
      const e: ObjectValue = { error: err instanceof Error ? err.message : String(err), run_count: g.runs, statement: g.statement };
      if (g.queryContext) e.query_context = g.queryContext;
      errors.push(e);
      continue;
    }
    for (const c of (info.current_indexes as ObjectValue[]) ?? []) add('current_used_indexes', c.index_statement, g);
    const rec = info.recommended_indexes;
    if (isObject(rec)) {
      for (const r of (rec.indexes as ObjectValue[]) ?? []) add('recommended_indexes', r.index_statement, g);
      for (const r of (rec.covering_indexes as ObjectValue[]) ?? []) add('recommended_covering_indexes', r.index_statement, g);
    }
  }
  const statement = (g: Given): ObjectValue => (g.queryContext ? { query_context: g.queryContext, run_count: g.runs, statement: g.statement } : { run_count: g.runs, statement: g.statement });
  const out: ObjectValue = {};
  for (const [group, m] of Object.entries(groups)) {
    // The statements of an index, most run first.
    if (m.size) out[group] = [...m].map(([index, gs]) => ({ index, statements: [...gs].sort((a, b) => b.runs - a.runs).map(statement) }));
  }
  if (errors.length) out.errors = errors;
  return out;
}

/** A session's access to the query service: its request log, and the advisor run later with the starter's environment. */
function sessionHost(host: AdvisorHost): SessionHost | undefined {
  const log = host.env.requests;
  if (!log) return undefined;
  const qc = host.env.queryContext;
  // The analysis runs when the session ends, long after this request's deadline.
  const later: AdvisorHost = { ...host, ctx: { ...host.ctx, checkDeadline: () => undefined } };
  return {
    sessions: sessionsFor(log),
    node: host.env.nodeName ?? '127.0.0.1:8091',
    queryContext: qc ? `default:${qc.bucket}${qc.scope !== undefined ? `.${qc.scope}` : ''}` : '',
    analyze: (statements) => adviseStatements(statements, later),
  };
}

/**
 * SELECT ADVISOR(...): ADVISOR only stands in the projection of a SELECT without FROM (3255,
 * 3256). Its argument is statements to advise on now, or a session action.
 */
export function runAdvisor(stmt: A.SelectStatement, host: AdvisorHost): Value {
  const block = stmt.body.kind === 'block' ? stmt.body : undefined;
  const inTerms = block !== undefined && block.terms.some((t) => hasAdvisorCall(t.expr));
  const elsewhere = block === undefined || hasAdvisorCall({ ...block, terms: [] }) || hasAdvisorCall({ ...stmt, body: null });
  if (!inTerms || elsewhere) throw new QueryError(3255, 'Advisor function is only allowed in projection clause.');
  if (block!.from) throw new QueryError(3256, 'FROM clause is not allowed when Advisor function is present in projection clause.');
  const scope = rootScope(host.env);
  const advisor = (arg: Value): Value => {
    if (arg === undefined) return undefined;
    if (isObject(arg)) {
      // Sessions see every user's statements and live in system:tasks_cache: the system catalogs' privilege.
      if (!(host.env.holdsCluster?.(['n1ql', 'meta'], 'read') ?? true)) {
        throw new QueryError(ErrorCode.INSUFFICIENT_CREDENTIALS, 'User does not have credentials to run queries accessing the system tables. Add role query_system_catalog to allow the query to run.');
      }
      try {
        return runSessionAction(arg, sessionHost(host));
      } catch (err) {
        if (err instanceof QueryError) throw err;
        throw new QueryError(ErrorCode.EVALUATION, `Error evaluating projection - cause: ${(err as Error).message}`);
      }
    }
    return adviseStatements(arg, host);
  };
  const terms = block!.terms.map((t, i) => {
    const e = t.expr!;
    const name = t.alias ?? `$${i + 1}`;
    const fn = e.kind === 'call' && e.name === 'advisor' && e.args.length === 1 ? (): Value => advisor(compile(e.args[0], scope)(EMPTY_ROW, host.ctx)) : (): Value => compile(e, scope)(EMPTY_ROW, host.ctx);
    return { name, fn };
  });
  return block!.raw ? terms[0].fn() : (Object.fromEntries(terms.map((t) => [t.name, t.fn()])) as ObjectValue);
}
