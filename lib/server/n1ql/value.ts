// N1QL values are plain JSON values held as JS values, with one addition: MISSING, which is
// `undefined`. That choice makes JSON.stringify do what Couchbase does for free: a MISSING field
// disappears from an object and a MISSING array element becomes null.
//
// Integers beyond 2^53 are bigints (see ./int64): every bigint Value is such a number.
//
// Values read from documents are shared between requests (parsed once per stored document), so
// every function here treats its inputs as read-only and copies before changing anything.

import { compareBig } from './int64';

export type Value = undefined | null | boolean | number | bigint | string | Value[] | { [k: string]: Value };
export type ObjectValue = { [k: string]: Value };

export const MISSING = undefined;

/** Collation rank of each N1QL type: MISSING < NULL < false < true < number < string < array < object. */
export const enum Rank {
  Missing = 0,
  Null = 1,
  Boolean = 2,
  Number = 3,
  String = 4,
  Array = 5,
  Object = 6,
  Binary = 7,
}

export function rank(v: Value): Rank {
  switch (typeof v) {
    case 'undefined':
      return Rank.Missing;
    case 'boolean':
      return Rank.Boolean;
    case 'number':
    case 'bigint':
      return Rank.Number;
    case 'string':
      return Rank.String;
    case 'object':
      if (v === null) return Rank.Null;
      return Array.isArray(v) ? Rank.Array : Rank.Object;
    default:
      return Rank.Binary;
  }
}

const TYPE_NAMES = ['missing', 'null', 'boolean', 'number', 'string', 'array', 'object', 'binary'];

/** The name TYPE() returns. */
export function typeName(v: Value): string {
  return TYPE_NAMES[rank(v)];
}

export function isObject(v: Value): v is ObjectValue {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// Documents are data. Field names such as `__proto__`, `constructor` or `toString` are ordinary
// names of the document: a read sees only the object's own fields (never what JavaScript
// inherits from Object.prototype), and a write always lands as an own field (a plain
// `o.__proto__ = v` would change the object's prototype instead). Every read or write of a
// user-chosen name goes through these two.

/** The object's own field `name`, or MISSING. */
export function getField(o: ObjectValue, name: string): Value {
  const v = o[name];
  // Inherited members of Object.prototype are all functions, except the `__proto__` accessor.
  if (typeof v === 'function' || (name === '__proto__' && !Object.hasOwn(o, name))) return undefined;
  return v;
}

/** Sets the own field `name` of `o`, whatever the name. */
export function setField(o: Record<string, unknown>, name: string, v: unknown): void {
  if (name === '__proto__') Object.defineProperty(o, name, { value: v, writable: true, enumerable: true, configurable: true });
  else o[name] = v;
}

function compareStrings(a: string, b: string): number {
  // Couchbase compares strings byte by byte in UTF-8; UTF-16 code unit order agrees except for
  // astral characters against U+E000..U+FFFF, which is good enough to be worth the speed.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Total order over all values (N1QL collation), as used by ORDER BY, MIN/MAX and indexes. */
export function collate(a: Value, b: Value): number {
  // Fast paths for the common same-type scalars (index builds sort millions of these).
  const ta = typeof a;
  if (ta === typeof b) {
    if (ta === 'string') return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    if (ta === 'number') return compareNumbers(a as number, b as number);
  }
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case Rank.Boolean:
      return a === b ? 0 : a ? 1 : -1;
    case Rank.Number:
      return typeof a === 'bigint' || typeof b === 'bigint' ? compareBig(a as number | bigint, b as number | bigint) : compareNumbers(a as number, b as number);
    case Rank.String:
      return compareStrings(a as string, b as string);
    case Rank.Array: {
      const x = a as Value[];
      const y = b as Value[];
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = collate(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
    case Rank.Object:
      return compareObjects(a as ObjectValue, b as ObjectValue, collate) as number;
    default:
      return 0;
  }
}

/**
 * Objects in Couchbase's order: fewer fields first; then, name by name in sorted order over both
 * objects' names, the object that lacks the name is the greater, else the first pair of values
 * that `cmp` does not find equal decides (a NULL or MISSING answer of `cmp` included).
 */
function compareObjects(x: ObjectValue, y: ObjectValue, cmp: (a: Value, b: Value) => number | null | undefined): number | null | undefined {
  const kx = Object.keys(x).filter((k) => x[k] !== undefined);
  const ky = Object.keys(y).filter((k) => y[k] !== undefined);
  if (kx.length !== ky.length) return kx.length - ky.length;
  const names = [...new Set([...kx, ...ky])].sort(compareStrings);
  for (const k of names) {
    if (!Object.hasOwn(x, k) || x[k] === undefined) return 1;
    if (!Object.hasOwn(y, k) || y[k] === undefined) return -1;
    const c = cmp(x[k], y[k]);
    if (c !== 0) return c;
  }
  return 0;
}

/** Number order as Couchbase collates it: NaN first (equal to itself), then -Infinity ... +Infinity. */
export function compareNumbers(a: number, b: number): number {
  const d = a - b;
  if (d === d) return d || 0;
  if (a !== a) return b !== b ? 0 : -1;
  return b !== b ? 1 : 0; // the same infinity twice
}

/**
 * The `=` operator: true, false, NULL or MISSING. Arrays and objects compare element by element
 * with the same rule: any unequal pair makes them unequal; otherwise a MISSING pair makes the
 * result MISSING and a NULL pair NULL, so `[1, null] = [1, null]` is NULL, as NULL = NULL is.
 * (ORDER BY, DISTINCT and GROUP BY use the total order of `collate` instead, where they are equal.)
 */
export function equality(a: Value, b: Value): boolean | null | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (a === null || b === null) return null;
  const ta = typeof a;
  if (ta === typeof b && ta !== 'object') return ta === 'number' ? compareNumbers(a as number, b as number) === 0 : a === b;
  const ra = rank(a);
  const rb = rank(b);
  if (ra === Rank.Number && rb === Rank.Number) return collate(a, b) === 0;
  if (ra !== rb || ra < Rank.Array) return false;
  let result: boolean | null | undefined = true;
  const pair = (x: Value, y: Value): boolean => {
    const e = equality(x, y);
    if (e === false) return false;
    if (e === undefined) result = undefined;
    else if (e === null && result === true) result = null;
    return true;
  };
  if (ra === Rank.Array) {
    const x = a as Value[];
    const y = b as Value[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!pair(x[i], y[i])) return false;
    return result;
  }
  const x = a as ObjectValue;
  const y = b as ObjectValue;
  const kx = Object.keys(x).filter((k) => x[k] !== undefined);
  if (kx.length !== Object.keys(y).filter((k) => y[k] !== undefined).length) return false;
  for (const k of kx) if (!Object.hasOwn(y, k) || y[k] === undefined || !pair(x[k], y[k])) return false;
  return result;
}

/** Whether `=` is TRUE (ARRAY_CONTAINS, IN, CASE and the other tests that need a match). */
export function equals(a: Value, b: Value): boolean {
  return equality(a, b) === true;
}

/**
 * The `<`, `<=`, `>`, `>=` and BETWEEN comparison: the sign of a - b, or NULL / MISSING. Arrays
 * (element by element) and objects (name by name) are decided by the first pair that is not
 * equal, so a NULL or MISSING value met before any difference makes the comparison unknown.
 */
export function comparison(a: Value, b: Value): number | null | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (a === null || b === null) return null;
  if (isObject(a) && isObject(b)) return compareObjects(a, b, comparison);
  if (!Array.isArray(a) || !Array.isArray(b)) return collate(a, b);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = comparison(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Truth value of a condition (WHERE, HAVING, WHEN, SATISFIES): only a "truthy" valued result passes. */
export function truthy(v: Value): boolean {
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0 && !Number.isNaN(v);
    case 'bigint':
      return true;
    case 'string':
      return v.length > 0;
    case 'object':
      if (v === null) return false;
      return Array.isArray(v) ? v.length > 0 : Object.keys(v).length > 0;
    default:
      return false;
  }
}

/** Three-valued boolean of a value used as an operand of AND/OR/NOT: true, false, null or MISSING. */
export function logical(v: Value): boolean | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  return truthy(v);
}

/** Deep copy, for when a shared document value is about to be changed. */
export function clone<T extends Value>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(clone) as T;
  const out: ObjectValue = {};
  for (const k of Object.keys(v)) setField(out, k, clone((v as ObjectValue)[k]));
  return out as T;
}

/** A copy of an object with its keys in sorted order (how Couchbase serialises objects it builds). */
export function sortedObject(entries: [string, Value][]): ObjectValue {
  entries.sort((x, y) => compareStrings(x[0], y[0]));
  const out: ObjectValue = {};
  for (const [k, v] of entries) if (v !== undefined) setField(out, k, v);
  return out;
}

/** A key that is equal for values that are N1QL-equal (used by DISTINCT, GROUP BY, set operators). */
export function valueKey(v: Value): string {
  if (v === undefined) return 'm';
  if (typeof v !== 'object' || v === null) return scalarKey(v);
  return canonical(v);
}

function scalarKey(v: Value): string {
  // A bigint never equals a number (each integer has one representation); NaN and infinities are keys of their own.
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return JSON.stringify(v);
}

function canonical(v: Value): string {
  if (v === undefined) return 'null';
  if (typeof v !== 'object' || v === null) return scalarKey(v);
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  const keys = Object.keys(v).filter((k) => (v as ObjectValue)[k] !== undefined).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonical((v as ObjectValue)[k])).join(',') + '}';
}
