// FROM $ks: a query parameter in the place of a keyspace. When the statement runs, a parameter
// whose value is a string names the keyspace (`"travel-sample"`, `"b.s.c"`, `"default:b"`); any
// other value is an expression term (FROM $arr AS a iterates an array). The statement's tree is
// shared by every execution of a prepared statement, so the bound statement is a copy.
import type * as A from './ast';
import { QueryError } from './errors';
import type { ExecContext } from './expr';
import { hasParamSources } from './parser';
import type { Value } from './value';
import { splitKeyspacePath } from './keyspace-path';

function paramValue(name: string, ctx: ExecContext): Value {
  if (/^\d+$/.test(name)) return ctx.positional[Number(name) - 1];
  return Object.hasOwn(ctx.named, name) ? ctx.named[name] : undefined;
}

/** A keyspace path as a parameter gives it: [namespace:]bucket[.scope.collection], parts optionally back-quoted. */
export function keyspaceOf(text: string): A.KeyspaceRef | undefined {
  let rest = text.trim();
  let namespace = 'default';
  const ns = /^([A-Za-z_][\w]*):/.exec(rest);
  if (ns) {
    namespace = ns[1];
    rest = rest.slice(ns[0].length);
  }
  const parts = splitKeyspacePath(rest);
  if (parts === undefined) return undefined;
  if (parts.length === 1) return { namespace, bucket: parts[0] };
  if (parts.length === 3) return { namespace, bucket: parts[0], scope: parts[1], collection: parts[2] };
  return undefined;
}

function bindNode(node: unknown, ctx: ExecContext): unknown {
  if (Array.isArray(node)) return node.map((n) => bindNode(n, ctx));
  if (typeof node !== 'object' || node === null) return node;
  const o = node as Record<string, unknown>;
  if (o.kind === 'expr' && typeof o.alias === 'string' && (o.expr as A.Expr | undefined)?.kind === 'param') {
    const src = o as unknown as A.FromSource & { kind: 'expr' };
    const name = (src.expr as A.Expr & { kind: 'param' }).name;
    const v = paramValue(name, ctx);
    if (typeof v === 'string') {
      const ks = keyspaceOf(v);
      if (!ks) throw new QueryError(12003, `Keyspace not found in CB datastore: ${v}`);
      const term: A.FromSource & { kind: 'keyspace' } = { kind: 'keyspace', ks, alias: src.alias || (ks.collection ?? ks.bucket) };
      if (src.paramUse?.useKeys) term.useKeys = src.paramUse.useKeys;
      if (src.paramUse?.useIndex) term.useIndex = src.paramUse.useIndex;
      if (src.hint) term.hint = src.hint;
      return term;
    }
    return src;
  }
  if (typeof o.param === 'string' && typeof o.alias === 'string' && o.ks !== undefined) {
    // DELETE FROM $ks: the target keyspace the parameter names.
    const v = paramValue(o.param, ctx);
    const ks = typeof v === 'string' ? keyspaceOf(v) : undefined;
    if (!ks) throw new QueryError(12003, `Keyspace not found in CB datastore: ${typeof v === 'string' ? v : String(v)}`);
    return { ks, alias: o.alias || (ks.collection ?? ks.bucket) } satisfies A.KeyspaceTarget;
  }
  if (o.kind === 'lit') return node; // values are never rewritten (and may hold bigints)
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) out[k] = bindNode(o[k], ctx);
  return out;
}

/** `stmt` with every FROM $param term bound to the parameter's keyspace or value. */
export function bindKeyspaceParams<T extends A.Statement>(stmt: T, ctx: ExecContext): T {
  return hasParamSources(stmt) ? (bindNode(stmt, ctx) as T) : stmt;
}
