import type { KvOptions as EngineKvOptions } from '../../lib/engine';

// The one table of Bucket methods all three flavours expose. A flavour wraps each entry in its
// own async type (Deferred, Promise, blocking call); the names, argument shapes and options are
// the same everywhere, so switching flavour is switching the import path.

/**
 * How a method's arguments are laid out:
 * - `key`:      (key, options?)
 * - `keyValue`: (key, value, options?)
 * - `multi`:    (keys, options?) where keys is an array of keys or a {key: value} object / Map
 * - `stats`:    (keys?, options?)
 */
export type ArgShape = 'key' | 'keyValue' | 'multi' | 'stats';

export interface MethodSpec {
  /** The engine's operation name. */
  op: string;
  shape: ArgShape;
  /** For a bare second argument that is not an options object, the option it stands for. */
  positional?: string;
}

export const KV_METHODS = {
  upsert: { op: 'upsert', shape: 'keyValue' },
  insert: { op: 'insert', shape: 'keyValue' },
  replace: { op: 'replace', shape: 'keyValue' },
  append: { op: 'append', shape: 'keyValue' },
  prepend: { op: 'prepend', shape: 'keyValue' },
  get: { op: 'get', shape: 'key' },
  touch: { op: 'touch', shape: 'key', positional: 'ttl' },
  lock: { op: 'lock', shape: 'key', positional: 'ttl' },
  unlock: { op: 'unlock', shape: 'key', positional: 'cas' },
  remove: { op: 'remove', shape: 'key' },
  counter: { op: 'counter', shape: 'key', positional: 'delta' },
  getReplica: { op: 'getReplica', shape: 'key' },
  observe: { op: 'observe', shape: 'key' },
  endure: { op: 'endure', shape: 'key' },
  stats: { op: 'stats', shape: 'stats' },

  upsertMulti: { op: 'upsert', shape: 'multi' },
  insertMulti: { op: 'insert', shape: 'multi' },
  replaceMulti: { op: 'replace', shape: 'multi' },
  appendMulti: { op: 'append', shape: 'multi' },
  prependMulti: { op: 'prepend', shape: 'multi' },
  getMulti: { op: 'get', shape: 'multi' },
  touchMulti: { op: 'touch', shape: 'multi' },
  lockMulti: { op: 'lock', shape: 'multi' },
  unlockMulti: { op: 'unlock', shape: 'multi' },
  removeMulti: { op: 'remove', shape: 'multi' },
  counterMulti: { op: 'counter', shape: 'multi' },
  getReplicaMulti: { op: 'getReplica', shape: 'multi' },
  endureMulti: { op: 'endure', shape: 'multi' },
} as const satisfies Record<string, MethodSpec>;

export type KvMethodName = keyof typeof KV_METHODS;

export const KV_METHOD_NAMES = Object.keys(KV_METHODS) as KvMethodName[];

const SPECS = new Map<string, MethodSpec>(Object.entries(KV_METHODS));

/**
 * Puts every KV method on a flavour's Bucket prototype: a method named after it (so stack
 * traces and `bucket.get.name` read right) that hands the call to `dispatch`, which wraps it in
 * the flavour's async type.
 */
export function defineKvMethods<B>(proto: B, dispatch: (bucket: B, name: KvMethodName, args: unknown[]) => unknown): void {
  for (const name of KV_METHOD_NAMES) {
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value: {
        [name](this: B, ...args: unknown[]): unknown {
          return dispatch(this, name, args);
        },
      }[name],
    });
  }
}

/**
 * Like defineKvMethods, for flavours that run the call in-process: the arguments are passed as
 * they came (no KV method takes more than three), so a call allocates no arguments array.
 */
export function defineFastKvMethods<B>(
  proto: B,
  dispatch: (bucket: B, name: KvMethodName, a0: unknown, a1: unknown, a2: unknown, spec: MethodSpec) => unknown,
): void {
  for (const name of KV_METHOD_NAMES) {
    // Looked up once here: a lookup by name per call costs about 10 ns.
    const spec = specOf(name);
    Object.defineProperty(proto, name, {
      configurable: true,
      writable: true,
      value: {
        [name](this: B, a0?: unknown, a1?: unknown, a2?: unknown): unknown {
          return dispatch(this, name, a0, a1, a2, spec);
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

/** A normalised call: what the core hands to the engine. */
export interface KvCall {
  spec: MethodSpec;
  method: string;
  key: unknown;
  options: Record<string, unknown>;
}

/** Where normaliseInto puts a call's key and options. */
export interface KvCallTarget {
  key: unknown;
  options: Record<string, unknown>;
}

/**
 * Turns a Bucket method's arguments into (key, options), where a keyValue method's value is
 * carried as `options.value`. Throws TypeError naming the argument on nonsense input.
 */
export function normaliseCall(method: string, args: readonly unknown[]): KvCall {
  const spec = specOf(method);
  const call: KvCall = { spec, method, key: undefined, options: NO_OPTIONS };
  normaliseInto(call, spec, method, args[0], args[1], args[2]);
  return call;
}

/** The method's table entry; TypeError for a name that is not a Bucket KV method. */
export function specOf(method: string): MethodSpec {
  const spec = SPECS.get(method);
  if (!spec) throw new TypeError(`unknown bucket method "${method}"`);
  return spec;
}

/**
 * normaliseCall without the arguments array or the result object (the per-operation path).
 * `out` is written last, after anything that can run user code (getters met by the options
 * spread), so a call made from such code cannot leave its key in a shared `out`.
 */
export function normaliseInto(out: KvCallTarget, spec: MethodSpec, method: string, a0: unknown, a1: unknown, a2: unknown): void {
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
