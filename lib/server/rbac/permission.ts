// ns_server's permission model: a permission is an object (a path of vertices from the cluster
// root, some of them naming a bucket, scope or collection) and an operation on it. A role is an
// ordered list of patterns; the first pattern whose object is a prefix of the permission's object
// decides which operations that role allows on it, and a user holds a permission when any of its
// roles allows it. This module is the model only; the roles are in ./roles.ts.

/** Stands for "any bucket / scope / collection" in a pattern or an object. */
export const ANY = '*';
/**
 * The scope or collection of an object that concerns a whole bucket or scope: only a pattern
 * that allows any scope or collection there matches it (a role on one collection grants nothing
 * on the bucket as a whole).
 */
const ALL = '\u0000all';

/** A step of an object's path: a name, a bucket, or a collection (bucket, scope, collection). */
export type Vertex = string | { readonly bucket: string } | { readonly collection: readonly [string, string, string] };

export interface Permission {
  readonly object: readonly Vertex[];
  /** `read`, `write`, `execute`, ...; `any` asks whether any operation is allowed. */
  readonly op: string;
}

/** Operations a pattern allows: all of them, none, or a list. */
export type Operations = 'all' | 'none' | readonly string[];

export interface Pattern {
  readonly object: readonly Vertex[];
  readonly ops: Operations;
}

/** A role with its parameters substituted: what `allows` evaluates. */
export type CompiledRole = readonly Pattern[];

// ---- permissions as the services ask for them -----------------------------------------------------

/** A permission on the cluster itself: `cluster.<path>!<op>`. */
export function clusterPermission(path: readonly string[], op: string): Permission {
  return { object: path, op };
}

/** A permission on a bucket as a whole: `cluster.bucket[b].<path>!<op>`. */
export function bucketPermission(bucket: string, path: readonly string[], op: string): Permission {
  return { object: [{ bucket }, ...path], op };
}

/** A permission on a scope of a bucket: `cluster.scope[b:s].<path>!<op>`. */
export function scopePermission(bucket: string, scope: string, path: readonly string[], op: string): Permission {
  return { object: [{ collection: [bucket, scope, ALL] }, ...path], op };
}

/** A permission on one collection: `cluster.collection[b:s:c].<path>!<op>`. */
export function collectionPermission(bucket: string, scope: string, collection: string, path: readonly string[], op: string): Permission {
  return { object: [{ collection: [bucket, scope, collection] }, ...path], op };
}

// ---- evaluation -------------------------------------------------------------------------------------

function paramMatch(object: string, pattern: string): boolean {
  if (pattern === ANY) return true;
  if (object === ALL) return false;
  return object === ANY || object === pattern;
}

function vertexMatch(object: Vertex, pattern: Vertex): boolean {
  if (typeof pattern === 'string' || typeof object === 'string') return object === pattern;
  if ('bucket' in pattern) {
    return paramMatch('bucket' in object ? object.bucket : object.collection[0], pattern.bucket);
  }
  const [b, s, c] = pattern.collection;
  if ('bucket' in object) return paramMatch(object.bucket, b) && s === ANY && c === ANY;
  const o = object.collection;
  return paramMatch(o[0], b) && paramMatch(o[1], s) && paramMatch(o[2], c);
}

function objectMatch(object: readonly Vertex[], pattern: readonly Vertex[]): boolean {
  if (pattern.length > object.length) return false;
  for (let i = 0; i < pattern.length; i++) if (!vertexMatch(object[i], pattern[i])) return false;
  return true;
}

/** What one role allows on `object`: the operations of its first pattern that covers it. */
function operationsOn(role: CompiledRole, object: readonly Vertex[]): Operations {
  for (const p of role) if (objectMatch(object, p.object)) return p.ops;
  return 'none';
}

function opAllowed(op: string, ops: Operations): boolean {
  if (ops === 'all') return true;
  if (ops === 'none') return false;
  return op === 'any' ? ops.length > 0 : ops.includes(op);
}

/** Whether any of `roles` allows `permission`. */
export function allows(roles: readonly CompiledRole[], permission: Permission): boolean {
  for (const role of roles) if (opAllowed(permission.op, operationsOn(role, permission.object))) return true;
  return false;
}

// ---- text form ----------------------------------------------------------------------------------

function paramText(p: string): string {
  return p === ANY ? '.' : p === ALL ? '*' : p;
}

/** ns_server's text form, as 403 answers list missing permissions: `cluster.bucket[b].settings!write`. */
export function formatPermission(p: Permission): string {
  const parts = ['cluster'];
  for (const v of p.object) {
    if (typeof v === 'string') parts.push(v);
    else if ('bucket' in v) parts.push(`bucket[${paramText(v.bucket)}]`);
    else if (v.collection[2] === ALL) parts.push(`scope[${paramText(v.collection[0])}:${paramText(v.collection[1])}]`);
    else parts.push(`collection[${v.collection.map(paramText).join(':')}]`);
  }
  return `${parts.join('.')}!${p.op}`;
}
