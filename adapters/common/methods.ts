import type { KvOptions as EngineKvOptions } from '../../lib/engine/kv/spec';
import { OPERATIONS, type OpName } from '../../lib/engine/kv/operations';

// The one table of Bucket methods all three flavours expose, derived from the engine's operation
// table: each operation is a method, and those with a *Multi variant (`hasMulti`) a
// `${name}Multi` method too. A flavour wraps each entry in its own async type (Deferred,
// Promise, blocking call); the names, argument shapes and options are the same everywhere, so
// switching flavour is switching the import path.

/**
 * How a method's arguments are laid out:
 * - `key`:      (key, options?)
 * - `keyValue`: (key, value, options?)
 * - `multi`:    (keys, options?) where keys is an array of keys or a {key: value} object / Map
 * - `stats`:    (keys?, options?)
 */
export type ArgShape = 'key' | 'keyValue' | 'multi' | 'stats';

type Operations = typeof OPERATIONS;
type WithMulti = { [N in OpName]: Operations[N]['hasMulti'] extends true ? N : never }[OpName];

export type KvMethodName = OpName | `${WithMulti}Multi`;

export interface MethodSpec {
  /** The method's name on a Bucket. */
  name: KvMethodName;
  /** The engine's operation name. */
  op: OpName;
  shape: ArgShape;
  /** For a bare second argument that is not an options object, the option it stands for. */
  positional: 'ttl' | 'cas' | 'delta' | undefined;
}

function shapeOf(op: Operations[OpName]): ArgShape {
  if (op.keyKind === 'statGroup') return 'stats';
  return op.value === 'value' ? 'keyValue' : 'key';
}

function methodsOf(ops: Operations): Record<KvMethodName, MethodSpec> {
  const out = {} as Record<KvMethodName, MethodSpec>;
  const rows = Object.values(ops);
  for (const op of rows) out[op.name] = { name: op.name, op: op.name, shape: shapeOf(op), positional: op.positional ?? undefined };
  for (const op of rows) {
    if (!op.hasMulti) continue;
    const name = `${op.name}Multi` as KvMethodName;
    out[name] = { name, op: op.name, shape: 'multi', positional: undefined };
  }
  return out;
}

export const KV_METHODS: Readonly<Record<KvMethodName, MethodSpec>> = Object.freeze(methodsOf(OPERATIONS));

export const KV_METHOD_NAMES = Object.keys(KV_METHODS) as KvMethodName[];

/**
 * Puts every KV method on a flavour's Bucket prototype: a method named after it (so stack
 * traces and `bucket.get.name` read right) that hands `dispatch` the bucket, the method's table
 * entry (looked up once, here: a lookup by name per call costs about 10 ns) and the arguments as
 * they came (no KV method takes more than three, so a call allocates no arguments array).
 */
export function defineKvMethods<B>(proto: B, dispatch: (bucket: B, spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown) => unknown): void {
  for (const name of KV_METHOD_NAMES) {
    const spec = KV_METHODS[name];
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value: {
        [name](this: B, a0?: unknown, a1?: unknown, a2?: unknown): unknown {
          return dispatch(this, spec, a0, a1, a2);
        },
      }[name],
    });
  }
}

/**
 * Options every KV method accepts (the engine's; per method it ignores what does not apply),
 * plus `signal`, which the promise flavour honours (abort -> CancelledError).
 */
export interface KvOptions extends Omit<EngineKvOptions, 'value'> {
  signal?: AbortSignal;
}

/** Keys for a *Multi call: a list of keys, or key -> value (or key -> cas for unlockMulti). */
export type MultiKeys = readonly string[] | Record<string, unknown> | Map<string, unknown>;

function isOptionsObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

/** Where normaliseInto puts a call's key and options. */
export interface KvCallTarget {
  key: unknown;
  options: Record<string, unknown>;
}

/** The method's table entry; TypeError for a name that is not a Bucket KV method. */
export function specOf(method: string): MethodSpec {
  const spec = Object.prototype.hasOwnProperty.call(KV_METHODS, method) ? KV_METHODS[method as KvMethodName] : undefined;
  if (!spec) throw new TypeError(`unknown bucket method "${method}"`);
  return spec;
}

/**
 * Turns a Bucket method's arguments into (key, options), where a keyValue method's value is
 * carried as `options.value`; throws TypeError naming the argument on nonsense input.
 * `out` is written last, after anything that can run user code (getters met by the options
 * spread), so a call made from such code cannot leave its key in a shared `out`.
 */
export function normaliseInto(out: KvCallTarget, spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown): void {
  const method = spec.name;
  switch (spec.shape) {
    case 'keyValue': {
      if (typeof a0 !== 'string') throw new TypeError(`${method}(key, value): key must be a string, got ${typeof a0}`);
      const options = a2 === undefined || a2 === null ? { value: a1 } : { ...asOptions(method, a2, undefined), value: a1 };
      out.key = a0;
      out.options = options;
      return;
    }
    case 'key':
      if (typeof a0 !== 'string') throw new TypeError(`${method}(key): key must be a string, got ${typeof a0}`);
      out.key = a0;
      out.options = asOptions(method, a1, spec.positional);
      return;
    case 'multi':
      if (!(Array.isArray(a0) || a0 instanceof Map || isOptionsObject(a0))) {
        throw new TypeError(`${method}(keys): keys must be an array of keys or a {key: value} object, got ${typeof a0}`);
      }
      out.key = a0;
      out.options = asOptions(method, a1, undefined);
      return;
    case 'stats':
      if (isOptionsObject(a0)) {
        out.key = undefined;
        out.options = a0;
      } else {
        out.key = a0;
        out.options = asOptions(method, a1, undefined);
      }
      return;
  }
}

/** Where each method shape carries its options object. */
const OPTIONS_INDEX: Record<ArgShape, number> = { key: 1, keyValue: 2, multi: 1, stats: 1 };

/** Which argument holds a call's options (stats takes them first when it is given no keys). */
export function optionsIndex(spec: MethodSpec, a0: unknown, a1: unknown): number {
  const shape = spec.shape;
  if (shape === 'stats' && a1 === undefined && typeof a0 === 'object' && a0 !== null && !Array.isArray(a0)) return 0;
  return OPTIONS_INDEX[shape];
}

/** Shared "no options": never mutated by the core or the engine, so one object serves every call. */
export const NO_OPTIONS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

function asOptions(method: string, v: unknown, positional: string | undefined): Record<string, unknown> {
  if (v === undefined || v === null) return NO_OPTIONS;
  if (isOptionsObject(v)) return v;
  if (positional) return { [positional]: v };
  throw new TypeError(`${method}(): options must be an object, got ${typeof v}`);
}
