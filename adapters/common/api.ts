// Types of the shared Bucket surface: each KV method's arguments and result, derived from the
// engine's operation table (its argument shape, positional option and result kind). A flavour
// maps them onto its own async type, e.g.
// `{ [M in KvMethodName]: (...a: KvArgs[M]) => Deferred<KvResults[M]> }`.
import type { MultiResult, ObserveResult, OperationResult, Result, StatsResult, SubdocResult, ValueResult } from '../../lib/engine/results';
import type { SubdocSpec } from '../../lib/engine/subdoc';
import type { ViewQueryOptions } from '../../lib/engine/services/views';
import type { OPERATIONS, OpName } from '../../lib/engine/kv/operations';
import type { KV_ALIASES, KvAliasName, KvCallName, KvMethodName, KvOptions, MultiKeys } from './methods';

type Operations = typeof OPERATIONS;

/** What a bare second argument stands for: a number of seconds or a delta, or the cas to unlock with. */
interface PositionalArg {
  ttl: number;
  delta: number;
  cas: bigint;
}

/** The types of the named arguments rows take after the key. */
interface ArgTypes {
  value: unknown;
  mapkey: string;
  index: number;
}

/** A rest argument's element type. */
interface RestTypes {
  specs: SubdocSpec | readonly SubdocSpec[] | KvOptions;
  paths: string | readonly string[] | KvOptions;
}

/** The named arguments after the key, typed. */
type Named<A> = A extends readonly [infer H, ...infer T] ? (H extends keyof ArgTypes ? [ArgTypes[H], ...Named<T>] : []) : [];

type ArgsOf<N extends OpName> = Operations[N]['keyKind'] extends 'statGroup'
  ? [keys?: string | string[] | KvOptions, options?: KvOptions]
  : Operations[N]['args'] extends readonly [`...${infer R extends keyof RestTypes}`]
    ? [key: string, ...specsAndOptions: RestTypes[R][]]
    : Operations[N]['positional'] extends 'cas'
      ? // The cas is what unlock works with: it is required.
        [key: string, options: KvOptions | PositionalArg['cas']]
      : Operations[N]['positional'] extends 'ttl' | 'delta'
        ? [key: string, options?: KvOptions | PositionalArg[Operations[N]['positional']]]
        : [key: string, ...Named<Operations[N]['args']>, options?: KvOptions];

interface ResultOf {
  value: ValueResult;
  mutation: OperationResult;
  observe: ObserveResult;
  stats: StatsResult;
  subdoc: SubdocResult;
  count: number;
  flag: boolean;
  optional: OperationResult | undefined;
}

type TableArgs = { [M in KvMethodName]: M extends `${string}Multi` ? [keys: MultiKeys, options?: KvOptions] : M extends OpName ? ArgsOf<M> : never };

type TableResults = {
  [M in KvMethodName]: M extends `${infer N extends OpName}Multi`
    ? MultiResult<Extract<ResultOf[Operations[N]['result']], Result>>
    : M extends OpName
      ? ResultOf[Operations[M]['result']]
      : never;
};

/** The method a name stands for (an alias names another). */
type Target<M extends KvCallName> = M extends KvAliasName ? (typeof KV_ALIASES)[M] : M;

export type KvArgs = { [M in KvCallName]: TableArgs[Target<M>] };

export type KvResults = { [M in KvCallName]: TableResults[Target<M>] };

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
