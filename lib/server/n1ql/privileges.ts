// Who may do what to a keyspace, as Couchbase's query service asks ns_server: SELECT needs
// cluster.collection[b:s:c].n1ql.select!execute (query_select), INSERT n1ql.insert (query_insert),
// UPSERT both insert and update, UPDATE n1ql.update, DELETE n1ql.delete, MERGE all three of its
// actions, index DDL n1ql.index (query_manage_index); bucket_full_access and admin grant them all.
// User-defined functions need their own privileges: managing (CREATE / DROP FUNCTION) or executing
// (EXECUTE FUNCTION, a call in an expression) a global function (cluster.n1ql.udf), a scope's
// function (cluster.scope[b:s].n1ql.udf), and for JavaScript functions the `udf_external` forms.
// These functions are the only place the query service reads a user's privileges.
import type { ServiceUser } from '../service-types';
import { bucketPermission, clusterPermission, collectionPermission, scopePermission } from '../rbac/permission';
import { DEFAULT_COLLECTION, DEFAULT_SCOPE } from '../rbac/kv-privileges';

export type Access = 'read' | 'write';

/** A keyspace as a statement names it: a bucket (its default collection) or bucket.scope.collection. */
export interface KeyspacePath {
  readonly bucket: string;
  readonly scope?: string;
  readonly collection?: string;
}

/** The n1ql privileges a statement of each kind needs on its target, in the order they are checked. */
const NEEDS: Readonly<Record<string, readonly string[]>> = {
  SELECT: ['select'],
  INSERT: ['insert'],
  UPSERT: ['insert', 'update'],
  UPDATE: ['update'],
  DELETE: ['delete'],
  MERGE: ['update', 'insert', 'delete'],
};

function holds(user: ServiceUser, ks: KeyspacePath, privilege: string, op: string): boolean {
  return user.allows(collectionPermission(ks.bucket, ks.scope ?? DEFAULT_SCOPE, ks.collection ?? DEFAULT_COLLECTION, ['n1ql', privilege], op));
}

/**
 * Why `user` may not run a `verb` statement (SELECT, INSERT, UPSERT, UPDATE, DELETE, MERGE, INDEX)
 * on keyspace `ks`: Couchbase's 13014 message naming the role to add (`text` is the keyspace as
 * the message shows it, `default:b` or `default:b.s.c`); undefined when it may.
 */
export function deniedMessage(user: ServiceUser, verb: string, ks: KeyspacePath, text: string): string | undefined {
  if (verb === 'INDEX') {
    return holds(user, ks, 'index', 'create') ? undefined : `User does not have credentials to run index operations. Add role query_manage_index on ${text} to allow the statement to run.`;
  }
  for (const privilege of NEEDS[verb] ?? ['select']) {
    if (!holds(user, ks, privilege, 'execute')) {
      return `User does not have credentials to run ${privilege.toUpperCase()} queries on ${text}. Add role query_${privilege} on ${text} to allow the statement to run.`;
    }
  }
  return undefined;
}

/** A user-defined function as its privileges see it: global or of a bucket's scope, SQL++ or JavaScript. */
export interface FunctionTarget {
  readonly bucket?: string;
  readonly scope?: string;
  readonly external: boolean;
}

export type FunctionAction = 'manage' | 'execute';

/** Why `user` may not manage or execute function `f`: Couchbase's 13014 message naming the role to add; undefined when it may. */
export function functionDeniedMessage(user: ServiceUser, f: FunctionTarget, action: FunctionAction): string | undefined {
  const object = ['n1ql', f.external ? 'udf_external' : 'udf'];
  const scoped = f.bucket !== undefined;
  const permission = scoped ? scopePermission(f.bucket!, f.scope ?? DEFAULT_SCOPE, object, action) : clusterPermission(object, action);
  if (user.allows(permission)) return undefined;
  const what = `${action} ${scoped ? 'scope' : 'global'} ${f.external ? 'external ' : ''}functions`;
  const role = `query_${action}_${scoped ? '' : 'global_'}${f.external ? 'external_' : ''}functions${scoped ? ` on default:${f.bucket}.${f.scope ?? DEFAULT_SCOPE}` : ''}`;
  return `User does not have credentials to ${what}. Add role ${role} to allow the statement to run.`;
}

/** Why `user` may not manage (CREATE / ALTER / DROP) or use (NEXT / PREV VALUE FOR) the sequences of a scope; undefined when it may. */
export function sequenceDeniedMessage(user: ServiceUser, bucket: string, scope: string, action: 'manage' | 'use'): string | undefined {
  if (user.allows(scopePermission(bucket, scope, ['n1ql', 'sequences'], action === 'manage' ? 'manage' : 'execute'))) return undefined;
  return `User does not have credentials to ${action} sequences. Add role query_${action}_sequences on default:${bucket}.${scope} to allow the statement to run.`;
}

/** SELECT on `bucket` (its default collection). */
export function mayRead(user: ServiceUser, bucket: string): boolean {
  return holds(user, { bucket }, 'select', 'execute');
}

/** Any DML on `bucket` (its default collection). */
export function mayWrite(user: ServiceUser, bucket: string): boolean {
  return ['insert', 'update', 'delete'].some((p) => holds(user, { bucket }, p, 'execute'));
}

export function may(user: ServiceUser, bucket: string, access: Access): boolean {
  return access === 'read' ? mayRead(user, bucket) : mayWrite(user, bucket);
}

/** The privilege checks of a statement's environment (keyspace.ts's Env) for `user`. */
export function privilegesOf(user: ServiceUser): {
  canAccess(bucket: string, access: Access): boolean;
  denied(ks: KeyspacePath, verb: string, text: string): string | undefined;
  functionDenied(f: FunctionTarget, action: FunctionAction): string | undefined;
  sequenceDenied(bucket: string, scope: string, action: 'manage' | 'use'): string | undefined;
  holdsCluster(path: readonly string[], op: string): boolean;
} {
  return {
    holdsCluster: (path, op) => user.allows(clusterPermission(path, op)),
    canAccess: (bucket, access) => may(user, bucket, access),
    denied: (ks, verb, text) => deniedMessage(user, verb, ks, text),
    functionDenied: (f, action) => functionDeniedMessage(user, f, action),
    sequenceDenied: (bucket, scope, action) => sequenceDeniedMessage(user, bucket, scope, action),
  };
}

/**
 * CREATE/DROP SCOPE (`scope` undefined) and CREATE/DROP COLLECTION in `scope`: ns_server's
 * collections!write on the bucket or the scope (scope_admin, bucket_admin); Couchbase's 13014
 * message when `user` lacks it.
 */
export function collectionsDenied(user: ServiceUser, bucket: string, scope: string | undefined, text: string): string | undefined {
  const permission = scope === undefined ? bucketPermission(bucket, ['collections'], 'write') : scopePermission(bucket, scope, ['collections'], 'write');
  if (user.allows(permission)) return undefined;
  return `User does not have credentials to run CREATE or DROP ${scope === undefined ? 'SCOPE' : 'COLLECTION'} on ${text}. Add role scope_admin on default:${bucket}${scope === undefined ? '' : `.${scope}`} to allow the statement to run.`;
}
