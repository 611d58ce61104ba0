// The system namespace's catalogs (`FROM system:keyspaces`, ...), as the Get System Information
// page of the SQL++ reference describes them: one function per catalog listing its documents for
// the caller (a bucket, its indexes and its sequences are listed only to a user who may read it).
import { randomBytes } from 'node:crypto';
import type { BucketStore } from '../service-types';
import { catalogFor } from './indexes';
import { systemRows } from './collections';
import type { Env } from './keyspace';
import { listSequences, type SequencePath } from './sequences';
import { describeFunction, listFunctions, qualifiedName } from './udf';
import { ADMIN_CATALOGS } from './system-admin';
import { dictionaryRow } from './statistics';
import { sessionsFor } from './advisor-sessions';
import type { ObjectValue, Value } from './value';

const DATASTORE = 'http://127.0.0.1:8091';
/** This query node's id, as catalogs that report per-node values name it. */
const NODE_UUID = randomBytes(16).toString('hex');

const readable = (env: Env): BucketStore[] => env.buckets().filter((s) => env.canAccess(s.name, 'read'));

/** Each readable bucket's rows of a catalog that lists its collections too (./collections). */
function perCollection(env: Env, name: 'keyspaces' | 'scopes' | 'indexes'): Value[] {
  return readable(env).flatMap((s) => [...systemRows(name, s, (coll) => catalogFor(coll).list().map((ix) => ix.describe()))]);
}

const keyspaces = (env: Env): Value[] => perCollection(env, 'keyspaces');
const indexes = (env: Env): Value[] => perCollection(env, 'indexes');

const q = (s: string): string => '`' + s.replace(/`/g, '``') + '`';

function sequence(p: SequencePath, d: ReturnType<typeof listSequences>[number]['def'], current: Value): ObjectValue {
  const int = (x: string): Value => {
    const n = BigInt(x);
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  };
  const nextBlock = BigInt(d.base) + BigInt(d.block) * BigInt(d.cache) * BigInt(d.increment);
  return {
    bucket: p.bucket,
    cache: d.cache,
    cycle: d.cycle,
    increment: int(d.increment),
    max: int(d.max),
    min: int(d.min),
    name: p.name,
    namespace: 'default',
    namespace_id: 'default',
    path: `${q('default')}:${q(p.bucket)}.${q(p.scope)}.${q(p.name)}`,
    scope_id: p.scope,
    value: { [NODE_UUID]: current, '~next_block': int(String(nextBlock)) },
  };
}

function sequences(env: Env, loadedOnly: boolean): Value[] {
  return readable(env).flatMap((s) => listSequences(s).filter((x) => !loadedOnly || x.current !== null).map((x) => sequence(x.path, x.def, x.current)));
}

/**
 * The document key of a catalog's rows, where a statement may read it as `META().id`: a function's
 * is its full name (`default:f`, `default:b.s.f`), as system:functions keys them.
 */
export const SYSTEM_CATALOG_KEYS: Readonly<Record<string, (doc: Value) => string>> = {
  functions: (doc) => qualifiedName((doc as { identity: Parameters<typeof qualifiedName>[0] }).identity),
};

/** Every catalog by name: its documents for the environment's user. */
export const SYSTEM_CATALOGS: Readonly<Record<string, (env: Env) => Value[]>> = {
  dual: () => [{}],
  datastores: () => [{ id: DATASTORE, url: DATASTORE }],
  namespaces: () => [{ datastore_id: DATASTORE, id: 'default', name: 'default' }],
  buckets: (env) => readable(env).map((s) => ({ datastore_id: DATASTORE, name: s.name, namespace: 'default', namespace_id: 'default', path: `default:${s.name}` })),
  keyspaces,
  all_keyspaces: keyspaces,
  scopes: (env) => perCollection(env, 'scopes'),
  indexes,
  all_indexes: indexes,
  functions: (env) => listFunctions(env).map(describeFunction),
  sequences: (env) => sequences(env, true),
  all_sequences: (env) => sequences(env, false),
  ...ADMIN_CATALOGS,
  // The query service's scheduled tasks: the index advisor's sessions (./advisor-sessions).
  tasks_cache: (env) => (env.requests && (env.holdsCluster?.(['n1ql', 'meta'], 'read') ?? true) ? sessionsFor(env.requests).rows() : []),
  dictionary: (env) => readable(env).flatMap((s) => (s.collections?.() ?? [s]).map(dictionaryRow).filter((r): r is ObjectValue => r !== undefined)),
};
