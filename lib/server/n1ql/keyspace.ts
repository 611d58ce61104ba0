// Resolving keyspace names, and what a predicate says about one keyspace's documents (the
// planner in ./access chooses how to read them).
import type * as A from './ast';
import type { BucketStore, ServiceNode, ServiceSecurity, StoredDoc } from '../service-types';
import { QueryError, ErrorCode } from './errors';
import { freeIdents, mapChildren } from './format';
import type { Access, FunctionAction, FunctionTarget } from './privileges';
import type { JavaScriptRunner } from './udf-javascript';
import { docValue } from './indexes';
import type { Value } from './value';
import { collectionStore, type CollectionDdlHost } from './collections';
import type { RequestLog } from './request-log';
import { splitKeyspacePath } from './keyspace-path';

export interface Env {
  bucket(name: string): BucketStore | undefined;
  buckets(): BucketStore[];
  /** Whether the caller may read (SELECT) or change (DML, index DDL) this bucket (see ./privileges). */
  canAccess(bucket: string, access: Access): boolean;
  /** Couchbase's 13014 message when the caller may not run a `verb` statement on `ks` (see ./privileges). */
  denied(ks: A.KeyspaceRef, verb: string, text: string): string | undefined;
  /** Couchbase's 13014 message when the caller may not manage or execute the function `f` (see ./privileges). */
  functionDenied(f: FunctionTarget, action: FunctionAction): string | undefined;
  /** Couchbase's 13014 message when the caller may not manage or use the sequences of a scope (see ./privileges). */
  sequenceDenied(bucket: string, scope: string, action: 'manage' | 'use'): string | undefined;
  /** The request's query_context (`default:bucket.scope`): bare names are collections in it. */
  queryContext?: { bucket: string; scope?: string };
  /** CREATE/DROP SCOPE/COLLECTION (see ./collections); absent where collections cannot be changed. */
  collections?: CollectionDdlHost;
  /** Runs the JavaScript functions of the statement (absent: the process's shared runner). */
  javascript?: JavaScriptRunner;
  /** Whether the caller holds the cluster permission `path!op` (GRANT / REVOKE, system:user_info, others' requests). */
  holdsCluster?(path: readonly string[], op: string): boolean;
  /** The cluster's nodes (system:nodes, ALTER INDEX); absent outside a Cluster. */
  nodes?(): readonly ServiceNode[];
  /** The cluster's users and roles (GRANT / REVOKE, system:user_info); absent outside a Cluster. */
  security?: ServiceSecurity;
  /** Who runs the statement (system:my_user_info, the caller's own requests). */
  username?: string;
  /** This query node's requests (system:active_requests, system:completed_requests). */
  requests?: RequestLog;
  /** This query node's prepared statements (system:prepareds) and its name. */
  preparedList?(): ReadonlyArray<{ name: string; text: string; uses?: number }>;
  nodeName?: string;
}

/**
 * Parses a query_context parameter: "default:`b`.`s`", "`b`.`s`", "default:b", "b", or the bare
 * namespace "default:" that SDKs send for cluster-level queries (null: no bucket context).
 * Undefined when it is not one of those.
 */
export function parseQueryContext(text: string): { bucket: string; scope?: string } | null | undefined {
  let rest = text.trim();
  const colon = rest.indexOf(':');
  if (colon >= 0 && !rest.slice(0, colon).includes('`')) rest = rest.slice(colon + 1);
  if (rest === '' && colon >= 0) return null;
  const parts = splitKeyspacePath(rest);
  if (parts === undefined || parts.length === 0 || parts.length > 2) return undefined;
  return { bucket: parts[0], scope: parts[1] };
}

export function keyspaceText(ks: A.KeyspaceRef): string {
  return `${ks.namespace}:${ks.bucket}${ks.scope ? `.${ks.scope}.${ks.collection}` : ''}`;
}

/** The bucket behind a keyspace reference, or Couchbase's 12003 / 13014 errors. */
export function resolveBucket(env: Env, ks: A.KeyspaceRef, verb = 'SELECT'): BucketStore {
  const qc = env.queryContext;
  if (qc?.scope !== undefined && ks.scope === undefined && ks.namespace === 'default') {
    ks = { namespace: 'default', bucket: qc.bucket, scope: qc.scope, collection: ks.bucket };
  }
  if (ks.namespace !== 'default') throw new QueryError(ErrorCode.KEYSPACE_NOT_FOUND, `Keyspace not found in CB datastore: ${keyspaceText(ks)} - cause: No namespace named ${ks.namespace}`);
  const bucket = env.bucket(ks.bucket);
  if (!bucket) throw new QueryError(ErrorCode.KEYSPACE_NOT_FOUND, `Keyspace not found in CB datastore: ${keyspaceText(ks)} - cause: No bucket named ${ks.bucket}`);
  const store = collectionStore(bucket, ks);
  const denied = env.denied(ks, verb, keyspaceText(ks));
  if (denied !== undefined) throw new QueryError(ErrorCode.INSUFFICIENT_CREDENTIALS, denied);
  return store;
}

export function noIndexError(ks: A.KeyspaceRef): QueryError {
  const name = `\`${ks.namespace}\`:\`${ks.bucket}\`${ks.scope !== undefined ? `.\`${ks.scope}\`.\`${ks.collection}\`` : ''}`;
  return new QueryError(
    ErrorCode.PLAN,
    `No index available on keyspace ${name} that matches your query. Use CREATE PRIMARY INDEX ON ${name} to create a primary index, or check that your expected index is online.`,
  );
}

export function conjuncts(e: A.Expr | undefined): A.Expr[] {
  if (!e) return [];
  if (e.kind === 'and') return e.args.flatMap(conjuncts);
  return [e];
}

/**
 * `e` rewritten relative to the document of `alias` (`t.name` -> `name`, `META(t)` -> `META()`),
 * or undefined when it reads anything else (another variable, a parameter, a subquery).
 */
export function docRelative(e: A.Expr, alias: string, implicit: boolean, scopeNames: Set<string>): A.Expr | undefined {
  let usesDoc = false;
  let ok = true;
  const walk = (x: A.Expr): A.Expr => {
    if (!ok) return x;
    if (x.kind === 'field' && x.target.kind === 'ident' && x.target.name === alias) {
      usesDoc = true;
      return { kind: 'ident', name: x.name };
    }
    if (x.kind === 'ident') {
      if (x.name === alias || scopeNames.has(x.name) || !implicit) ok = false;
      else usesDoc = true;
      return x;
    }
    if (x.kind === 'call' && x.name === 'meta') {
      if (x.args.length === 0 ? implicit : x.args.length === 1 && x.args[0].kind === 'ident' && x.args[0].name === alias) {
        usesDoc = true;
        return { kind: 'call', name: 'meta', args: [] };
      }
      ok = false;
      return x;
    }
    if (x.kind === 'param' || x.kind === 'subquery' || x.kind === 'quant' || x.kind === 'collect' || x.kind === 'exists') {
      ok = false;
      return x;
    }
    if (x.kind === 'call' && (x.name === 'random' || x.name === 'uuid' || x.name.startsWith('clock_'))) ok = false;
    return mapChildren(x, walk);
  };
  const out = walk(e);
  return ok && usesDoc ? out : undefined;
}

/** Whether `e` can be evaluated before the document of `alias` is read. */
export function independentOf(e: A.Expr, alias: string, implicit: boolean, available: Set<string>): boolean {
  const free = freeIdents(e);
  if (free.has('\0subquery')) return false;
  if (free.has('\0meta')) return false;
  for (const n of free) {
    if (n === alias) return false;
    if (!available.has(n)) return false;
    if (implicit && !available.has(n)) return false;
  }
  return true;
}

/** Fetches a document for a scanned id; undefined when it went away meanwhile. */
export function fetchDoc(store: BucketStore, id: string): { doc: StoredDoc; value: Value } | undefined {
  const doc = store.get(id);
  if (!doc) return undefined;
  return { doc, value: docValue(doc) };
}
