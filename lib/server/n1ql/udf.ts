// User-defined functions (CREATE FUNCTION): their definitions, where they are kept, and how a
// name in a statement finds one. A global function lives in the namespace (`default:f`), a scoped
// one in a bucket's scope (`default:b.s.f`); the request's query_context decides which a bare
// name means, as the CREATE FUNCTION reference describes.
//
// Definitions are kept in the buckets' metadata, which the cluster makes durable with `dataDir`
// (the same store as index definitions). A scoped function is kept with its bucket. Global
// functions belong to no bucket: every bucket keeps a copy of the whole list with a generation
// number, and the highest generation found wins, so the list survives any one bucket being
// dropped and every node of the cluster reads the same list.
import type * as A from './ast';
import type { BucketStore } from '../service-types';
import { ErrorCode, QueryError } from './errors';
import type { FunctionAction, FunctionTarget } from './privileges';
import { formatExpr } from './format';
import { parseExpression } from './parser';
import type { Value } from './value';

export const GLOBAL_FUNCTIONS_METADATA = 'n1ql.functions.global';
export const SCOPED_FUNCTIONS_METADATA = 'n1ql.functions.scoped';

export interface FunctionDefinition {
  name: string;
  namespace: string;
  bucket?: string;
  scope?: string;
  /** Parameter names; absent for a variadic function (its arguments are `args`). */
  params?: string[];
  language: 'inline' | 'javascript';
  /** Inline: the expression as written. JavaScript: the code, when the function carries it. */
  text: string;
  object?: string;
  library?: string;
}

interface GlobalList {
  generation: number;
  functions: FunctionDefinition[];
}

export const FunctionErrors = {
  missing: (name: string) => new QueryError(10101, `Function not found ${name}`),
  duplicate: (name: string) => new QueryError(10102, `Function '${name}' already exists - cause: ${name}`),
  arguments: (name: string) => new QueryError(10104, `Incorrect number of arguments supplied to function ${name} - cause: ${name}`),
  invalidName: (name: string, why: string) => new QueryError(10105, `Invalid function name ${name} - cause: ${why}`),
};

/** Throws Couchbase's 13014 error when the caller may not manage or execute `def` (a definition, or a name and its language). */
export function mayUseFunction(env: FunctionEnv, def: Pick<FunctionDefinition, 'bucket' | 'scope' | 'language'>, action: FunctionAction): void {
  const denied = env.functionDenied({ bucket: def.bucket, scope: def.scope, external: def.language === 'javascript' }, action);
  if (denied !== undefined) throw new QueryError(ErrorCode.INSUFFICIENT_CREDENTIALS, denied);
}

/** The definition's full name as Couchbase prints it: `default:f` or `default:b.s.f`. */
export function qualifiedName(d: Pick<FunctionDefinition, 'namespace' | 'bucket' | 'scope' | 'name'>): string {
  return d.bucket !== undefined ? `${d.namespace}:${d.bucket}.${d.scope}.${d.name}` : `${d.namespace}:${d.name}`;
}

export interface FunctionEnv {
  bucket(name: string): BucketStore | undefined;
  buckets(): BucketStore[];
  functionDenied(f: FunctionTarget, action: FunctionAction): string | undefined;
  queryContext?: { bucket: string; scope?: string };
}

/** Where a function named in a statement lives: the name as written, completed from the query context. */
export function resolveName(env: FunctionEnv, n: A.FunctionName): Pick<FunctionDefinition, 'namespace' | 'bucket' | 'scope' | 'name'> {
  const namespace = n.namespace ?? 'default';
  if (namespace !== 'default') throw FunctionErrors.invalidName(n.name, `namespace ${namespace} does not hold functions`);
  if (n.bucket !== undefined) return { namespace, bucket: n.bucket, scope: n.scope, name: n.name };
  const qc = env.queryContext;
  if (n.namespace === undefined && qc?.scope !== undefined) return { namespace, bucket: qc.bucket, scope: qc.scope, name: n.name };
  return { namespace, name: n.name };
}

function globalList(env: FunctionEnv): GlobalList {
  let best: GlobalList = { generation: 0, functions: [] };
  for (const store of env.buckets()) {
    const l = store.metadata.get(GLOBAL_FUNCTIONS_METADATA) as GlobalList | undefined;
    if (l && typeof l.generation === 'number' && Array.isArray(l.functions) && l.generation > best.generation) best = l;
  }
  return best;
}

function scopedList(store: BucketStore): FunctionDefinition[] {
  const l = store.metadata.get(SCOPED_FUNCTIONS_METADATA);
  return Array.isArray(l) ? (l as FunctionDefinition[]) : [];
}

const sameName = (a: Pick<FunctionDefinition, 'bucket' | 'scope' | 'name'>, b: Pick<FunctionDefinition, 'bucket' | 'scope' | 'name'>): boolean =>
  a.name === b.name && a.bucket === b.bucket && a.scope === b.scope;

/** The function a resolved name refers to, if it exists. */
export function findFunction(env: FunctionEnv, where: Pick<FunctionDefinition, 'namespace' | 'bucket' | 'scope' | 'name'>): FunctionDefinition | undefined {
  if (where.bucket === undefined) return globalList(env).functions.find((f) => sameName(f, where));
  const store = env.bucket(where.bucket);
  return store ? scopedList(store).find((f) => sameName(f, where)) : undefined;
}

/** Every function, global first, for system:functions. */
export function listFunctions(env: FunctionEnv): FunctionDefinition[] {
  const out = [...globalList(env).functions];
  for (const store of env.buckets()) out.push(...scopedList(store));
  return out;
}

/** Stores `def`, replacing a function of the same name when `replace` is set. */
export function saveFunction(env: FunctionEnv, def: FunctionDefinition, mode: { replace: boolean; ifNotExists: boolean }): void {
  const exists = findFunction(env, def) !== undefined;
  if (exists && mode.ifNotExists) return;
  if (exists && !mode.replace) throw FunctionErrors.duplicate(def.name);
  changeList(env, def, (list) => [...list.filter((f) => !sameName(f, def)), def]);
}

/** Removes a function; false when there was none. */
export function dropFunction(env: FunctionEnv, where: Pick<FunctionDefinition, 'namespace' | 'bucket' | 'scope' | 'name'>): boolean {
  if (!findFunction(env, where)) return false;
  changeList(env, where, (list) => list.filter((f) => !sameName(f, where)));
  return true;
}

function changeList(env: FunctionEnv, where: Pick<FunctionDefinition, 'bucket'>, change: (list: FunctionDefinition[]) => FunctionDefinition[]): void {
  if (where.bucket !== undefined) {
    const store = env.bucket(where.bucket);
    if (!store) throw new QueryError(12003, `Keyspace not found in CB datastore: default:${where.bucket} - cause: No bucket named ${where.bucket}`);
    const next = change(scopedList(store));
    store.metadata.set(SCOPED_FUNCTIONS_METADATA, next.length ? next : undefined);
    return;
  }
  const stores = env.buckets();
  if (stores.length === 0) throw new QueryError(10106, 'Could not access function definitions: the cluster has no bucket to keep them in.');
  const cur = globalList(env);
  const next: GlobalList = { generation: cur.generation + 1, functions: change(cur.functions) };
  for (const store of stores) store.metadata.set(GLOBAL_FUNCTIONS_METADATA, next);
}

/** A CREATE FUNCTION statement as the definition to store. */
export function definitionOf(stmt: A.CreateFunctionStatement, where: Pick<FunctionDefinition, 'namespace' | 'bucket' | 'scope' | 'name'>): FunctionDefinition {
  const def: FunctionDefinition = { ...where, language: stmt.body ? 'inline' : 'javascript', text: stmt.body?.text ?? stmt.javascript?.code ?? '' };
  if (stmt.params) def.params = stmt.params;
  if (stmt.javascript?.object !== undefined) {
    def.object = stmt.javascript.object;
    def.library = stmt.javascript.library;
  }
  return def;
}

/** The system:functions row of a definition. */
export function describeFunction(d: FunctionDefinition): Value {
  const identity: Record<string, Value> = { name: d.name, namespace: d.namespace, type: d.bucket !== undefined ? 'scope' : 'global' };
  if (d.bucket !== undefined) {
    identity.bucket = d.bucket;
    identity.scope = d.scope;
  }
  const definition: Record<string, Value> = { '#language': d.language, parameters: d.params ?? ['...'] };
  if (d.language === 'inline') {
    definition.expression = formatExpr(parseExpression(d.text));
    definition.text = d.text;
  } else {
    if (d.object !== undefined) {
      definition.object = d.object;
      definition.library = d.library;
    } else definition.text = d.text;
  }
  return { definition, identity };
}
