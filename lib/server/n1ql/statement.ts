// Runs one parsed statement: SELECT through the select compiler, DML through BucketStore writes
// (the same CAS/seqno/lock rules as KV), DDL against the bucket's index catalog, and
// EXPLAIN / PREPARE / EXECUTE around them.
import { randomUUID } from 'node:crypto';
import type * as A from './ast';
import type { BucketStore, StoredDoc } from '../service-types';
import { QueryError, ErrorCode } from './errors';
import { childScope, compile, type Compiled, type ExecContext, type Row, type Scope } from './expr';
import { formatExpr } from './format';
import { catalogFor, Index } from './indexes';
import { chooseAccess, conjuncts, fetchDoc, resolveBucket, type Env } from './keyspace';
import { parse, defaultAlias } from './parser';
import { PAUSE, type Pause } from './pause';
import type { PreparedCache, Prepared } from './prepared';
import { compileSelect, EMPTY_ROW, rootScope, rowOf } from './select';
import { clone, getField, isObject, setField, sortedObject, truthy, type ObjectValue, type Value } from './value';

/** A fresh row binding a MERGE's source and target aliases. */
function bind2(a: string, av: Value, b: string, bv: Value, meta: StoredDoc): Row {
  const r = rowOf(a, av);
  setField(r.vars, b, bv);
  setField(r.metas, b, meta);
  return r;
}

export interface RunOptions {
  env: Env;
  ctx: ExecContext;
  readonly: boolean;
  prepareds: PreparedCache;
  /** Who runs the statement: prepared statements are kept per user. */
  user: string;
}

export interface StatementResult {
  signature?: Value;
  /** Result values, with PAUSE markers where the driver may give the event loop a turn. */
  rows: Iterable<Value | Pause>;
  /** Mutations committed so far; final once `rows` is exhausted. */
  mutationCount(): number;
  /** Per-document DML failures (the statement goes on); final once `rows` is exhausted. */
  errors: QueryError[];
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
  return Buffer.from(JSON.stringify(v));
}

export function runStatement(stmt: A.Statement, opts: RunOptions): StatementResult {
  switch (stmt.type) {
    case 'select': {
      const q = compileSelect(stmt, rootScope(opts.env), opts.env);
      return { signature: q.signature, rows: q.run(EMPTY_ROW, opts.ctx), mutationCount: () => 0, errors: [] };
    }
    case 'explain':
      return explain(stmt, opts);
    case 'prepare':
      return prepare(stmt, opts);
    case 'execute': {
      const nameV = compile(stmt.name, rootScope(opts.env))(EMPTY_ROW, opts.ctx);
      const p = typeof nameV === 'string' ? opts.prepareds.get(opts.user, nameV) : undefined;
      if (!p) throw new QueryError(ErrorCode.NO_SUCH_PREPARED, `No such prepared statement: ${String(nameV)}`);
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
    default:
      if (opts.readonly) throw readonlyError();
      return runDml(stmt, opts);
  }
}

function readonlyError(): QueryError {
  return new QueryError(ErrorCode.READONLY, 'The server or request is read-only and cannot accept this write statement.');
}

// ---- EXPLAIN / PREPARE ----

/** The statement's plan; planning resolves every keyspace with the caller's privileges (12003 / 13014). */
function planOf(stmt: A.Statement, opts: RunOptions): Record<string, unknown> {
  if (stmt.type === 'select') return compileSelect(stmt, rootScope(opts.env), opts.env).explain;
  if (stmt.type === 'explain') return planOf(stmt.stmt, opts);
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

function prepare(stmt: A.PrepareStatement, opts: RunOptions): StatementResult {
  // Planning now reports missing keyspaces/indexes at PREPARE time, as Couchbase does.
  const plan = planOf(stmt.stmt, opts);
  const name = stmt.name ?? randomUUID();
  const existing = opts.prepareds.get(opts.user, name);
  if (existing && !stmt.force && existing.text !== stmt.text) {
    throw new QueryError(4080, `Unable to add name: duplicate name: ${name}`);
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
    let deferred = false;
    if (stmt.with) {
      const w = compile(stmt.with, rootScope(env))(EMPTY_ROW, ctx);
      if (!isObject(w)) throw new QueryError(ErrorCode.EXECUTION, 'WITH clause of CREATE INDEX must be an object.');
      deferred = w.defer_build === true;
    }
    catalog.add(new Index(stmt.name, store.name, stmt.primary, stmt.keys, stmt.where, deferred));
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

// ---- DML ----

function dmlScope(target: A.KeyspaceTarget, env: Env, extra: string[] = []): Scope {
  const s = childScope(rootScope(env), [target.alias, ...extra]);
  s.implicit = target.alias;
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
  const parts = r.terms.map((t) => {
    if (t.star && !t.expr) return { kind: 'star' as const };
    if (t.star) return { kind: 'dot' as const, fn: compile(t.expr!, scope) };
    return { kind: 'named' as const, name: t.alias ?? defaultAlias(t.expr!) ?? `$${n++}`, fn: compile(t.expr!, scope) };
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
  const next = clone(doc);
  for (const s of sets) {
    if (!s.forBindings) {
      const p = pathOf(s.path, alias, new Set(), row, ctx, scope);
      if (!p) continue;
      if (p.steps.length === 0) continue;
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

function* targetRows(store: BucketStore, target: A.KeyspaceTarget, useKeys: A.Expr | undefined, where: A.Expr | undefined, scope: Scope, ctx: ExecContext): Generator<{ doc: StoredDoc; value: Value }> {
  const access = chooseAccess(target.ks, store, target.alias, true, useKeys, conjuncts(where), scope, new Set());
  const whereFn = where ? compile(where, scope) : undefined;
  // Materialise the ids first, so documents changed by this statement are not seen again.
  const ids = [...access.ids(EMPTY_ROW, ctx)];
  for (const id of ids) {
    const f = fetchDoc(store, id);
    if (!f) continue;
    if (whereFn && !truthy(whereFn(rowOf(target.alias, f.value, f.doc), ctx))) continue;
    yield f;
  }
}

function runDml(stmt: A.InsertStatement | A.UpdateStatement | A.DeleteStatement | A.MergeStatement, opts: RunOptions): StatementResult {
  const { env, ctx } = opts;
  const verb = stmt.type === 'insert' ? (stmt.upsert ? 'UPSERT' : 'INSERT') : stmt.type.toUpperCase();
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
    const write = (key: Value, value: Value, options: Value): Value => {
      if (typeof key !== 'string') {
        errors.push(new QueryError(ErrorCode.EXECUTION, `Cannot ${verb} non-string key ${JSON.stringify(key ?? null)} of type ${key === undefined ? 'missing' : typeof key}.`));
        return undefined;
      }
      if (value === undefined) {
        errors.push(new QueryError(ErrorCode.EXECUTION, `Cannot ${verb} a MISSING value for key ${key}.`));
        return undefined;
      }
      try {
        const expiry = isObject(options) && typeof options.expiration === 'number' ? options.expiration : undefined;
        const doc = store.write(key, toBuffer(value), mode, { expiry, flags: JSON_FLAGS });
        mutations++;
        return ret ? ret(rowOf(alias, value, doc), ctx) : undefined;
      } catch (err) {
        errors.push(dmlError(verb, key, err));
        return undefined;
      }
    };
    if (stmt.values) {
      const rows = stmt.values.map((v) => ({ key: compile(v.key, scope), value: v.value ? compile(v.value, scope) : undefined, options: v.options ? compile(v.options, scope) : undefined }));
      return result(
        (function* () {
          for (const r of rows) {
            const out = write(r.key(EMPTY_ROW, ctx), r.value ? r.value(EMPTY_ROW, ctx) : undefined, r.options?.(EMPTY_ROW, ctx));
            if (out !== undefined) yield out;
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
        for (const v of rows) {
          const r: Row = rowOf(SEL, v);
          const out = write(keyFn(r, ctx), valueFn ? valueFn(r, ctx) : v, optFn?.(r, ctx));
          if (out !== undefined) yield out;
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
    return result(
      (function* () {
        let done = 0;
        const pending = [...source];
        let n = 0;
        for (const { doc, value } of pending) {
          if (done >= limit) break;
          if (++n % 256 === 0) {
            ctx.checkDeadline();
            if (ctx.pauseDue?.()) yield PAUSE;
          }
          const row: Row = rowOf(alias, value, doc);
          try {
            if (stmt.type === 'delete') {
              store.remove(doc.id, { cas: doc.cas });
              mutations++;
              done++;
              if (ret) yield ret(row, ctx);
            } else {
              const next = applySets(sets, alias, value, row, ctx, scope);
              const written = store.write(doc.id, toBuffer(next), 'replace', { cas: doc.cas, flags: doc.flags });
              mutations++;
              done++;
              if (ret) yield ret(rowOf(alias, next, written), ctx);
            }
          } catch (err) {
            errors.push(dmlError(verb, doc.id, err));
          }
        }
      })(),
    );
  }

  // MERGE
  const m = stmt;
  const srcAlias = m.source.alias;
  const scope = childScope(rootScope(env), [alias, srcAlias]);
  const ret = compileReturning(m.returning, scope, [alias]);
  const limit = limitOf(m.limit, scope, ctx);
  const srcQuery: A.SelectStatement = {
    type: 'select',
    with: [],
    body: { kind: 'block', distinct: false, raw: true, terms: [{ expr: { kind: 'ident', name: srcAlias }, star: false }], from: { source: m.source, joins: [] }, let: [], letting: [] },
  };
  const source = compileSelect(srcQuery, rootScope(env), env);
  const onKey = m.onKey ? compile(m.onKey, scope) : undefined;
  const on = m.on ? compile(m.on, scope) : undefined;
  const sets = m.update ? compileSets(m.update.set, m.update.unset, scope) : [];
  const updWhere = m.update?.where ? compile(m.update.where, scope) : undefined;
  const delWhere = m.delete?.where ? compile(m.delete.where, scope) : undefined;
  const insWhere = m.insert?.where ? compile(m.insert.where, scope) : undefined;
  const insKey = m.insert?.key ? compile(m.insert.key, scope) : undefined;
  const insValue = m.insert ? compile(m.insert.value, scope) : undefined;
  const targetScan = on
    ? (() => {
        const tscope: Scope = childScope(rootScope(env), [alias, srcAlias]);
        return chooseAccess(m.target.ks, store, alias, false, undefined, conjuncts(m.on), tscope, new Set([srcAlias]));
      })()
    : undefined;
  return result(
    (function* () {
      const srcRows: Value[] = [];
      for (const v of source.run(EMPTY_ROW, ctx)) {
        if (v === PAUSE) yield v;
        else srcRows.push(v);
      }
      let done = 0;
      let n = 0;
      for (const sv of srcRows) {
        if (done >= limit) break;
        if (++n % 256 === 0) {
          ctx.checkDeadline();
          if (ctx.pauseDue?.()) yield PAUSE;
        }
        const base: Row = rowOf(srcAlias, sv);
        const matches: { doc: StoredDoc; value: Value }[] = [];
        let key: Value;
        if (onKey) {
          key = onKey(base, ctx);
          if (typeof key === 'string') {
            const f = fetchDoc(store, key);
            if (f) matches.push(f);
          }
        } else {
          for (const id of [...targetScan!.ids(base, ctx)]) {
            const f = fetchDoc(store, id);
            if (f && truthy(on!(bind2(srcAlias, sv, alias, f.value, f.doc), ctx))) matches.push(f);
          }
        }
        if (matches.length) {
          for (const f of matches) {
            const row: Row = bind2(srcAlias, sv, alias, f.value, f.doc);
            try {
              if (m.update && (!updWhere || truthy(updWhere(row, ctx)))) {
                const next = applySets(sets, alias, f.value, row, ctx, scope);
                const written = store.write(f.doc.id, toBuffer(next), 'replace', { cas: f.doc.cas, flags: f.doc.flags });
                mutations++;
                done++;
                if (ret) yield ret(bind2(srcAlias, sv, alias, next, written), ctx);
              } else if (m.delete && (!delWhere || truthy(delWhere(row, ctx)))) {
                store.remove(f.doc.id, { cas: f.doc.cas });
                mutations++;
                done++;
                if (ret) yield ret(row, ctx);
              }
            } catch (err) {
              errors.push(dmlError('MERGE', f.doc.id, err));
            }
          }
        } else if (m.insert && (!insWhere || truthy(insWhere(base, ctx)))) {
          const k = insKey ? insKey(base, ctx) : key;
          const v = insValue!(base, ctx);
          if (typeof k !== 'string' || v === undefined) {
            errors.push(new QueryError(ErrorCode.EXECUTION, `MERGE INSERT needs a string key and a value (key ${JSON.stringify(k ?? null)}).`));
            continue;
          }
          try {
            const doc = store.write(k, toBuffer(v), 'insert', { flags: JSON_FLAGS });
            mutations++;
            done++;
            if (ret) yield ret(bind2(srcAlias, sv, alias, v, doc), ctx);
          } catch (err) {
            errors.push(dmlError('MERGE', k, err));
          }
        }
      }
    })(),
  );
}
