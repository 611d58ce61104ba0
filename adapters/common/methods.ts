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
 * - `args`:     (key, ...the row's named arguments, options?) — mapAdd(key, mapkey, value, options?);
 *               a rest argument takes the remaining ones: lookupIn(key, ...specs, options?)
 * - `multi`:    (keys, options?) where keys is an array of keys, a {key: value} object / Map, or an ItemCollection
 * - `stats`:    (keys?, options?)
 */
export type ArgShape = 'key' | 'keyValue' | 'args' | 'multi' | 'stats';

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
  /** `args` shape: the options the arguments after the key become (a '...' name takes the rest). */
  args: readonly string[];
  /** `args` shape: the name of the rest argument, if the last one is. */
  rest: string | undefined;
  /** The operation takes persistTo/replicateTo (a Bucket's durability() context applies to it). */
  durable: boolean;
}

function shapeOf(op: Operations[OpName]): ArgShape {
  if (op.keyKind === 'statGroup') return 'stats';
  const args = op.args as readonly string[];
  if (args.length === 0) return 'key';
  if (args.length === 1 && args[0] === 'value') return 'keyValue';
  return 'args';
}

function methodsOf(ops: Operations): Record<KvMethodName, MethodSpec> {
  const out = {} as Record<KvMethodName, MethodSpec>;
  const rows = Object.values(ops);
  for (const op of rows) {
    const args = op.args as readonly string[];
    const last = args[args.length - 1];
    const rest = last !== undefined && last.startsWith('...') ? last.slice(3) : undefined;
    out[op.name] = { name: op.name, op: op.name, shape: shapeOf(op), positional: op.positional ?? undefined, args: rest ? args.slice(0, -1) : args, rest, durable: op.durable };
  }
  for (const op of rows) {
    if (!op.hasMulti) continue;
    const name = `${op.name}Multi` as KvMethodName;
    out[name] = { name, op: op.name, shape: 'multi', positional: undefined, args: [], rest: undefined, durable: op.durable };
  }
  return out;
}

export const KV_METHODS: Readonly<Record<KvMethodName, MethodSpec>> = Object.freeze(methodsOf(OPERATIONS));

export const KV_METHOD_NAMES = Object.keys(KV_METHODS) as KvMethodName[];

/**
 * Python's other names for some methods, each the method it names: `rget`, and the 1.x names
 * 2.x kept as deprecated (set, add, delete: they warn once, as Python's DeprecationWarning).
 */
export const KV_ALIASES = {
  rget: 'getReplica',
  rgetMulti: 'getReplicaMulti',
  set: 'upsert',
  setMulti: 'upsertMulti',
  add: 'insert',
  addMulti: 'insertMulti',
  delete: 'remove',
  deleteMulti: 'removeMulti',
} as const satisfies Record<string, KvMethodName>;

export type KvAliasName = keyof typeof KV_ALIASES;

/** Every KV method name a Bucket answers to: the table's and Python's aliases. */
export type KvCallName = KvMethodName | KvAliasName;

const DEPRECATED_ALIASES: ReadonlySet<string> = new Set(['set', 'setMulti', 'add', 'addMulti', 'delete', 'deleteMulti']);
const warned = new Set<string>();

/** Python's DeprecationWarning for a 1.x name, once per name and process. */
function warnDeprecated(alias: string, target: string): void {
  if (warned.has(alias)) return;
  warned.add(alias);
  process.emitWarning(`Bucket.${alias} is deprecated; use Bucket.${target}`, { type: 'DeprecationWarning', code: 'DEFERBASE_DEPRECATED_NAME' });
}

type Dispatch<B> = (bucket: B, spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown, a3: unknown) => unknown;

/**
 * Puts every KV method on a flavour's Bucket prototype: a method named after it (so stack
 * traces and `bucket.get.name` read right) that hands `dispatch` the bucket, the method's table
 * entry (looked up once, here: a lookup by name per call costs about 10 ns) and the arguments as
 * they came (no method takes more than four, so a call allocates no arguments array; a method
 * with a rest argument hands its rest over as one array).
 */
export function defineKvMethods<B>(proto: B, dispatch: Dispatch<B>): void {
  for (const name of KV_METHOD_NAMES) {
    const spec = KV_METHODS[name];
    const fn =
      spec.rest === undefined
        ? {
            [name](this: B, a0?: unknown, a1?: unknown, a2?: unknown, a3?: unknown): unknown {
              return dispatch(this, spec, a0, a1, a2, a3);
            },
          }[name]
        : {
            [name](this: B, a0?: unknown, ...rest: unknown[]): unknown {
              return dispatch(this, spec, a0, rest, undefined, undefined);
            },
          }[name];
    Object.defineProperty(proto, name, { configurable: true, writable: true, value: fn });
  }
  for (const [alias, target] of Object.entries(KV_ALIASES)) {
    const method = (proto as Record<string, (...a: unknown[]) => unknown>)[target];
    const deprecated = DEPRECATED_ALIASES.has(alias);
    const fn = {
      [alias](this: B, ...args: unknown[]): unknown {
        if (deprecated) warnDeprecated(alias, target);
        return method.apply(this, args);
      },
    }[alias];
    Object.defineProperty(proto, alias, { configurable: true, writable: true, value: fn });
  }
}

/**
 * Options every KV method accepts (the engine's; each method takes those its operation names and
 * refuses the others), plus `signal`, which the promise flavour honours (abort -> CancelledError).
 */
export interface KvOptions extends Omit<EngineKvOptions, 'value'> {
  signal?: AbortSignal;
}

/** Keys for a *Multi call: a list of keys, key -> per-key value, or an ItemCollection. */
export type MultiKeys = readonly string[] | Record<string, unknown> | Map<string, unknown> | import('../../lib/engine/items').ItemCollection;

/** A plain options object: not an array, a Buffer, or an instance of a class (a spec, a result). */
function isOptionsObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
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

/** A rest argument as the method got it: its values, and the trailing options object if any. */
function splitRest(rest: unknown): [unknown[], unknown] {
  const list = Array.isArray(rest) ? rest : rest === undefined ? [] : [rest];
  const last = list[list.length - 1];
  const values = isOptionsObject(last) ? list.slice(0, -1) : list;
  const options = isOptionsObject(last) ? last : undefined;
  // lookupIn(key, [spec, spec], options?) as well as lookupIn(key, spec, spec, options?)
  if (values.length === 1 && Array.isArray(values[0])) return [values[0] as unknown[], options];
  return [values, options];
}

/**
 * Turns a Bucket method's arguments into (key, options), where the arguments after the key
 * are carried as options (`options.value`, `options.mapkey`, `options.specs`...); throws
 * TypeError naming the argument on nonsense input. `out` is written last, after anything that
 * can run user code (getters met by the options spread), so a call made from such code cannot
 * leave its key in a shared `out`.
 */
export function normaliseInto(out: KvCallTarget, spec: MethodSpec, a0: unknown, a1: unknown, a2: unknown, a3?: unknown): void {
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
    case 'args': {
      if (typeof a0 !== 'string') throw new TypeError(`${method}(key, ...): key must be a string, got ${typeof a0}`);
      const given = [a1, a2, a3];
      const named: Record<string, unknown> = {};
      let user: unknown;
      if (spec.rest !== undefined) {
        const [values, options] = splitRest(a1);
        named[spec.rest] = values;
        user = options;
      } else {
        spec.args.forEach((name, i) => (named[name] = given[i]));
        user = given[spec.args.length];
      }
      const options = user === undefined || user === null ? named : { ...asOptions(method, user, undefined), ...named };
      out.key = a0;
      out.options = options;
      return;
    }
    case 'multi':
      if (!(Array.isArray(a0) || a0 instanceof Map || (typeof a0 === 'object' && a0 !== null && !Buffer.isBuffer(a0)))) {
        throw new TypeError(`${method}(keys): keys must be an array of keys, a {key: value} object or an ItemCollection, got ${typeof a0}`);
      }
      out.key = a0;
      out.options = asOptions(method, a1, undefined);
      return;
    case 'stats':
      if (isOptionsObject(a0)) {
        out.key = '';
        out.options = a0;
      } else if (Array.isArray(a0)) {
        // Python's stats(['memory', 'tap']): every group asked
        out.key = '';
        out.options = { ...asOptions(method, a1, undefined), keys: a0 };
      } else {
        out.key = a0 ?? '';
        out.options = asOptions(method, a1, undefined);
      }
      return;
  }
}

/** Where each fixed method shape carries its options object. */
const OPTIONS_INDEX: Record<'key' | 'keyValue' | 'multi' | 'stats', number> = { key: 1, keyValue: 2, multi: 1, stats: 1 };

/**
 * The options object a call was given, as [where, object]: `where` is the argument index, or -1
 * when it is the last element of the rest argument (arguments[1]). Undefined when there is none.
 */
export function callOptions(spec: MethodSpec, args: readonly unknown[]): [number, Record<string, unknown>] | undefined {
  let at: number;
  switch (spec.shape) {
    case 'args':
      if (spec.rest !== undefined) {
        const rest = args[1];
        const last = Array.isArray(rest) ? rest[rest.length - 1] : undefined;
        return isOptionsObject(last) ? [-1, last] : undefined;
      }
      at = spec.args.length + 1;
      break;
    case 'stats':
      at = isOptionsObject(args[0]) && args[1] === undefined ? 0 : 1;
      break;
    default:
      at = OPTIONS_INDEX[spec.shape];
  }
  const o = args[at];
  return isOptionsObject(o) ? [at, o] : undefined;
}

/** The call's arguments with its options object replaced by `options` (a copy; `args` is not changed). */
export function replaceOptions(spec: MethodSpec, args: readonly unknown[], where: number, options: Record<string, unknown>): unknown[] {
  const out = args.slice();
  if (where === -1) {
    const rest = (out[1] as unknown[]).slice();
    rest[rest.length - 1] = options;
    out[1] = rest;
  } else out[where] = options;
  return out;
}

/** Which argument holds a call's options, for fixed shapes (stats takes them first when it is given no keys). */
export function optionsIndex(spec: MethodSpec, a0: unknown, a1: unknown): number {
  const found = callOptions(spec, [a0, a1]);
  if (found !== undefined && found[0] >= 0) return found[0];
  if (spec.shape === 'args') return spec.rest !== undefined ? 1 : spec.args.length + 1;
  return OPTIONS_INDEX[spec.shape as keyof typeof OPTIONS_INDEX];
}

/** Shared "no options": never mutated by the core or the engine, so one object serves every call. */
export const NO_OPTIONS: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

function asOptions(method: string, v: unknown, positional: string | undefined): Record<string, unknown> {
  if (v === undefined || v === null) return NO_OPTIONS;
  if (isOptionsObject(v)) return v;
  if (positional) return { [positional]: v };
  throw new TypeError(`${method}(): options must be an object, got ${typeof v}`);
}
