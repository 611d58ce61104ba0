// Types of the shared Bucket surface: each KV method's arguments and result, derived from the
// engine's operation table (its argument shape, positional option and result kind). A flavour
// maps them onto its own async type, e.g.
// `{ [M in KvMethodName]: (...a: KvArgs[M]) => Deferred<KvResults[M]> }`.
import type { MultiResult, ObserveResult, OperationResult, StatsResult, ValueResult } from '../../lib/engine/results';
import type { ViewQueryOptions } from '../../lib/engine/services/views';
import type { OPERATIONS, OpName } from '../../lib/engine/kv/operations';
import type { KvMethodName, KvOptions, MultiKeys } from './methods';

type Operations = typeof OPERATIONS;

/** What a bare second argument stands for: a number of seconds or a delta, or the cas to unlock with. */
interface PositionalArg {
  ttl: number;
  delta: number;
  cas: bigint;
}

type ArgsOf<N extends OpName> = Operations[N]['keyKind'] extends 'statGroup'
  ? [keys?: string | string[] | KvOptions, options?: KvOptions]
  : Operations[N]['value'] extends 'value'
    ? [key: string, value: unknown, options?: KvOptions]
    : Operations[N]['positional'] extends 'cas'
      ? // The cas is what unlock works with: it is required.
        [key: string, options: KvOptions | PositionalArg['cas']]
      : Operations[N]['positional'] extends 'ttl' | 'delta'
        ? [key: string, options?: KvOptions | PositionalArg[Operations[N]['positional']]]
        : [key: string, options?: KvOptions];

interface ResultOf {
  value: ValueResult;
  mutation: OperationResult;
  observe: ObserveResult;
  stats: StatsResult;
}

export type KvArgs = { [M in KvMethodName]: M extends `${string}Multi` ? [keys: MultiKeys, options?: KvOptions] : M extends OpName ? ArgsOf<M> : never };

export type KvResults = {
  [M in KvMethodName]: M extends `${infer N extends OpName}Multi` ? MultiResult<ResultOf[Operations[N]['result']]> : M extends OpName ? ResultOf[Operations[M]['result']] : never;
};

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
