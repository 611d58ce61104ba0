// Runs one parsed statement: SELECT through the select compiler, DML through BucketStore writes
// (the same CAS/seqno/lock rules as KV), DDL against the bucket's index catalog, and
// EXPLAIN / PREPARE / EXECUTE around them.
import { randomUUID } from 'node:crypto';
import type * as A from './ast';
import type { BucketStore, StoredDoc } from '../service-types';
import { QueryError, ErrorCode, nearText } from './errors';
import { childScope, compile, type Compiled, type ExecContext, type Row, type Scope } from './expr';
import { formatExpr, freeIdents, materialize } from './format';
import { jsonText } from './json';
import { bindKeyspaceParams } from './keyspace-params';
import { catalogFor, Index } from './indexes';
import { chooseAccess } from './access';
import { conjuncts, fetchDoc, resolveBucket, type Env } from './keyspace';
import { parse, defaultAlias } from './parser';
import { runCollectionDdl } from './collections';
import { createLayout, runAlterIndex } from './alter-index';
import { runGrant } from './grants';
import { runTransactionStatement, type Transaction, type TransactionTable } from './transactions';
import { DELETABLE_CATALOGS, deleteFromRequests } from './system-delete';
import { runTransactionKv, TRANSACTION_KV } from './transaction-kv';
import { attempt, PAUSE, RETRY, type Pause, type Retry } from './pause';
import type { PreparedCache, Prepared } from './prepared';
import { bindAlias, compileFrom, compileSelect, EMPTY_ROW, invoker, rootScope, rowOf } from './select';
import { alterSequence, createSequence, dropSequence, MAX_INT64, MIN_INT64, SequenceErrors, sequencePath, sequenceText, type SequenceOptions } from './sequences';
import { definitionOf, dropFunction, findFunction, FunctionErrors, mayUseFunction, qualifiedName, resolveName, saveFunction } from './udf';
import { updateStatistics } from './statistics';
import { runInfer } from './infer';
import { hasAdvisorCall, runAdvise, runAdvisor, type AdvisorHost } from './advisor';
import { clone, getField, isObject, setField, sortedObject, truthy, type ObjectValue, type Value } from './value';

export interface RunOptions {
  env: Env;
  ctx: ExecContext;
  readonly: boolean;
  prepareds: PreparedCache;
  /** Who runs the statement: prepared statements are kept per user. */
  user: string;
  /** The query service's transactions, the request's transaction (txid) and its parameters (./transactions.ts). */
  transactions?: { table: TransactionTable; tx?: Transaction; params: Record<string, unknown> };
}

export interface StatementResult {
  signature?: Value;
  /** Result values, with PAUSE markers where the driver may give the event loop a turn. */
  rows: Iterable<Value | Pause>;
  /** Mutations committed so far; final once `rows` is exhausted. */
  mutationCount(): number;
  /** Per-document DML failures (the statement goes on); final once `rows` is exhausted. */
  errors: QueryError[];
  /** The plan that runs (for profile=timings). */
  plan?(): Record<string, unknown>;
}

const DML_PREFIX = 'DML Error, possible causes include concurrent modification.';

function dmlError(op: string, key: string, err: unknown): QueryError {
  const status = (err as { status?: number }).status;
  let cause: string;
  let code: number;
  switch (status) {
    case 0x02:
      cause = op === 'INSERT' ? `Duplicate Key: ${key}` : 'CAS mismatch';
      code = op === 'INSERT' ? 17012 : 12033;
      break;
    case 0x01:
      cause = `Key not found: ${key}`;
      code = 17014;
      break;
    case 0x09:
      cause = 'Document is locked';
      code = 12033;
      break;
    default:
      cause = (err as Error).message;
      code = 12009;
  }
  return new QueryError(ErrorCode.DML, `${DML_PREFIX} Failed to perform ${op} on key ${key} - cause: ${cause}`, {
    caller: 'couchbase:0',
    code,
    key: 'datastore.couchbase.DML_error',
    message: cause,
  });
}

/** SDK "common flags" for JSON: what documents written by N1QL carry, so SDKs decode them as JSON. */
const JSON_FLAGS = 0x02000000;

function toBuffer(v: Value): Buffer {
  return Buffer.from(jsonText(v) ?? 'null');
}

export function runStatement(statement: A.Statement, opts: RunOptions): StatementResult {
  // A prepared statement's FROM $ks is bound each time it is executed.
  const stmt = statement.type === 'prepare' ? statement : bindKeyspaceParams(statement, opts.ctx);
  switch (stmt.type) {
    case 'select': {
      if (callsAdvisor(stmt)) return { signature: 'json', rows: [runAdvisor(stmt, advisorHost(opts))], mutationCount: () => 0, errors: [] };
      const q = compileSelect(stmt, rootScope(opts.env), opts.env);
      return { signature: q.signature, rows: q.run(EMPTY_ROW, opts.ctx), mutationCount: () => 0, errors: [], plan: () => materialize(q.explain) };
    }
    case 'explain':
      return explain(stmt, opts);
    case 'prepare':
      return prepare(stmt, opts);
    case 'execute': {
      const nameV = compile(stmt.name, rootScope(opts.env))(EMPTY_ROW, opts.ctx);
      // An SDK transaction's key-value operations, once it runs through the query service (./transaction-kv.ts).
      if (typeof nameV === 'string' && TRANSACTION_KV.has(nameV) && opts.transactions?.tx) {
        const rows = runTransactionKv(nameV, opts.ctx.positional, opts.transactions.params.txdata, opts.env);
        return { rows, mutationCount: () => (nameV === '__get' ? 0 : 1), errors: [], signature: 'json' };
      }
      const p = typeof nameV === 'string' ? opts.prepareds.get(opts.user, nameV) : undefined;
      if (!p) throw new QueryError(ErrorCode.NO_SUCH_PREPARED, `No such prepared statement: ${String(nameV)}`);
      p.uses = (p.uses ?? 0) + 1;
      let ctx = opts.ctx;
      if (stmt.using) {
        const u = compile(stmt.using, rootScope(opts.env))(EMPTY_ROW, opts.ctx);
        if (Array.isArray(u)) ctx = { ...ctx, positional: u };
        else if (isObject(u)) ctx = { ...ctx, named: Object.fromEntries(Object.entries(u).map(([k, v]) => [k.replace(/^\$/, ''), v])) };
      }
      return runStatement(p.stmt, { ...opts, ctx });
    }
    case 'createIndex':
    case 'dropIndex':
    case 'buildIndex':
      if (opts.readonly) throw readonlyError();
      ddl(stmt, opts.env, opts.ctx);
      return { rows: [], mutationCount: () => 0, errors: [] };
    case 'collectionDdl':
      if (opts.readonly) throw readonlyError();
      runCollectionDdl(stmt, opts.env.collections, opts.env.queryContext);
      return { rows: [], mutationCount: () => 0, errors: [] };
    case 'createFunction':
    case 'dropFunction':
      if (opts.readonly) throw readonlyError();
      functionDdl(stmt, opts.env);
      return { rows: [], mutationCount: () => 0, errors: [] };
    case 'executeFunction':
      return executeFunction(stmt, opts);
    case 'alterIndex':
      if (opts.readonly) throw readonlyError();
      runAlterIndex(stmt, opts.env, opts.ctx);
      return { rows: [], mutationCount: () => 0, errors: [] };
    case 'grant':
    case 'revoke':
      if (opts.readonly) throw readonlyError();
      runGrant(stmt, opts.env, opts.ctx);
      return { rows: [], mutationCount: () => 0, errors: [] };
    case 'transaction': {
      const t = opts.transactions;
      const rows = runTransactionStatement(stmt, t?.table, t?.tx, t?.params ?? {}, opts.env);
      return { rows, mutationCount: () => 0, errors: [], signature: rows.length ? { txid: 'json' } : undefined };
    }
    case 'createSequence':
    case 'alterSequence':
    case 'dropSequence':
      if (opts.readonly) throw readonlyError();
      sequenceDdl(stmt, opts);
      return { rows: [], mutationCount: () => 0, errors: [] };
    case 'updateStatistics':
      if (opts.readonly) throw readonlyError();
      runUpdateStatistics(stmt, opts);
      return { rows: [], mutationCount: () => 0, errors: [] };
    case 'advise':
      return { signature: 'json', rows: [runAdvise(stmt, advisorHost(opts))], mutationCount: () => 0, errors: [] };
    case 'infer':
      return { signature: 'json', rows: [runInfer(stmt, opts.env, opts.ctx)], mutationCount: () => 0, errors: [] };
    default:
      if (opts.readonly) throw readonlyError();
      return runDml(stmt, opts);
  }
}

/** UPDATE STATISTICS: the keyspace as index DDL resolves it (the same privilege), options and index names evaluated here. */
function runUpdateStatistics(stmt: A.UpdateStatisticsStatement, opts: RunOptions): void {
  const ks = stmt.ks;
  const collection = ks.scope !== undefined || (opts.env.queryContext?.scope !== undefined && ks.namespace === 'default');
  if (stmt.indexes === 'all' && !collection) throw new QueryError(3271, 'INDEX ALL option for UPDATE STATISTICS (ANALYZE) can only be used for a collection.');
  const store = resolveBucket(opts.env, ks, 'INDEX');
  const scope = rootScope(opts.env);
  const options = stmt.with ? compile(stmt.with, scope)(EMPTY_ROW, opts.ctx) : undefined;
  const names = (): Value => (stmt.indexes && stmt.indexes !== 'all' ? stmt.indexes.names.map((n) => compile(n, scope)(EMPTY_ROW, opts.ctx)) : []);
  updateStatistics(stmt, store, options, opts.ctx, names);
}

/** What the advisor (./advisor) needs of this runner: the environment and how to plan a statement. */
function advisorHost(opts: RunOptions): AdvisorHost {
  return { env: opts.env, ctx: opts.ctx, plan: (stmt) => planOf(stmt, opts) };
}

// Statements are immutable once parsed (and run again when prepared): looked at once each.
const advisorStatements = new WeakMap<A.SelectStatement, boolean>();

function callsAdvisor(stmt: A.SelectStatement): boolean {
  let v = advisorStatements.get(stmt);
  if (v === undefined) advisorStatements.set(stmt, (v = hasAdvisorCall(stmt)));
  return v;
}

function readonlyError(): QueryError {
  return new QueryError(ErrorCode.READONLY, 'The server or request is read-only and cannot accept this write statement.');
}

// ---- EXPLAIN / PREPARE ----

/** The statement's plan; planning resolves every keyspace with the caller's privileges (12003 / 13014). */
function planOf(stmt: A.Statement, opts: RunOptions): Record<string, unknown> {
  return materialize(planTree(stmt, opts));
}

function planTree(stmt: A.Statement, opts: RunOptions): Record<string, unknown> {
  if (stmt.type === 'select') return compileSelect(stmt, rootScope(opts.env), opts.env).explain;
  if (stmt.type === 'explain') return planTree(stmt.stmt, opts);
  if (stmt.type === 'insert' || stmt.type === 'merge') {
    resolveBucket(opts.env, stmt.target.ks, stmt.type === 'merge' ? 'MERGE' : stmt.upsert ? 'UPSERT' : 'INSERT');
    if (stmt.type === 'insert' && stmt.select) compileSelect(stmt.select.query, rootScope(opts.env), opts.env);
    if (stmt.type === 'merge' && stmt.source.kind === 'keyspace') resolveBucket(opts.env, stmt.source.ks);
    if (stmt.type === 'merge' && stmt.source.kind === 'subquery') compileSelect(stmt.source.query, rootScope(opts.env), opts.env);
  }
  if (stmt.type === 'createIndex' || stmt.type === 'dropIndex' || stmt.type === 'buildIndex') resolveBucket(opts.env, stmt.target, 'INDEX');
  if (stmt.type === 'update' || stmt.type === 'delete') {
    const store = resolveBucket(opts.env, stmt.target.ks, stmt.type.toUpperCase());
    const scope = dmlScope(stmt.target, opts.env);
    const access = chooseAccess(stmt.target.ks, store, stmt.target.alias, true, stmt.useKeys, conjuncts(stmt.where), scope, new Set());
    return { '#operator': 'Sequence', '~children': [access.explain, { '#operator': 'Fetch' }, ...(stmt.where ? [{ '#operator': 'Filter', condition: formatExpr(stmt.where) }] : []), { '#operator': stmt.type === 'update' ? 'SendUpdate' : 'SendDelete' }] };
  }
  return { '#operator': 'Sequence', '~children': [{ '#operator': stmt.type }] };
}

function explain(stmt: A.ExplainStatement, opts: RunOptions): StatementResult {
  const plan = planOf(stmt.stmt, opts);
  return { signature: 'json', rows: [{ plan, text: stmt.text } as ObjectValue], mutationCount: () => 0, errors: [] };
}

/** Names the server keeps for its own prepared statements (the error reference's 4092). */
const PREDEFINED_PREPAREDS = new Set(['__get', '__insert', '__upsert', '__update', '__delete']);

function prepare(stmt: A.PrepareStatement, opts: RunOptions): StatementResult {
  // Planning now reports missing keyspaces/indexes at PREPARE time, as Couchbase does.
  const plan = planOf(stmt.stmt, opts);
  const name = stmt.name ?? randomUUID();
  if (PREDEFINED_PREPAREDS.has(name)) throw new QueryError(4092, `Prepared name ${name} is predefined (reserved).`);
  const existing = opts.prepareds.get(opts.user, name);
  if (existing && !stmt.force && existing.text !== stmt.text) {
    throw new QueryError(4060, `Unable to add name: duplicate name: ${name}`);
  }
  opts.prepareds.set(opts.user, { name, text: stmt.text, stmt: stmt.stmt });
  const row: ObjectValue = {
    encoded_plan: Buffer.from(JSON.stringify({ name, text: stmt.text })).toString('base64'),
    name,
    operator: plan as Value,
    signature: stmt.stmt.type === 'select' ? compileSelect(stmt.stmt, rootScope(opts.env), opts.env).signature : null,
    text: `PREPARE ${stmt.text}`,
  };
  return { signature: 'json', rows: [row], mutationCount: () => 0, errors: [] };
}

/** Restores a prepared statement from an `encoded_plan` a client sent back. */
export function decodePlan(encoded: string): Prepared | undefined {
  try {
    const { name, text } = JSON.parse(Buffer.from(encoded, 'base64').toString()) as { name: unknown; text: unknown };
    if (typeof name !== 'string' || typeof text !== 'string') return undefined;
    return { name, text, stmt: parse(text) };
  } catch {
    return undefined;
  }
}

/**
 * Plans a statement that arrived as an `encoded_plan` with its sender's privileges before it is
 * kept: a plan over a keyspace the sender may not use is refused (13014) and never stored.
 */
export function admitPlan(p: Prepared, opts: RunOptions): void {
  planOf(p.stmt, opts);
  opts.prepareds.set(opts.user, p);
}

// ---- DDL ----

function ddl(stmt: A.CreateIndexStatement | A.DropIndexStatement | A.BuildIndexStatement, env: Env, ctx: ExecContext): void {
  if (stmt.target.namespace === 'system') throw new QueryError(ErrorCode.SEMANTIC, `Indexes cannot be managed on system keyspaces.`);
  const store = resolveBucket(env, stmt.target, 'INDEX');
  const catalog = catalogFor(store);
  if (stmt.type === 'createIndex') {
    const existing = catalog.get(stmt.name);
    if (existing) {
      if (stmt.ifNotExists) return;
      throw new QueryError(ErrorCode.INDEX_EXISTS, `The index ${stmt.name} already exists.`);
    }
    checkIndexKeys(stmt.keys);
    let deferred = false;
    let w: ObjectValue | undefined;
    if (stmt.with) {
      const v = compile(stmt.with, rootScope(env))(EMPTY_ROW, ctx);
      if (!isObject(v)) throw new QueryError(ErrorCode.EXECUTION, 'WITH clause of CREATE INDEX must be an object.');
      w = v;
      deferred = w.defer_build === true;
    }
    catalog.add(new Index(stmt.name, store.name, stmt.primary, stmt.keys, stmt.where, deferred, undefined, createLayout(stmt, w, env)));
    return;
  }
  if (stmt.type === 'dropIndex') {
    // DROP PRIMARY INDEX without a name drops the one named #primary, never another primary index.
    const name = stmt.name ?? (stmt.primary ? '#primary' : undefined);
    if (!name || !catalog.get(name)) {
      if (stmt.ifExists) return;
      throw new QueryError(ErrorCode.INDEX_NOT_FOUND, `Index Not Found - cause: GSI index ${name ?? '#primary'} not found.`);
    }
    catalog.drop(name);
    return;
  }
  const names: string[] = [];
  for (const n of stmt.names) {
    const v = compile(n, rootScope(env))(EMPTY_ROW, ctx);
    if (typeof v === 'string') names.push(v);
    else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') names.push(x);
  }
  for (const n of names) if (!catalog.get(n)) throw new QueryError(ErrorCode.INDEX_NOT_FOUND, `Index Not Found - cause: GSI index ${n} not found.`);
  catalog.build(names.map((n) => catalog.get(n)!));
}

/** The semantic checks on index keys: a key must read the document (3280); INCLUDE MISSING only on the leading key (3281). */
function checkIndexKeys(keys: A.IndexKey[]): void {
  keys.forEach((k, i) => {
    if (freeIdents(k.expr).size === 0) throw new QueryError(3280, `${formatExpr(k.expr)} is not indexable`);
    if (i > 0 && k.includeMissing) throw new QueryError(3281, `${formatExpr(k.expr)} MISSING attribute not allowed (Only allowed with gsi leading key).`);
  });
}

// ---- user-defined functions ----

function functionDdl(stmt: A.CreateFunctionStatement | A.DropFunctionStatement, env: Env): void {
  const where = resolveName(env, stmt.name);
  if (stmt.type === 'dropFunction') {
    const def = findFunction(env, where);
    // A function that is not there is dropped with the privileges of either language.
    mayUseFunction(env, { ...where, language: def?.language ?? 'inline' }, 'manage');
    if (!def) {
      if (!stmt.ifExists) throw FunctionErrors.missing(qualifiedName(where));
      return;
    }
    dropFunction(env, where);
    return;
  }
  const def = definitionOf(stmt, where);
  mayUseFunction(env, def, 'manage');
  saveFunction(env, def, stmt);
}

function executeFunction(stmt: A.ExecuteFunctionStatement, opts: RunOptions): StatementResult {
  const where = resolveName(opts.env, stmt.name);
  const def = findFunction(opts.env, where);
  if (!def) throw FunctionErrors.missing(qualifiedName(where));
  const call = invoker(def, stmt.args.length, opts.env);
  const scope = rootScope(opts.env);
  const args = stmt.args.map((a) => compile(a, scope));
  const run = (_: unknown, ctx: ExecContext): Value => call(args.map((a) => a(EMPTY_ROW, ctx)), ctx);
  return {
    signature: 'json',
    rows: (function* () {
      let v: Value | Retry;
      // A JavaScript function that does not answer at once suspends the statement (./pause.ts).
      while ((v = attempt(run, undefined, opts.ctx)) === RETRY) yield PAUSE;
      if (v !== undefined) yield v;
    })(),
    mutationCount: () => 0,
    errors: [],
  };
}

// ---- sequences ----

const SEQUENCE_WITH_KEYS = { create: ['start', 'increment', 'max', 'min', 'cycle', 'cache'], alter: ['restart', 'increment', 'max', 'min', 'cycle', 'cache'] };

/** A WITH object's sequence options (integers as int64), or the error naming what is wrong. */
function sequenceWith(v: Value, verb: 'create' | 'alter'): SequenceOptions {
  if (!isObject(v)) throw new QueryError(ErrorCode.EXECUTION, 'Sequence options must be an object');
  const out: SequenceOptions = {};
  const int = (k: string, x: Value): bigint => {
    if (typeof x === 'bigint') return x;
    if (typeof x === 'number' && Number.isInteger(x)) return BigInt(x);
    throw new QueryError(ErrorCode.EXECUTION, `Invalid value for option '${k}': ${jsonText(x ?? null)}`);
  };
  for (const [k, x] of Object.entries(v)) {
    if (!SEQUENCE_WITH_KEYS[verb].includes(k)) throw new QueryError(ErrorCode.EXECUTION, `Invalid option '${k}'`);
    if (k === 'cycle') {
      if (typeof x !== 'boolean') throw new QueryError(ErrorCode.EXECUTION, `Invalid value for option 'cycle': ${jsonText(x ?? null)}`);
      out.cycle = x;
    } else if (k === 'restart') out.restart = x === true ? true : int(k, x);
    else if (k === 'cache') out.cache = Number(int(k, x));
    else out[k as 'start' | 'increment' | 'max' | 'min'] = int(k, x);
  }
  return out;
}

function sequenceDdl(stmt: A.CreateSequenceStatement | A.AlterSequenceStatement | A.DropSequenceStatement, opts: RunOptions): void {
  const { env } = opts;
  const p = sequencePath(stmt.name, env.queryContext);
  const store = env.bucket(p.bucket);
  if (!store) throw new QueryError(ErrorCode.KEYSPACE_NOT_FOUND, `Keyspace not found in CB datastore: default:${p.bucket} - cause: No bucket named ${p.bucket}`);
  const denied = env.sequenceDenied(p.bucket, p.scope, 'manage');
  if (denied !== undefined) throw new QueryError(ErrorCode.INSUFFICIENT_CREDENTIALS, denied);
  if (stmt.type === 'dropSequence') return dropSequence(store, p, stmt.ifExists);
  const verb = stmt.type === 'createSequence' ? 'create' : 'alter';
  let o: SequenceOptions;
  if (stmt.with) {
    try {
      o = sequenceWith(compile(stmt.with, rootScope(env))(EMPTY_ROW, opts.ctx), verb);
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      throw (verb === 'create' ? SequenceErrors.create : SequenceErrors.alter)(sequenceText(p), err);
    }
  } else {
    const c = stmt.clauses;
    o = { start: c.start, increment: c.increment, cycle: c.cycle, restart: c.restart };
    if (c.min !== undefined) o.min = c.min ?? MIN_INT64;
    if (c.max !== undefined) o.max = c.max ?? MAX_INT64;
    if (c.cache !== undefined) o.cache = c.cache ?? 1;
  }
  if (stmt.type === 'createSequence') createSequence(store, p, o, stmt.ifNotExists);
  else alterSequence(store, p, o);
}

// ---- DML ----

function dmlScope(target: A.KeyspaceTarget, env: Env, extra: string[] = []): Scope {
  const s = childScope(rootScope(env), [target.alias, ...extra]);
  s.implicit = target.alias;
  s.clause = 'DML';
  return s;
}

type Projector = (row: Row, ctx: ExecContext) => Value;

function compileReturning(r: A.ReturningClause | undefined, scope: Scope, aliases: string[]): Projector | undefined {
  if (!r) return undefined;
  if (r.raw) {
    const f = compile(r.terms[0].expr!, scope);
    return f;
  }
  let n = 1;
  const names = new Set<string>();
  const parts = r.terms.map((t) => {
    if (t.star && !t.expr) return { kind: 'star' as const };
    if (t.star) return { kind: 'dot' as const, fn: compile(t.expr!, scope) };
    const name = t.alias ?? defaultAlias(t.expr!) ?? `$${n++}`;
    // RETURNING is a projection too: one name, one term.
    if (names.has(name)) throw new QueryError(ErrorCode.DUPLICATE_ALIAS, `Duplicate result alias '${name}'${nearText(t.at)}.`);
    names.add(name);
    return { kind: 'named' as const, name, fn: compile(t.expr!, scope) };
  });
  return (row, ctx) => {
    const entries: [string, Value][] = [];
    for (const p of parts) {
      if (p.kind === 'star') for (const a of aliases) entries.push([a, row.vars[a]]);
      else if (p.kind === 'dot') {
        const v = p.fn(row, ctx);
        if (isObject(v)) entries.push(...Object.entries(v));
      } else entries.push([p.name, p.fn(row, ctx)]);
    }
    return sortedObject(entries);
  };
}

function limitOf(e: A.Expr | undefined, scope: Scope, ctx: ExecContext): number {
  if (!e) return Infinity;
  const v = compile(e, scope)(EMPTY_ROW, ctx);
  if (typeof v !== 'number' || v < 0) throw new QueryError(ErrorCode.EXECUTION, `Invalid LIMIT value ${JSON.stringify(v ?? null)}.`);
  return Math.trunc(v);
}

type Step = string | number;

/** The path an assignment target names, relative to the document or to a FOR variable. */
function pathOf(e: A.Expr, alias: string, forVars: Set<string>, row: Row, ctx: ExecContext, scope: Scope): { root: string | null; steps: Step[] } | undefined {
  if (e.kind === 'ident') {
    if (e.name === alias) return { root: null, steps: [] };
    if (forVars.has(e.name)) return { root: e.name, steps: [] };
    return { root: null, steps: [e.name] };
  }
  if (e.kind === 'field') {
    const p = pathOf(e.target, alias, forVars, row, ctx, scope);
    if (p) p.steps.push(e.name);
    return p;
  }
  if (e.kind === 'index') {
    const p = pathOf(e.target, alias, forVars, row, ctx, scope);
    const i = compile(e.index, scope)(row, ctx);
    if (!p || (typeof i !== 'number' && typeof i !== 'string')) return undefined;
    p.steps.push(i);
    return p;
  }
  return undefined;
}

/** Sets or removes the value at `steps` inside `target` (a private copy); own fields only, at every step. */
function assign(target: Value, steps: Step[], value: Value, unset: boolean): void {
  let cur: Value = target;
  for (let i = 0; i < steps.length - 1; i++) {
    const s = steps[i];
    if (typeof s === 'number') cur = Array.isArray(cur) ? cur[s < 0 ? cur.length + s : s] : undefined;
    else cur = isObject(cur) ? getField(cur, s) : undefined;
    if (cur === undefined) return;
  }
  const last = steps[steps.length - 1];
  if (typeof last === 'number') {
    if (!Array.isArray(cur)) return;
    const k = last < 0 ? cur.length + last : last;
    if (k < 0 || k >= cur.length) return;
    if (unset) cur.splice(k, 1);
    else cur[k] = value === undefined ? null : value;
  } else if (isObject(cur)) {
    if (unset || value === undefined) {
      if (Object.hasOwn(cur, last)) delete cur[last];
    } else setField(cur, last, value);
  }
}

interface CompiledSet {
  path: A.Expr;
  value?: Compiled;
  unset: boolean;
  forBindings?: { name: string; pos?: string; src: A.Expr }[];
  when?: Compiled;
}

function compileSets(set: A.SetItem[], unset: A.UnsetItem[], scope: Scope): CompiledSet[] {
  const out: CompiledSet[] = [];
  const one = (path: A.Expr, value: A.Expr | undefined, fb: A.ForBinding[] | undefined, when: A.Expr | undefined, isUnset: boolean): void => {
    const names = (fb ?? []).flatMap((b) => (b.pos ? [b.name, b.pos] : [b.name]));
    const inner = childScope(scope, names);
    out.push({
      path,
      unset: isUnset,
      value: value ? compile(value, inner) : undefined,
      forBindings: fb?.map((b) => ({ name: b.name, pos: b.pos, src: b.expr })),
      when: when ? compile(when, inner) : undefined,
    });
  };
  for (const s of set) one(s.path, s.value, s.for, s.when, false);
  for (const u of unset) one(u.path, undefined, u.for, u.when, true);
  return out;
}

/** Applies SET/UNSET to a copy of the document; `row` binds the alias to the original. */
function applySets(sets: CompiledSet[], alias: string, doc: Value, row: Row, ctx: ExecContext, scope: Scope): Value {
  let next = clone(doc);
  for (const s of sets) {
    if (!s.forBindings) {
      const p = pathOf(s.path, alias, new Set(), row, ctx, scope);
      if (!p) continue;
      if (p.steps.length === 0) {
        // SET alias = v: v becomes the whole document (the server sets the alias's field of the row it writes back).
        const v = s.unset || p.root !== null ? undefined : s.value!(row, ctx);
        if (v !== undefined) next = clone(v);
        continue;
      }
      assign(next, p.steps, s.unset ? undefined : s.value!(row, ctx), s.unset);
      continue;
    }
    // SET x.f = v FOR x IN arr WHEN cond END: the array is read from the new document so the
    // element objects changed are the new document's own.
    const b = s.forBindings[0];
    const vars = new Set([b.name]);
    const srcPath = pathOf(b.src, alias, new Set(), row, ctx, scope);
    if (!srcPath) continue;
    let arr: Value = next;
    for (const st of srcPath.steps) arr = typeof st === 'number' ? (Array.isArray(arr) ? arr[st] : undefined) : isObject(arr) ? getField(arr, st) : undefined;
    if (!Array.isArray(arr)) continue;
    for (let i = 0; i < arr.length; i++) {
      const r: Row = { vars: Object.create(row.vars), metas: row.metas };
      setField(r.vars, b.name, arr[i]);
      if (b.pos) setField(r.vars, b.pos, i);
      if (s.when && !truthy(s.when(r, ctx))) continue;
      const p = pathOf(s.path, alias, vars, r, ctx, scope);
      if (!p) continue;
      const v = s.unset ? undefined : s.value!(r, ctx);
      if (p.root === b.name) {
        if (p.steps.length === 0) arr[i] = v === undefined ? null : v;
        else assign(arr[i], p.steps, v, s.unset);
      } else if (p.steps.length) assign(next, p.steps, v, s.unset);
    }
  }
  return next;
}

function* targetRows(store: BucketStore, target: A.KeyspaceTarget, useKeys: A.Expr | undefined, where: A.Expr | undefined, scope: Scope, ctx: ExecContext): Generator<{ doc: StoredDoc; value: Value } | Pause> {
  const access = chooseAccess(target.ks, store, target.alias, true, useKeys, conjuncts(where), scope, new Set());
  const whereFn = where ? compile(where, scope) : undefined;
  const matches = (f: { doc: StoredDoc; value: Value }, c: ExecContext): boolean => truthy(whereFn!(rowOf(target.alias, f.value, f.doc), c));
  // Materialise the ids first, so documents changed by this statement are not seen again.
  const ids = [...access.ids(EMPTY_ROW, ctx)];
  for (const id of ids) {
    const f = fetchDoc(store, id);
    if (!f) continue;
    if (whereFn) {
      let keep: boolean | Retry;
      while ((keep = attempt(matches, f, ctx)) === RETRY) yield PAUSE;
      if (!keep) continue;
    }
    yield f;
  }
}

/** RETURNING's value for a written row (evaluated again when a JavaScript call suspends it). */
function* returning(ret: Projector, row: Row, ctx: ExecContext): Generator<Value | Pause> {
  let v: Value | Retry;
  while ((v = attempt(ret, row, ctx)) === RETRY) yield PAUSE;
  yield v;
}

function runDml(stmt: A.InsertStatement | A.UpdateStatement | A.DeleteStatement | A.MergeStatement, opts: RunOptions): StatementResult {
  const { env, ctx } = opts;
  const verb = stmt.type === 'insert' ? (stmt.upsert ? 'UPSERT' : 'INSERT') : stmt.type.toUpperCase();
  if (stmt.type === 'delete' && stmt.target.ks.namespace === 'system' && DELETABLE_CATALOGS.has(stmt.target.ks.bucket)) {
    const n = deleteFromRequests(stmt, env, ctx);
    return { rows: [], mutationCount: () => n, errors: [] };
  }
  if (stmt.target.ks.namespace === 'system') throw new QueryError(ErrorCode.SEMANTIC, `${verb} is not supported on system keyspaces.`);
  const store = resolveBucket(env, stmt.target.ks, verb);
  const alias = stmt.target.alias;
  let mutations = 0;
  const errors: QueryError[] = [];
  const result = (rows: Iterable<Value | Pause>): StatementResult => ({ rows, mutationCount: () => mutations, errors, signature: stmt.returning ? 'json' : undefined });

  if (stmt.type === 'insert') {
    const scope = dmlScope(stmt.target, env);
    const ret = compileReturning(stmt.returning, scope, [alias]);
    const mode = stmt.upsert ? 'upsert' : 'insert';
    // The row RETURNING projects, or undefined when nothing was written.
    // UPSERT acts on a key once per statement (INSERT refuses the second write as a duplicate anyway).
    const upserted = stmt.upsert ? new Set<string>() : undefined;
    const write = (key: Value, value: Value, options: Value): Row | undefined => {
      if (typeof key !== 'string') {
        errors.push(key === undefined
          ? new QueryError(stmt.upsert ? 5072 : 5050, `No ${verb} key for ${jsonText(value ?? null)}`)
          : new QueryError(stmt.upsert ? 5078 : 5070, `Cannot ${verb} non-string key ${jsonText(key)} of type ${goTypeName(key)}.`));
        return undefined;
      }
      if (upserted) {
        if (upserted.has(key)) {
          errors.push(new QueryError(5073, 'Cannot act on the same key multiple times in an UPSERT statement'));
          return undefined;
        }
        upserted.add(key);
      }
      if (value === undefined) {
        errors.push(new QueryError(stmt.upsert ? 5075 : 5060, `No ${verb} value for ${key}`));
        return undefined;
      }
      if (options !== undefined && options !== null && !isObject(options)) {
        errors.push(new QueryError(stmt.upsert ? 5079 : 5071, `Cannot ${verb} non-OBJECT options ${jsonText(options)} of type ${goTypeName(options)}.`));
        return undefined;
      }
      try {
        const doc = store.write(key, toBuffer(value), mode, { expiry: expirationOf(options), flags: JSON_FLAGS });
        mutations++;
        return rowOf(alias, value, doc);
      } catch (err) {
        errors.push(dmlError(verb, key, err));
        return undefined;
      }
    };
    if (stmt.values) {
      const rows = stmt.values.map((v) => ({ key: compile(v.key, scope), value: v.value ? compile(v.value, scope) : undefined, options: v.options ? compile(v.options, scope) : undefined }));
      type Tuple = (typeof rows)[number];
      // Key, value and options are each a document of their own to NEXT VALUE FOR (the key is not part of the document).
      const own = (): Row => ({ vars: Object.create(null) as Row['vars'], metas: EMPTY_ROW.metas });
      const evaluate = (r: Tuple, c: ExecContext): [Value, Value, Value] => [r.key(own(), c), r.value ? r.value(own(), c) : undefined, r.options?.(own(), c)];
      return result(
        (function* () {
          for (const r of rows) {
            let kv: [Value, Value, Value] | Retry;
            while ((kv = attempt(evaluate, r, ctx)) === RETRY) yield PAUSE;
            const written = write(kv[0], kv[1], kv[2]);
            if (written && ret) yield* returning(ret, written, ctx);
          }
        })(),
      );
    }
    const sel = stmt.select!;
    const q = compileSelect(sel.query, rootScope(env), env);
    const SEL = '\u0000sel';
    const selScope: Scope = { ...childScope(rootScope(env), [SEL]), implicit: SEL };
    const keyFn = compile(sel.key, selScope);
    const valueFn = sel.value ? compile(sel.value, selScope) : undefined;
    const optFn = sel.options ? compile(sel.options, selScope) : undefined;
    return result(
      (function* () {
        const rows: Value[] = [];
        for (const v of q.run(EMPTY_ROW, ctx)) {
          if (v === PAUSE) yield v;
          else rows.push(v);
        }
        const evaluate = (r: Row, c: ExecContext): [Value, Value, Value] => [keyFn(r, c), valueFn ? valueFn(r, c) : r.vars[SEL], optFn?.(r, c)];
        for (const v of rows) {
          let kv: [Value, Value, Value] | Retry;
          while ((kv = attempt(evaluate, rowOf(SEL, v), ctx)) === RETRY) yield PAUSE;
          const written = write(kv[0], kv[1], kv[2]);
          if (written && ret) yield* returning(ret, written, ctx);
        }
      })(),
    );
  }

  if (stmt.type === 'update' || stmt.type === 'delete') {
    const scope = dmlScope(stmt.target, env);
    const ret = compileReturning(stmt.returning, scope, [alias]);
    const limit = limitOf(stmt.limit, scope, ctx);
    const sets = stmt.type === 'update' ? compileSets(stmt.set, stmt.unset, scope) : [];
    const source = targetRows(store, stmt.target, stmt.useKeys, stmt.where, scope, ctx);
    const update = (row: Row, c: ExecContext): Value => applySets(sets, alias, row.vars[alias], row, c, scope);
    return result(
      (function* () {
        let done = 0;
        const pending: { doc: StoredDoc; value: Value }[] = [];
        for (const f of source) {
          if (f === PAUSE) yield f;
          else pending.push(f);
        }
        let n = 0;
        for (const { doc, value } of pending) {
          if (done >= limit) break;
          if (++n % 256 === 0) {
            ctx.checkDeadline();
            if (ctx.pauseDue?.()) yield PAUSE;
          }
          const row: Row = rowOf(alias, value, doc);
          let written: Row;
          try {
            if (stmt.type === 'delete') {
              store.remove(doc.id, { cas: doc.cas });
              written = row;
            } else {
              let next: Value | Retry;
              while ((next = attempt(update, row, ctx)) === RETRY) yield PAUSE;
              written = rowOf(alias, next, store.write(doc.id, toBuffer(next), 'replace', { cas: doc.cas, flags: doc.flags }));
            }
            mutations++;
            done++;
          } catch (err) {
            errors.push(dmlError(verb, doc.id, err));
            continue;
          }
          if (ret) yield* returning(ret, written, ctx);
        }
      })(),
    );
  }

  return runMerge(stmt, store, opts, result, () => void mutations++, errors);
}

/** The checks Couchbase's semantic pass makes on a MERGE before it plans it (3150-3190). */
function checkMerge(m: A.MergeStatement): void {
  const hint = 'hint' in m.source ? m.source.hint : undefined;
  if (m.onKey) {
    if (m.insert?.key) throw new QueryError(3150, 'MERGE with ON KEY clause cannot have document key specification in INSERT action.');
    if (m.target.useIndex) throw new QueryError(3180, 'MERGE with ON KEY clause cannot have USE INDEX hint specified on target.');
    if (hint) throw new QueryError(3190, 'MERGE with ON KEY clause cannot have join hint specified on source.');
  } else if (m.insert && !m.insert.key) {
    throw new QueryError(3160, 'MERGE with ON clause must have document key specification in INSERT action.');
  }
}

type ResultOf = (rows: Iterable<Value | Pause>) => StatementResult;

/**
 * MERGE: each source row is joined with the target (ON KEY: the document with that key; ON:
 * the documents the condition matches), then matched documents are updated or deleted and
 * unmatched rows inserted. A target document may be acted on once per statement (5320 / 5330).
 */
function runMerge(m: A.MergeStatement, store: BucketStore, opts: RunOptions, result: ResultOf, counted: () => void, errors: QueryError[]): StatementResult {
  checkMerge(m);
  const { env, ctx } = opts;
  const alias = m.target.alias;
  const { rows: sourceRows, alias: srcAlias } = mergeSource(m.source, env);
  if (srcAlias === alias) throw new QueryError(ErrorCode.DUPLICATE_ALIAS, `Duplicate MERGE alias ${alias}`);
  // Actions and RETURNING read the target unqualified; ON KEY reads the source.
  const letNames = (m.let ?? []).map((b) => b.name);
  const scope: Scope = { ...childScope(rootScope(env), [alias, srcAlias, ...letNames]), implicit: alias, clause: 'DML' };
  const keyScope: Scope = { ...childScope(rootScope(env), [srcAlias]), implicit: srcAlias };
  const ret = compileReturning(m.returning, scope, [srcAlias, alias]);
  const limit = limitOf(m.limit, scope, ctx);
  const onKey = m.onKey ? compile(m.onKey, keyScope) : undefined;
  const on = m.on ? compile(m.on, childScope(rootScope(env), [alias, srcAlias])) : undefined;
  const sets = m.update ? compileSets(m.update.set, m.update.unset, scope) : [];
  const updWhere = m.update?.where ? compile(m.update.where, scope) : undefined;
  const delWhere = m.delete?.where ? compile(m.delete.where, scope) : undefined;
  // INSERT sees the source row only: the target has no document there.
  const insScope: Scope = { ...childScope(rootScope(env), [srcAlias, ...letNames]), implicit: srcAlias };
  const insWhere = m.insert?.where ? compile(m.insert.where, insScope) : undefined;
  const insKey = m.insert?.key ? compile(m.insert.key, insScope) : undefined;
  const insValue = m.insert ? compile(m.insert.value, insScope) : undefined;
  const insOptions = m.insert?.options ? compile(m.insert.options, insScope) : undefined;
  const targetScan = on
    ? chooseAccess(m.target.ks, store, alias, false, undefined, conjuncts(m.on), childScope(rootScope(env), [alias, srcAlias]), new Set([srcAlias]), { useIndex: m.target.useIndex })
    : undefined;
  // MERGE ... ON ... LET: bound for each joined row, visible to the actions and RETURNING.
  const lets = (m.let ?? []).map((b) => ({ name: b.name, fn: compile(b.expr, scope) }));
  const withLets = (row: Row, c: ExecContext): Row => {
    for (const b of lets) row = bindAlias(row, b.name, b.fn(row, c));
    return row;
  };
  type Found = { doc: StoredDoc; value: Value };
  /** One step of the statement, in source order: a write, or the error the server stops at. */
  type Action =
    | { kind: 'update'; f: Found; row: Row; next: Value }
    | { kind: 'delete'; f: Found; row: Row }
    | { kind: 'insert'; key: Value; value: Value; options: Value }
    | { kind: 'stop'; error: QueryError };
  const multiple = (id: string): QueryError => new QueryError(5320, `Multiple UPDATE/DELETE of the same document (document key '${id}') in a MERGE statement`);
  // What one source row does. Every source row is decided against the target as the statement
  // found it (the server joins the source with the target before any action writes), so a
  // document two source rows match is caught even when the first action changed or removed it.
  const decide = (base: Row, c: ExecContext): Action[] => {
    const found: Found[] = [];
    let key: Value;
    if (onKey) {
      key = onKey(base, c);
      if (typeof key === 'string') {
        const f = fetchDoc(store, key);
        if (f) found.push(f);
      }
    } else {
      for (const id of [...targetScan!.ids(base, c)]) {
        const f = fetchDoc(store, id);
        if (f && truthy(on!(bindAlias(base, alias, f.value, f.doc), c))) found.push(f);
      }
    }
    if (found.length) {
      const out: Action[] = [];
      for (const f of found) {
        const row = withLets(bindAlias(base, alias, f.value, f.doc), c);
        if (m.update && (!updWhere || truthy(updWhere(row, c)))) out.push({ kind: 'update', f, row, next: applySets(sets, alias, f.value, row, c, scope) });
        // Both actions' conditions holding for one document is acting on it twice.
        if (m.delete && (!delWhere || truthy(delWhere(row, c)))) out.push({ kind: 'delete', f, row });
      }
      return out;
    }
    const row = withLets(base, c);
    if (m.insert && (!insWhere || truthy(insWhere(row, c)))) {
      return [{ kind: 'insert', key: insKey ? insKey(row, c) : key, value: insValue!(row, c), options: insOptions?.(row, c) }];
    }
    return [];
  };
  return result(
    (function* () {
      const srcRows: Row[] = [];
      for (const r of sourceRows(EMPTY_ROW, ctx)) {
        if (r === PAUSE) yield r;
        else srcRows.push(r);
      }
      // Decide every source row first, then write in source order up to the first refused action.
      const actions: Action[] = [];
      const acted = new Set<string>();
      const inserted = new Set<string>();
      let n = 0;
      decideAll: for (const base of srcRows) {
        if (++n % 256 === 0) {
          ctx.checkDeadline();
          if (ctx.pauseDue?.()) yield PAUSE;
        }
        let plan: Action[] | Retry;
        while ((plan = attempt(decide, base, ctx)) === RETRY) yield PAUSE;
        for (const a of plan) {
          if (a.kind === 'update' || a.kind === 'delete') {
            if (acted.has(a.f.doc.id)) {
              actions.push({ kind: 'stop', error: multiple(a.f.doc.id) });
              break decideAll;
            }
            acted.add(a.f.doc.id);
          } else if (a.kind === 'insert' && typeof a.key === 'string' && a.value !== undefined) {
            if (inserted.has(a.key)) {
              actions.push({ kind: 'stop', error: new QueryError(5330, `Multiple INSERT of the same document (document key '${a.key}') in a MERGE statement`) });
              break decideAll;
            }
            inserted.add(a.key);
          }
          actions.push(a);
        }
      }
      let done = 0;
      for (const a of actions) {
        if (done >= limit) break;
        if (a.kind === 'stop') throw a.error;
        let written: Row;
        if (a.kind === 'insert') {
          const { key: k, value: v, options } = a;
          if (typeof k !== 'string') {
            errors.push(new QueryError(5070, `Cannot INSERT non-string key ${jsonText(k ?? null)} of type ${goTypeName(k)}.`));
            continue;
          }
          if (v === undefined) {
            errors.push(new QueryError(5060, `No value for INSERT of key ${k}`));
            continue;
          }
          try {
            // The inserted document alone: RETURNING reads no source field for it.
            written = rowOf(alias, v, store.write(k, toBuffer(v), 'insert', { flags: JSON_FLAGS, expiry: expirationOf(options) }));
          } catch (err) {
            // The server's MERGE writes through its INSERT / UPDATE / DELETE operators and words the failure by them.
            errors.push(dmlError('INSERT', k, err));
            continue;
          }
        } else {
          const { f } = a;
          try {
            if (a.kind === 'update') {
              written = bindAlias(a.row, alias, a.next, store.write(f.doc.id, toBuffer(a.next), 'replace', { cas: f.doc.cas, flags: f.doc.flags }));
            } else {
              store.remove(f.doc.id, { cas: f.doc.cas });
              written = a.row;
            }
          } catch (err) {
            errors.push(dmlError(a.kind === 'update' ? 'UPDATE' : 'DELETE', f.doc.id, err));
            continue;
          }
        }
        counted();
        done++;
        if (ret) yield* returning(ret, written, ctx);
      }
    })(),
  );
}

/** The Go type Couchbase names in "Cannot INSERT non-string key 1 of type value.intValue." */
function goTypeName(v: Value): string {
  if (v === null) return '*value.nullValue';
  if (typeof v === 'number') return Number.isInteger(v) ? 'value.intValue' : 'value.floatValue';
  if (typeof v === 'bigint') return 'value.intValue';
  if (typeof v === 'boolean') return 'value.boolValue';
  if (typeof v === 'string') return 'value.stringValue';
  if (Array.isArray(v)) return 'value.sliceValue';
  return 'value.objectValue';
}

/** The `expiration` of a DML OPTIONS object (seconds, as KV takes it); undefined when absent. */
function expirationOf(options: Value): number | undefined {
  if (!isObject(options)) return undefined;
  const e = options.expiration;
  return typeof e === 'number' && Number.isFinite(e) && e >= 0 ? Math.trunc(e) : undefined;
}

/** A MERGE source's rows: the source's alias bound (with its document's META for a keyspace). */
function mergeSource(src: A.FromSource, env: Env): { rows: (outer: Row, ctx: ExecContext) => Iterable<Row | Pause>; alias: string } {
  if (src.alias === '') throw new QueryError(4010, 'MERGE source term must have a name or alias');
  // A join hint on the source (USE HASH / USE NL) chooses how the server joins it with the target; it is no error here.
  const plan = compileFrom({ source: { ...src, hint: undefined }, joins: [] }, rootScope(env), env, []);
  return { rows: plan.plan.source, alias: src.alias };
}
