// The scalar function library: one table, name -> arity and implementation. Most functions
// share Couchbase's propagation rule (any MISSING argument -> MISSING, else any NULL -> NULL),
// expressed by the `strict` flag so implementations only see valued arguments.
import { randomUUID } from 'node:crypto';
import { clone, collate, equals, getField, isObject, rank, Rank, sortedObject, truthy, typeName, valueKey, type ObjectValue, type Value } from './value';
import { byteOffset, compileRegexp } from './regexp';
import { dateAddMillis, dateDiffMillis, datePartMillis, dateTruncMillis, millisToStr, strToMillis, weekdayMillis } from './dates';

export interface FunctionContext {
  /** Statement start time (NOW_* functions return the same value for the whole statement). */
  readonly now: number;
  /** Throws the timeout error (1080) past the statement's deadline; loops over elements call it. */
  checkDeadline(): void;
}

interface FunctionDef {
  min: number;
  max: number;
  /** MISSING/NULL arguments short-circuit before `fn` runs. */
  strict: boolean;
  fn: (args: Value[], ctx: FunctionContext) => Value;
}

const INF = Number.POSITIVE_INFINITY;
const table = new Map<string, FunctionDef>();

function def(names: string, min: number, max: number, fn: FunctionDef['fn'], strict = true): void {
  for (const name of names.split(',')) table.set(name, { min, max, strict, fn });
}

export function lookupFunction(name: string): FunctionDef | undefined {
  return table.get(name);
}

const isNum = (v: Value): v is number => typeof v === 'number';
const isStr = (v: Value): v is string => typeof v === 'string';
const isArr = (v: Value): v is Value[] => Array.isArray(v);

function num1(f: (x: number) => number): FunctionDef['fn'] {
  return ([x]) => (isNum(x) ? finite(f(x)) : null);
}

function finite(x: number): Value {
  // JSON has no NaN/Infinity; Couchbase returns them as strings in some places, null is safer.
  return Number.isFinite(x) ? x : x === INF ? '+Infinity' : x === -INF ? '-Infinity' : 'NaN';
}

function str1(f: (s: string) => Value): FunctionDef['fn'] {
  return ([s]) => (isStr(s) ? f(s) : null);
}

// ---- strings ----
def('lower', 1, 1, str1((s) => s.toLowerCase()));
def('upper', 1, 1, str1((s) => s.toUpperCase()));
def('length', 1, 1, str1((s) => Buffer.byteLength(s)));
def('reverse', 1, 1, str1((s) => [...s].reverse().join('')));
def('initcap,title', 1, 1, str1((s) => s.toLowerCase().replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_, a: string, b: string) => a + b.toUpperCase())));
def('concat', 2, INF, (args) => (args.every(isStr) ? (args as string[]).join('') : null));
def('concat2', 2, INF, (args) => {
  const sep = args[0];
  if (!isStr(sep)) return null;
  const parts: string[] = [];
  for (const a of args.slice(1)) {
    if (isStr(a)) parts.push(a);
    else if (isArr(a) && a.every(isStr)) parts.push(...(a as string[]));
    else return null;
  }
  return parts.join(sep);
});
def('contains', 2, 2, ([s, sub]) => (isStr(s) && isStr(sub) ? s.includes(sub) : null));
def('position,position0', 2, 2, ([s, sub]) => (isStr(s) && isStr(sub) ? s.indexOf(sub) : null));
def('position1', 2, 2, ([s, sub]) => (isStr(s) && isStr(sub) ? s.indexOf(sub) + 1 : null));
def('repeat', 2, 2, ([s, n]) => (isStr(s) && isNum(n) && n >= 0 && Number.isInteger(n) ? s.repeat(n) : null));
def('replace', 3, 4, ([s, from, to, n]) => {
  if (!isStr(s) || !isStr(from) || !isStr(to) || (n !== undefined && !isNum(n))) return null;
  if (n === undefined || n < 0) return s.split(from).join(to);
  let out = s;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const k = out.indexOf(from, at);
    if (k < 0) break;
    out = out.slice(0, k) + to + out.slice(k + from.length);
    at = k + to.length;
  }
  return out;
});
const trimChars = (chars: Value): string | null => (chars === undefined ? ' \t\n\f\r' : isStr(chars) ? chars : null);
function trimmer(left: boolean, right: boolean): FunctionDef['fn'] {
  return ([s, c]) => {
    const chars = trimChars(c);
    if (!isStr(s) || chars === null) return null;
    let a = 0;
    let b = s.length;
    if (left) while (a < b && chars.includes(s[a])) a++;
    if (right) while (b > a && chars.includes(s[b - 1])) b--;
    return s.slice(a, b);
  };
}
def('trim', 1, 2, trimmer(true, true));
def('ltrim', 1, 2, trimmer(true, false));
def('rtrim', 1, 2, trimmer(false, true));
def('split', 1, 2, ([s, sep]) => {
  if (!isStr(s)) return null;
  if (sep === undefined) return s.split(/\s+/).filter((x) => x.length > 0);
  if (!isStr(sep)) return null;
  return s.split(sep);
});
function substr(base: number): FunctionDef['fn'] {
  return ([s, p, l]) => {
    if (!isStr(s) || !isNum(p) || (l !== undefined && !isNum(l))) return null;
    let start = Math.trunc(p) - base;
    if (p < 0) start = s.length + Math.trunc(p);
    if (start < 0 || start > s.length) return null;
    if (l === undefined) return s.slice(start);
    if (l < 0) return null;
    return s.slice(start, start + Math.trunc(l));
  };
}
def('substr,substr0', 2, 3, substr(0));
def('substr1', 2, 3, substr(1));
def('suffixes', 1, 1, str1((s) => Array.from({ length: s.length }, (_, i) => s.slice(i))));
def('lpad', 2, 3, ([s, n, c]) => (isStr(s) && isNum(n) && (c === undefined || isStr(c)) ? pad(s, n, c ?? ' ', true) : null));
def('rpad', 2, 3, ([s, n, c]) => (isStr(s) && isNum(n) && (c === undefined || isStr(c)) ? pad(s, n, c ?? ' ', false) : null));
function pad(s: string, n: number, c: string, left: boolean): string {
  if (s.length >= n) return s.slice(0, n);
  if (!c) return s;
  const fill = c.repeat(Math.ceil((n - s.length) / c.length)).slice(0, n - s.length);
  return left ? fill + s : s + fill;
}
def('tokens', 1, 2, ([v]) => {
  const out = new Map<string, Value>();
  const walk = (x: Value): void => {
    if (isStr(x)) for (const t of x.split(/[^\p{L}\p{N}]+/u)) if (t) out.set(JSON.stringify(t), t);
    else if (isNum(x) || typeof x === 'boolean') out.set(JSON.stringify(x), x);
    else if (isArr(x)) x.forEach(walk);
    else if (isObject(x)) for (const k of Object.keys(x)) { walk(k); walk(x[k]); }
  };
  walk(v);
  return [...out.values()];
});
// Regular expressions run on RE2 (./regexp): linear time, RE2 syntax, Go's byte positions.
def('regexp_contains,regex_contains,contains_regexp,contains_regex', 2, 2, ([s, p]) => (isStr(s) && isStr(p) ? compileRegexp(p).contains(s) : null));
def('regexp_like,regex_like', 2, 2, ([s, p]) => (isStr(s) && isStr(p) ? compileRegexp(p).matchesAll(s) : null));
function regexpPosition(base: number): FunctionDef['fn'] {
  return ([s, p]) => {
    if (!isStr(s) || !isStr(p)) return null;
    const at = compileRegexp(p).firstIndex(s);
    return at ? byteOffset(s, at[0]) + base : -1;
  };
}
def('regexp_position,regexp_pos,regex_position,regex_pos,regexp_position0,regexp_pos0,regex_position0,regex_pos0', 2, 2, regexpPosition(0));
def('regexp_position1,regexp_pos1,regex_position1,regex_pos1', 2, 2, regexpPosition(1));
def('regexp_replace,regex_replace', 3, 4, ([s, p, r, n]) => {
  if (!isStr(s) || !isStr(p) || !isStr(r) || (n !== undefined && !isNum(n))) return null;
  if (n !== undefined && !Number.isInteger(n)) return null;
  // The replacement is literal text (Go's ReplaceAllLiteralString); with n, only the first n matches.
  let left = n === undefined ? Infinity : n;
  let out = '';
  let at = 0;
  for (const [a, b] of compileRegexp(p).allIndexes(s)) {
    if (left-- <= 0) break;
    out += s.slice(at, a) + r;
    at = b;
  }
  return out + s.slice(at);
});
def('regexp_matches', 2, 2, ([s, p]) => (isStr(s) && isStr(p) ? compileRegexp(p).allIndexes(s).map(([a, b]) => s.slice(a, b)) : null));
def('regexp_split', 2, 2, ([s, p]) => {
  if (!isStr(s) || !isStr(p)) return null;
  // As Couchbase splits: an empty match at the very start is skipped, no empty tail after a final match.
  const out: string[] = [];
  let start = 0;
  for (const [a, b] of compileRegexp(p).allIndexes(s)) {
    if (a === b && a === 0) continue;
    out.push(s.slice(start, a));
    start = b;
  }
  if (out.length && start < s.length) out.push(s.slice(start));
  return out;
});

// ---- numbers ----
def('abs', 1, 1, num1(Math.abs));
def('acos', 1, 1, num1(Math.acos));
def('asin', 1, 1, num1(Math.asin));
def('atan', 1, 1, num1(Math.atan));
def('atan2', 2, 2, ([y, x]) => (isNum(y) && isNum(x) ? Math.atan2(y, x) : null));
def('ceil', 1, 1, num1(Math.ceil));
def('floor', 1, 1, num1(Math.floor));
def('cos', 1, 1, num1(Math.cos));
def('sin', 1, 1, num1(Math.sin));
def('tan', 1, 1, num1(Math.tan));
def('degrees', 1, 1, num1((x) => (x * 180) / Math.PI));
def('radians', 1, 1, num1((x) => (x * Math.PI) / 180));
def('e', 0, 0, () => Math.E);
def('pi', 0, 0, () => Math.PI);
def('exp', 1, 1, num1(Math.exp));
def('ln', 1, 1, num1(Math.log));
def('log', 1, 1, num1(Math.log10));
def('power', 2, 2, ([a, b]) => (isNum(a) && isNum(b) ? finite(a ** b) : null));
def('sqrt', 1, 1, num1(Math.sqrt));
def('sign', 1, 1, num1(Math.sign));
def('random', 0, 1, () => Math.random());
function roundTo(x: number, digits: number, mode: 'round' | 'trunc'): number {
  const f = 10 ** digits;
  if (mode === 'trunc') return Math.trunc(x * f) / f;
  // Couchbase rounds half away from zero ("round half up" on the magnitude).
  const r = Math.round(Math.abs(x) * f) / f;
  return x < 0 ? -r : r;
}
def('round', 1, 2, ([x, d]) => (isNum(x) && (d === undefined || isNum(d)) ? roundTo(x, Math.trunc(d ?? 0), 'round') : null));
def('trunc', 1, 2, ([x, d]) => (isNum(x) && (d === undefined || isNum(d)) ? roundTo(x, Math.trunc(d ?? 0), 'trunc') : null));
def('idiv', 2, 2, ([a, b]) => (isNum(a) && isNum(b) && Math.trunc(b) !== 0 ? Math.trunc(Math.trunc(a) / Math.trunc(b)) : null));
def('imod', 2, 2, ([a, b]) => (isNum(a) && isNum(b) && Math.trunc(b) !== 0 ? Math.trunc(a) % Math.trunc(b) : null));

// ---- arrays ----
function arr1(f: (a: Value[], rest: Value[]) => Value): FunctionDef['fn'] {
  return (args) => (isArr(args[0]) ? f(args[0], args.slice(1)) : null);
}
const numbersOf = (a: Value[]): number[] => a.filter(isNum);
def('array_append', 2, INF, arr1((a, rest) => [...a, ...rest]));
def('array_prepend', 2, INF, (args) => {
  const a = args[args.length - 1];
  return isArr(a) ? [...args.slice(0, -1), ...a] : null;
});
def('array_avg', 1, 1, arr1((a) => {
  const n = numbersOf(a);
  return n.length ? n.reduce((x, y) => x + y, 0) / n.length : null;
}));
def('array_sum', 1, 1, arr1((a) => numbersOf(a).reduce((x, y) => x + y, 0)));
def('array_count', 1, 1, arr1((a) => a.filter((x) => x !== null && x !== undefined).length));
def('array_length', 1, 1, arr1((a) => a.length));
def('array_concat', 2, INF, (args) => (args.every(isArr) ? ([] as Value[]).concat(...(args as Value[][])) : null));
def('array_contains', 2, 2, arr1((a, [v]) => a.some((x) => equals(x, v))));
def('array_distinct', 1, 1, arr1((a) => distinctValues(a.filter((x) => x !== undefined))));
def('array_flatten', 2, 2, arr1((a, [d]) => (isNum(d) ? flatten(a, d < 0 ? INF : d) : null)));
def('array_ifnull', 1, 1, arr1((a) => a.find((x) => x !== null && x !== undefined) ?? null));
def('array_insert', 3, INF, arr1((a, [p, ...vals]) => {
  if (!isNum(p)) return null;
  const i = p < 0 ? a.length + p : p;
  if (i < 0 || i > a.length) return null;
  return [...a.slice(0, i), ...vals, ...a.slice(i)];
}));
def('array_intersect', 2, INF, (args) => {
  if (!args.every(isArr)) return null;
  const [first, ...rest] = args as Value[][];
  return distinctValues(first.filter((x) => rest.every((r) => r.some((y) => equals(x, y)))));
});
def('array_max', 1, 1, arr1((a) => extreme(a, 1)));
def('array_min', 1, 1, arr1((a) => extreme(a, -1)));
def('array_position,array_pos', 2, 2, arr1((a, [v]) => a.findIndex((x) => equals(x, v))));
def('array_put', 2, INF, arr1((a, vals) => {
  const out = [...a];
  for (const v of vals) if (!out.some((x) => equals(x, v))) out.push(v);
  return out;
}));
def('array_range', 2, 3, ([s, e, step]) => {
  if (!isNum(s) || !isNum(e) || (step !== undefined && !isNum(step))) return null;
  const st = step ?? 1;
  if (st === 0) return [];
  const out: number[] = [];
  for (let x = s; st > 0 ? x < e : x > e; x += st) {
    out.push(x);
    if (out.length > 1_000_000) break;
  }
  return out;
});
def('array_remove', 2, INF, arr1((a, vals) => a.filter((x) => !vals.some((v) => equals(x, v)))));
def('array_repeat', 2, 2, ([v, n]) => (isNum(n) && n >= 0 ? Array.from({ length: Math.trunc(n) }, () => v ?? null) : null), false);
def('array_replace', 3, 4, arr1((a, [from, to, n]) => {
  let left = isNum(n) ? n : INF;
  return a.map((x) => (left > 0 && equals(x, from) ? (left--, to) : x));
}));
def('array_reverse', 1, 1, arr1((a) => [...a].reverse()));
def('array_sort', 1, 1, arr1((a) => [...a].sort(collate)));
def('array_union', 2, INF, (args) => (args.every(isArr) ? distinctValues(([] as Value[]).concat(...(args as Value[][]))) : null));
def('array_except', 2, 2, ([a, b]) => (isArr(a) && isArr(b) ? a.filter((x) => !b.some((y) => equals(x, y))) : null));
def('array_symdiff,array_symdiff1', 2, INF, (args) => {
  if (!args.every(isArr)) return null;
  const all = distinctValues(([] as Value[]).concat(...(args as Value[][]).map((a) => distinctValues(a))));
  return all.filter((x) => (args as Value[][]).filter((a) => a.some((y) => equals(x, y))).length === 1);
});
def('array_star', 1, 1, arr1((a) => starObject(a)));
def('array_binary_search', 2, 2, arr1((a, [v]) => {
  let lo = 0;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = collate(a[mid], v);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}));

export function distinctValues(a: Value[]): Value[] {
  const seen = new Set<string>();
  const out: Value[] = [];
  for (const v of a) {
    const k = valueKey(v);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(v);
    }
  }
  return out;
}

function flatten(a: Value[], depth: number): Value[] {
  const out: Value[] = [];
  for (const v of a) {
    if (isArr(v) && depth > 0) out.push(...flatten(v, depth - 1));
    else out.push(v);
  }
  return out;
}

function extreme(a: Value[], sign: number): Value {
  let best: Value = null;
  for (const v of a) {
    if (v === null || v === undefined) continue;
    if (best === null || collate(v, best) * sign > 0) best = v;
  }
  return best;
}

/** `arr[*]` on an array of objects: one object whose fields are arrays of the elements' fields. */
export function starObject(a: Value[]): Value {
  const names = new Set<string>();
  for (const v of a) if (isObject(v)) for (const k of Object.keys(v)) names.add(k);
  const out: [string, Value][] = [];
  for (const k of names) out.push([k, a.map((v) => (isObject(v) ? getField(v, k) ?? null : null))]);
  return sortedObject(out);
}

// ---- objects ----
function obj1(f: (o: ObjectValue, rest: Value[]) => Value): FunctionDef['fn'] {
  return (args) => (isObject(args[0]) ? f(args[0], args.slice(1)) : null);
}
const sortedKeys = (o: ObjectValue): string[] => Object.keys(o).filter((k) => o[k] !== undefined).sort();
def('object_length', 1, 1, obj1((o) => sortedKeys(o).length));
def('object_names', 1, 1, obj1((o) => sortedKeys(o)));
def('object_values', 1, 1, obj1((o) => sortedKeys(o).map((k) => o[k])));
def('object_pairs', 1, 1, obj1((o) => sortedKeys(o).map((k) => ({ name: k, val: o[k] }))));
def('object_inner_pairs', 1, 1, obj1((o) => sortedKeys(o).filter((k) => !isObject(o[k]) && !isArr(o[k])).map((k) => ({ name: k, val: o[k] }))));
def('object_inner_values', 1, 1, obj1((o) => sortedKeys(o).filter((k) => !isObject(o[k]) && !isArr(o[k])).map((k) => o[k])));
def('object_add', 3, 3, obj1((o, [k, v]) => {
  if (!isStr(k)) return null;
  if (getField(o, k) !== undefined) return o;
  return sortedObject([...Object.entries(o), [k, v]]);
}), false);
def('object_put', 3, 3, obj1((o, [k, v]) => (isStr(k) ? sortedObject([...Object.entries(o).filter(([n]) => n !== k), [k, v]]) : null)), false);
def('object_remove', 2, INF, obj1((o, names) => sortedObject(Object.entries(o).filter(([n]) => !names.includes(n)))));
def('object_rename', 3, 3, obj1((o, [from, to]) => (isStr(from) && isStr(to) ? sortedObject(Object.entries(o).map(([n, v]) => [n === from ? to : n, v])) : null)));
def('object_replace', 3, 3, obj1((o, [from, to]) => sortedObject(Object.entries(o).map(([n, v]) => [n, equals(v, from) ? to : v]))), false);
def('object_unwrap', 1, 1, obj1((o) => {
  const keys = sortedKeys(o);
  return keys.length === 1 ? o[keys[0]] : null;
}));
def('object_concat', 2, INF, (args) => (args.every(isObject) ? sortedObject((args as ObjectValue[]).flatMap((o) => Object.entries(o))) : null));
def('object_field', 2, 2, ([o, k]) => (isObject(o) && isStr(k) ? getField(o, k) : null));

// ---- types ----
def('type,typename', 1, 1, ([v]) => typeName(v), false);
def('isarray,is_array', 1, 1, ([v]) => isArr(v));
def('isatom,is_atom', 1, 1, ([v]) => rank(v) >= Rank.Boolean && rank(v) <= Rank.String);
def('isboolean,is_boolean,isbool,is_bool', 1, 1, ([v]) => typeof v === 'boolean');
def('isnumber,is_number,isnum,is_num', 1, 1, ([v]) => isNum(v));
def('isobject,is_object,isobj,is_obj', 1, 1, ([v]) => isObject(v));
def('isstring,is_string,isstr,is_str', 1, 1, ([v]) => isStr(v));
def('toarray,to_array', 1, 1, ([v]) => (isArr(v) ? v : [v]));
def('toatom,to_atom', 1, 1, ([v]) => {
  if (isArr(v)) return v.length === 1 ? toAtom(v[0]) : null;
  return toAtom(v);
});
function toAtom(v: Value): Value {
  if (isObject(v)) {
    const k = Object.keys(v);
    return k.length === 1 ? toAtom(v[k[0]]) : null;
  }
  if (isArr(v)) return v.length === 1 ? toAtom(v[0]) : null;
  return v;
}
def('toboolean,to_boolean,tobool,to_bool', 1, 1, ([v]) => (isStr(v) ? v.length > 0 && v !== 'false' : truthy(v)));
def('tonumber,to_number,tonum,to_num', 1, 1, ([v]) => {
  if (isNum(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isStr(v)) {
    const t = v.trim();
    if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
    return Number(t);
  }
  return null;
});
def('toobject,to_object,toobj,to_obj', 1, 1, ([v]) => (isObject(v) ? v : {}));
def('tostring,to_string,tostr,to_str', 1, 1, ([v]) => (isStr(v) ? v : isNum(v) || typeof v === 'boolean' ? JSON.stringify(v) : null));

// ---- conditionals on unknowns (not strict: they look at MISSING and NULL) ----
def('ifmissing', 2, INF, (args) => args.find((a) => a !== undefined) ?? null, false);
def('ifmissingornull,coalesce', 2, INF, (args) => args.find((a) => a !== undefined && a !== null) ?? null, false);
def('ifnull', 2, INF, (args) => {
  for (const a of args) if (a !== null) return a;
  return null;
}, false);
def('missingif', 2, 2, ([a, b]) => (a === undefined || b === undefined ? undefined : a === null || b === null ? null : equals(a, b) ? undefined : a), false);
def('nullif', 2, 2, ([a, b]) => (a === undefined || b === undefined ? undefined : a === null || b === null ? null : equals(a, b) ? null : a), false);
def('ifinf', 2, INF, (args) => pickNum(args, (x) => x !== '+Infinity' && x !== '-Infinity'), false);
def('ifnan', 2, INF, (args) => pickNum(args, (x) => x !== 'NaN'), false);
def('ifnanorinf', 2, INF, (args) => pickNum(args, (x) => x !== 'NaN' && x !== '+Infinity' && x !== '-Infinity'), false);
function pickNum(args: Value[], ok: (x: Value) => boolean): Value {
  for (const a of args) {
    if (a === undefined) return undefined;
    if (!isNum(a) && !isStr(a)) return null;
    if (ok(a)) return a;
  }
  return null;
}
def('greatest', 2, INF, (args) => extreme(args, 1), false);
def('least', 2, INF, (args) => extreme(args, -1), false);
def('decode', 3, INF, (args) => {
  const [e, ...rest] = args;
  for (let i = 0; i + 1 < rest.length; i += 2) if (e !== undefined && e !== null && equals(e, rest[i])) return rest[i + 1];
  return rest.length % 2 === 1 ? rest[rest.length - 1] : null;
}, false);

// ---- json / misc ----
def('encode_json', 1, 1, ([v]) => JSON.stringify(v), false);
def('decode_json', 1, 1, str1((s) => {
  try {
    return JSON.parse(s) as Value;
  } catch {
    return null;
  }
}));
def('encoded_size', 1, 1, ([v]) => Buffer.byteLength(JSON.stringify(v) ?? ''), false);
def('poly_length', 1, 1, ([v]) => (isStr(v) ? Buffer.byteLength(v) : isArr(v) ? v.length : isObject(v) ? Object.keys(v).length : null));
def('base64,base64_encode,encode_base64', 1, 1, ([v]) => Buffer.from(JSON.stringify(v)).toString('base64'));
def('base64_decode,decode_base64', 1, 1, str1((s) => {
  try {
    return JSON.parse(Buffer.from(s, 'base64').toString()) as Value;
  } catch {
    return null;
  }
}));
def('uuid', 0, 0, () => randomUUID());
def('copy', 1, 1, ([v]) => clone(v));

// ---- dates ----
def('now_millis,now_local', 0, 0, (_, ctx) => ctx.now);
def('clock_millis', 0, 0, () => Date.now());
def('now_str,now_utc', 0, 1, ([fmt], ctx) => millisToStr(ctx.now, isStr(fmt) ? fmt : undefined), false);
def('clock_str,clock_utc,clock_local', 0, 1, ([fmt]) => millisToStr(Date.now(), isStr(fmt) ? fmt : undefined), false);
def('millis,str_to_millis', 1, 2, str1((s) => strToMillis(s)));
def('millis_to_str,millis_to_utc,millis_to_local', 1, 2, ([ms, fmt]) => (isNum(ms) && (fmt === undefined || isStr(fmt)) ? millisToStr(ms, fmt) : null));
def('str_to_utc', 1, 1, str1((s) => {
  const ms = strToMillis(s);
  return ms === null ? null : millisToStr(ms, s);
}));
def('date_add_millis', 3, 3, ([ms, n, part]) => (isNum(ms) && isNum(n) && isStr(part) ? dateAddMillis(ms, n, part) : null));
def('date_add_str', 3, 3, ([s, n, part]) => {
  if (!isStr(s) || !isNum(n) || !isStr(part)) return null;
  const ms = strToMillis(s);
  if (ms === null) return null;
  const r = dateAddMillis(ms, n, part);
  return r === null ? null : millisToStr(r, s);
});
def('date_diff_millis', 3, 3, ([a, b, part]) => (isNum(a) && isNum(b) && isStr(part) ? dateDiffMillis(a, b, part) : null));
def('date_diff_str', 3, 3, ([a, b, part]) => {
  if (!isStr(a) || !isStr(b) || !isStr(part)) return null;
  const x = strToMillis(a);
  const y = strToMillis(b);
  return x === null || y === null ? null : dateDiffMillis(x, y, part);
});
def('date_part_millis', 2, 3, ([ms, part]) => (isNum(ms) && isStr(part) ? datePartMillis(ms, part) : null));
def('date_part_str', 2, 2, ([s, part]) => {
  if (!isStr(s) || !isStr(part)) return null;
  const ms = strToMillis(s);
  return ms === null ? null : datePartMillis(ms, part);
});
def('date_trunc_millis', 2, 2, ([ms, part]) => (isNum(ms) && isStr(part) ? dateTruncMillis(ms, part) : null));
def('date_trunc_str', 2, 2, ([s, part]) => {
  if (!isStr(s) || !isStr(part)) return null;
  const ms = strToMillis(s);
  if (ms === null) return null;
  const r = dateTruncMillis(ms, part);
  return r === null ? null : millisToStr(r, s);
});
def('date_format_str', 2, 2, ([s, fmt]) => {
  if (!isStr(s) || !isStr(fmt)) return null;
  const ms = strToMillis(s);
  return ms === null ? null : millisToStr(ms, fmt);
});
def('weekday_millis', 1, 2, ([ms]) => (isNum(ms) ? weekdayMillis(ms) : null));
def('weekday_str', 1, 1, str1((s) => {
  const ms = strToMillis(s);
  return ms === null ? null : weekdayMillis(ms);
}));
