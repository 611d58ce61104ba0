// Types of the shared Bucket surface: each KV method's arguments and result. A flavour maps
// them onto its own async type, e.g. `{ [M in KvMethodName]: (...a: KvArgs[M]) => Deferred<KvResults[M]> }`.
import type { MultiResult, ObserveResult, OperationResult, StatsResult, ValueResult } from '../../lib/engine/results';
import type { ViewQueryOptions } from '../../lib/engine/services/views';
import type { KvMethodName, KvOptions, MultiKeys } from './methods';

type KeyArgs = [key: string, options?: KvOptions];
type KeyValueArgs = [key: string, value: unknown, options?: KvOptions];
type MultiArgs = [keys: MultiKeys, options?: KvOptions];

export interface KvArgs extends Record<KvMethodName, unknown[]> {
  upsert: KeyValueArgs;
  insert: KeyValueArgs;
  replace: KeyValueArgs;
  append: KeyValueArgs;
  prepend: KeyValueArgs;
  get: KeyArgs;
  touch: [key: string, options?: KvOptions | number];
  lock: [key: string, options?: KvOptions | number];
  unlock: [key: string, options: KvOptions | bigint];
  remove: KeyArgs;
  counter: [key: string, options?: KvOptions | number];
  getReplica: KeyArgs;
  observe: KeyArgs;
  endure: KeyArgs;
  stats: [keys?: string | string[] | KvOptions, options?: KvOptions];
  upsertMulti: MultiArgs;
  insertMulti: MultiArgs;
  replaceMulti: MultiArgs;
  appendMulti: MultiArgs;
  prependMulti: MultiArgs;
  getMulti: MultiArgs;
  touchMulti: MultiArgs;
  lockMulti: MultiArgs;
  unlockMulti: MultiArgs;
  removeMulti: MultiArgs;
  counterMulti: MultiArgs;
  getReplicaMulti: MultiArgs;
  endureMulti: MultiArgs;
}

export interface KvResults extends Record<KvMethodName, unknown> {
  upsert: OperationResult;
  insert: OperationResult;
  replace: OperationResult;
  append: OperationResult;
  prepend: OperationResult;
  get: ValueResult;
  touch: OperationResult;
  lock: ValueResult;
  unlock: OperationResult;
  remove: OperationResult;
  counter: ValueResult;
  getReplica: ValueResult;
  observe: ObserveResult;
  endure: OperationResult;
  stats: StatsResult;
  upsertMulti: MultiResult<OperationResult>;
  insertMulti: MultiResult<OperationResult>;
  replaceMulti: MultiResult<OperationResult>;
  appendMulti: MultiResult<OperationResult>;
  prependMulti: MultiResult<OperationResult>;
  getMulti: MultiResult<ValueResult>;
  touchMulti: MultiResult<OperationResult>;
  lockMulti: MultiResult<ValueResult>;
  unlockMulti: MultiResult<OperationResult>;
  removeMulti: MultiResult<OperationResult>;
  counterMulti: MultiResult<ValueResult>;
  getReplicaMulti: MultiResult<ValueResult>;
  endureMulti: MultiResult<OperationResult>;
}

/** A view row as the views service sends it; `doc` is filled when includeDocs was asked for. */
export interface ViewRow<K = unknown, V = unknown> {
  id?: string;
  key: K;
  value: V;
  doc?: ValueResult;
}

/**
 * View query options: the engine's ViewQueryOptions (every Couchbase view parameter, plus
 * includeDocs). The index signature keeps any other key compiling; the engine names it as
 * unknown at run time.
 */
export interface ViewOptions extends ViewQueryOptions {
  [param: string]: unknown;
}
