// Scopes and collections in N1QL: the collection a `bucket.scope.collection` keyspace names
// (12021 for a missing scope, 12003 for a missing collection), and the statements that create
// and drop them (CREATE/DROP SCOPE, CREATE/DROP COLLECTION, with IF [NOT] EXISTS and, for a new
// collection, WITH {"maxTTL": n}). A name without its bucket and scope is taken from the
// request's query_context, as Couchbase's query service does.
import type * as A from './ast';
import type { BucketStore } from '../service-types';
import { SYSTEM_SCOPE, collectionsErrorText, nameProblem, type CollectionsOp, type CollectionsResult } from '../collections/manifest';
import { QueryError, ErrorCode } from './errors';
import { tokenize, type Token } from './lexer';
import type { Value } from './value';

/** Codes of the query service's datastore errors for scopes and collections. */
export const CollectionErrorCode = {
  SCOPE_NOT_FOUND: 12021,
  CREATE_SCOPE: 12025,
  DROP_SCOPE: 12026,
  CREATE_COLLECTION: 12027,
  DROP_COLLECTION: 12028,
} as const;

/** `default:b.s.c` (or `default:b`): how the query service names a keyspace in its messages. */
function pathText(namespace: string, bucket: string, scope?: string, collection?: string): string {
  return `${namespace}:${bucket}${scope !== undefined ? `.${scope}` : ''}${collection !== undefined ? `.${collection}` : ''}`;
}

/**
 * The store a keyspace reference reads: the bucket's default collection, or the named one.
 * Throws 12021 when the scope does not exist, 12003 when the collection does not.
 */
export function collectionStore(bucket: BucketStore, ks: A.KeyspaceRef): BucketStore {
  const scope = ks.scope ?? '_default';
  const name = ks.collection ?? '_default';
  const dflt = scope === '_default' && name === '_default';
  const found = bucket.collectionNamed !== undefined ? bucket.collectionNamed(scope, name) : dflt ? bucket : undefined;
  // The bucket stands for its default collection (as it was given: the same object).
  if (found !== undefined) return dflt ? bucket : found;
  if (ks.scope !== undefined && bucket.scopes !== undefined && !bucket.scopes().some((s) => s.name === scope)) {
    throw new QueryError(CollectionErrorCode.SCOPE_NOT_FOUND, `Scope not found in CB datastore ${pathText(ks.namespace, ks.bucket, scope)}`);
  }
  throw new QueryError(ErrorCode.KEYSPACE_NOT_FOUND, `Keyspace not found in CB datastore: ${pathText(ks.namespace, ks.bucket, ks.scope, ks.collection)}`);
}

// ---- CREATE / DROP SCOPE / COLLECTION -------------------------------------------------------------------

/** What running these statements needs from the query service. */
export interface CollectionDdlHost {
  bucket(name: string): BucketStore | undefined;
  change(bucket: string, op: CollectionsOp): CollectionsResult;
  /** Couchbase's 13014 message when the caller may not create or drop scopes (scope undefined) or collections of `scope`. */
  denied(bucket: string, scope: string | undefined, text: string): string | undefined;
}

/**
 * Parses `src` when it is a CREATE/DROP SCOPE/COLLECTION statement (undefined when it is some
 * other statement); a malformed one is a syntax error (3000).
 */
export function parseCollectionDdl(src: string): A.CollectionDdlStatement | undefined {
  let toks: Token[];
  try {
    toks = tokenize(src);
  } catch {
    return undefined;
  }
  const kw = (i: number, word: string): boolean => toks[i]?.kind === 'ident' && toks[i].upper === word;
  if (!(kw(0, 'CREATE') || kw(0, 'DROP')) || !(kw(1, 'SCOPE') || kw(1, 'COLLECTION'))) return undefined;
  const action = kw(0, 'CREATE') ? 'create' : 'drop';
  let i = 2;
  const fail = (): never => {
    const t = toks[Math.min(i, toks.length - 1)];
    if (t.kind === 'eof') throw new QueryError(ErrorCode.SYNTAX, 'syntax error - at end of input');
    throw new QueryError(ErrorCode.SYNTAX, `syntax error - line ${t.line}, column ${t.column}, near '${src.slice(Math.max(0, t.offset - 20), t.offset)}', at: ${t.text}`);
  };
  let quiet = false;
  const existsClause = (): void => {
    if (!kw(i, 'IF')) return;
    i++;
    if (action === 'create') {
      if (!kw(i, 'NOT')) fail();
      i++;
    }
    if (!kw(i, 'EXISTS')) fail();
    i++;
    quiet = true;
  };
  existsClause();
  const name = (): string => {
    const t = toks[i];
    if (t.kind !== 'ident' && t.kind !== 'qident') fail();
    i++;
    return t.text;
  };
  let namespace = 'default';
  const parts = [name()];
  if (toks[i].kind === 'op' && toks[i].text === ':') {
    i++;
    namespace = parts[0];
    parts[0] = name();
  }
  while (toks[i].kind === 'op' && toks[i].text === '.') {
    i++;
    parts.push(name());
  }
  if (!quiet) existsClause();
  const stmt: A.CollectionDdlStatement = { type: 'collectionDdl', action, what: kw(1, 'SCOPE') ? 'scope' : 'collection', namespace, parts, quiet };
  if (action === 'create' && stmt.what === 'collection' && kw(i, 'WITH')) {
    i++;
    stmt.maxTTL = withMaxTtl();
  }
  if (toks[i].kind === 'op' && toks[i].text === ';') i++;
  if (toks[i].kind !== 'eof') fail();
  return stmt;

  /** `{"maxTTL": n}`: the one option a new collection takes. */
  function withMaxTtl(): number | undefined {
    const op = (text: string): boolean => toks[i].kind === 'op' && toks[i].text === text;
    if (!op('{')) fail();
    i++;
    let maxTTL: number | undefined;
    while (!op('}')) {
      const key = toks[i];
      if (key.kind !== 'string' && key.kind !== 'ident' && key.kind !== 'qident') fail();
      i++;
      if (!op(':')) fail();
      i++;
      let sign = 1;
      if (op('-')) {
        sign = -1;
        i++;
      }
      const value = toks[i];
      i++;
      if (key.text !== 'maxTTL') throw new QueryError(ErrorCode.SEMANTIC, `Invalid option '${key.text}'`);
      const num = value.kind === 'number' ? Number(value.num) : NaN;
      if (!Number.isInteger(num)) throw new QueryError(ErrorCode.SEMANTIC, "Invalid value for 'maxTTL'");
      maxTTL = sign * num;
      if (op(',')) i++;
      else if (!op('}')) fail();
    }
    i++;
    return maxTTL;
  }
}

/** Runs a parsed statement; nothing comes back but success or an error. */
export function runCollectionDdl(stmt: A.CollectionDdlStatement, host: CollectionDdlHost | undefined, queryContext: { bucket: string; scope?: string } | undefined): void {
  if (host === undefined) throw new QueryError(ErrorCode.EXECUTION, 'Scopes and collections cannot be changed through this query service.');
  const want = stmt.what === 'scope' ? 2 : 3;
  let parts = stmt.parts;
  // A bare name is relative to the query_context: its bucket for a scope, its scope for a collection.
  if (parts.length === 1 && queryContext !== undefined && (stmt.what === 'scope' || queryContext.scope !== undefined)) {
    parts = stmt.what === 'scope' ? [queryContext.bucket, parts[0]] : [queryContext.bucket, queryContext.scope!, parts[0]];
  }
  if (parts.length !== want) {
    throw new QueryError(ErrorCode.SEMANTIC, `Invalid path for a ${stmt.what}: ${[stmt.namespace + ':' + parts[0], ...parts.slice(1)].join('.')} - give ${stmt.what === 'scope' ? 'bucket.scope' : 'bucket.scope.collection'}, or a query_context`);
  }
  const [bucket, scope, collection] = parts;
  const text = pathText(stmt.namespace, bucket, scope, collection);
  if (stmt.namespace !== 'default' || host.bucket(bucket) === undefined) {
    throw new QueryError(ErrorCode.KEYSPACE_NOT_FOUND, `Keyspace not found in CB datastore: ${pathText(stmt.namespace, bucket)}`);
  }
  const denied = host.denied(bucket, stmt.what === 'scope' ? undefined : scope, text);
  if (denied !== undefined) throw new QueryError(ErrorCode.INSUFFICIENT_CREDENTIALS, denied);
  const [code, what] =
    stmt.what === 'scope'
      ? stmt.action === 'create'
        ? [CollectionErrorCode.CREATE_SCOPE, 'creating scope']
        : [CollectionErrorCode.DROP_SCOPE, 'dropping scope']
      : stmt.action === 'create'
        ? [CollectionErrorCode.CREATE_COLLECTION, 'creating collection']
        : [CollectionErrorCode.DROP_COLLECTION, 'dropping collection'];
  // The cluster checks a new name as its REST API does.
  const problem = stmt.action === 'create' ? nameProblem(parts[parts.length - 1]) : undefined;
  if (problem !== undefined) throw new QueryError(code, `Error while ${what} ${parts.join('.')} - cause: ${problem}`);
  const op: CollectionsOp =
    stmt.what === 'scope'
      ? stmt.action === 'create'
        ? { op: 'createScope', scope }
        : { op: 'dropScope', scope }
      : stmt.action === 'create'
        ? { op: 'createCollection', scope, collection, props: stmt.maxTTL !== undefined ? { maxTTL: stmt.maxTTL } : {} }
        : { op: 'dropCollection', scope, collection };
  const result = host.change(bucket, op);
  if ('ok' in result) return;
  const e = result.error;
  // IF [NOT] EXISTS: what is already so is no error.
  if (stmt.quiet && (e.kind === 'scope_already_exists' || e.kind === 'collection_already_exists' || (stmt.action === 'drop' && (e.kind === 'scope_not_found' || e.kind === 'collection_not_found')))) return;
  if (e.kind === 'scope_not_found') throw new QueryError(CollectionErrorCode.SCOPE_NOT_FOUND, `Scope not found in CB datastore ${pathText(stmt.namespace, bucket, scope)}`);
  if (e.kind === 'collection_not_found') throw new QueryError(ErrorCode.KEYSPACE_NOT_FOUND, `Keyspace not found in CB datastore: ${text}`);
  throw new QueryError(code, `Error while ${what} ${parts.join('.')} - cause: ${collectionsErrorText(e).message}`);
}

/**
 * A bucket's rows in system:keyspaces, system:scopes and system:indexes: the bucket itself (its
 * default collection) and, from 7.0 on, each named collection and scope with its bucket and scope
 * named (`bucket_id` / `scope_id` on an index of a named collection). The `_system` scope's
 * collections are the cluster's own: N1QL's catalogs do not list them.
 */
export function* systemRows(name: 'keyspaces' | 'scopes' | 'indexes', bucket: BucketStore, indexRows: (coll: BucketStore) => Array<Record<string, Value>>): Generator<Value> {
  const datastore = 'http://127.0.0.1:8091';
  const b = bucket.name;
  if (name === 'scopes') {
    for (const s of bucket.scopes?.() ?? []) {
      if (s.name !== SYSTEM_SCOPE) yield { bucket: b, datastore_id: datastore, name: s.name, namespace: 'default', namespace_id: 'default', path: `default:${b}.${s.name}` };
    }
    return;
  }
  for (const coll of bucket.collections?.() ?? [bucket]) {
    if (coll.scopeName === SYSTEM_SCOPE) continue;
    const named = coll.scopeName !== undefined && (coll.scopeName !== '_default' || coll.collectionName !== '_default');
    if (name === 'indexes') {
      for (const row of indexRows(coll)) yield named ? { ...row, bucket_id: b, scope_id: coll.scopeName!, keyspace_id: coll.collectionName! } : row;
    } else if (!named) {
      yield { datastore_id: datastore, id: b, name: b, namespace: 'default', namespace_id: 'default', path: `default:${b}` };
    } else {
      yield { bucket: b, datastore_id: datastore, id: coll.collectionName!, name: coll.collectionName!, namespace: 'default', namespace_id: 'default', path: `default:${b}.${coll.scopeName}.${coll.collectionName}`, scope: coll.scopeName! };
    }
  }
}
